"""Start Journey Explorer from a source checkout or the frozen bundle: ``python main.py [PROJECT]``.

The same entry point as the ``journey-explorer`` command: no command opens the app, and the
commands (import, report, export, ...) work in the bundle too. A Ctrl+C while the modules load
ends with one line and exit code 130 (``journey_explorer.__main__``).
"""
from journey_explorer.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
