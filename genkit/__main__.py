"""``python -m genkit``: the same command as the ``genkit`` console script."""

from genkit.cli import main

raise SystemExit(main())
