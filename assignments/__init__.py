"""Course assignments for the Neural GPU book: nbgrader sources, student release and autograder helpers."""
