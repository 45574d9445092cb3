"""``python -m journey_explorer.cli``: the same as the ``journey-explorer`` command."""
from journey_explorer.cli import main

if __name__ == "__main__":      # importing it (a bundler collecting submodules) must not run a command
    raise SystemExit(main())
