"""The entry point of every command line: the ``journey-explorer`` command, ``python -m
journey_explorer``, ``main.py`` and the bundle.

The commands' own Ctrl+C handling (``cli.run_guarded``) starts only once their modules are loaded,
which takes a second or more; Ctrl+C before that ends here with one line and exit code 130, not a
traceback. This module imports nothing of the app until it is inside the guard.
"""
import sys

INTERRUPTED = "journey-explorer: interrupted before the command started; nothing was changed"


def main(argv=None) -> int:
    try:
        from journey_explorer.cli import main as cli_main
        return cli_main(argv)
    except KeyboardInterrupt:       # while the modules loaded (a command's own interrupts end in the CLI)
        return interrupted()


def interrupted() -> int:
    """Say so once, ignore any further Ctrl+C (it must not cut the line short), exit code 130."""
    import signal
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:              # not the main thread
        pass
    try:
        print(INTERRUPTED, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    return 130


if __name__ == "__main__":
    raise SystemExit(main())
