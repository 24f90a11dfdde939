"""`python -m ngpu_lite train | evaluate | predict`."""

from .cli import main

raise SystemExit(main())
