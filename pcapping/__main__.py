"""``python -m pcapping``."""

from pcapping.cli import main

raise SystemExit(main())
