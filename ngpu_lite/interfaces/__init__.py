"""Layer 5, interfaces: the command line (`cli`), the state explorer (`explore`), sweeps on Ray
(`sweep`) and the book's drawn pictures of the architecture (`diagrams`)."""
