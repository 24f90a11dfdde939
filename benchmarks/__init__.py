"""Performance measurements for ngpu_lite: `python -m benchmarks.run` (or `make bench`)."""
