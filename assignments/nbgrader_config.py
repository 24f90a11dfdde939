# nbgrader settings for the Neural GPU course (assignments.build copies this file into every course
# folder it sets up).
c = get_config()  # noqa: F821  (nbgrader provides get_config)

c.CourseDirectory.course_id = "neural-gpu"
# the training cells of assignments 2 and 4 run for a minute or two on a laptop CPU, a3's ablation
# about three minutes when it is handed in without its ablation.json
c.Execute.timeout = 600
# what replaces a solution in the student version
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
