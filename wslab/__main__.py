"""``python -m wslab`` is the ``wslab`` command."""

from .cli import main

raise SystemExit(main())
