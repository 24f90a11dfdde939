"""`python -m ngpu_lite train | evaluate | predict`."""

from .interfaces.cli import main

raise SystemExit(main())
