"""``python -m verbatim`` is the same as the ``verbatim`` command."""

from verbatim.cli import main

raise SystemExit(main())
