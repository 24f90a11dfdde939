# nbgrader settings for the Neural GPU course (copied into every course folder by assignments.build).
c = get_config()  # noqa: F821  (nbgrader provides get_config)

c.CourseDirectory.course_id = "neural-gpu"
# training cells in assignments 3 and 4 run for up to a minute or two on a laptop CPU
c.Execute.timeout = 600
# students work in the repository's virtual environment: ngpu_lite is importable there
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
