# nbgrader settings for the Neural GPU course (assignments.build copies this file into every course
# folder it sets up).
c = get_config()  # noqa: F821  (nbgrader provides get_config)

c.CourseDirectory.course_id = "neural-gpu"
# the training cells run for a minute or two on a laptop CPU when a notebook is handed in without
# the file that keeps its training results (a2's arms.pt, a4's trained.pt; a3's ablation, about
# three minutes without its ablation.json); with the file they read the results back in seconds
c.Execute.timeout = 600
# what replaces a solution in the student version
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
