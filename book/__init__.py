"""Builds the chapter notebooks, with their stored outputs, into a static HTML site (`make book`)."""
