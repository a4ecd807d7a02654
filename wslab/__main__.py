"""``python -m wslab`` is the ``wslab`` command."""

from .cli import main

__all__: list[str] = []

raise SystemExit(main())
