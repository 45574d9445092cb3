"""``python -m journey_explorer.cli``: the same as the ``journey-explorer`` command."""
from journey_explorer.cli import main

raise SystemExit(main())
