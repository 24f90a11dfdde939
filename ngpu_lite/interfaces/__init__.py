"""Layer 5, interfaces: the command line (`cli`), the state explorer (`explore`) and sweeps on Ray
(`sweep`)."""
