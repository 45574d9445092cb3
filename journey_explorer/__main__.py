"""The entry point of every command line: the ``journey-explorer`` command, ``python -m
journey_explorer``, ``main.py`` and the bundle.

The commands' own Ctrl+C handling (``cli.run_guarded``) starts only once their modules are loaded,
which takes a second or more; Ctrl+C before that ends here with one line and exit code 130, not a
traceback. This module imports nothing of the app until it is inside the guard.

Opening the app (no arguments, or just a ``.journey`` file) skips the CLI module: its parser's
imports (numpy among them, ~0.15 s) would come before anything is on screen (issue 16).
"""
import sys

INTERRUPTED = "journey-explorer: interrupted before the command started; nothing was changed"


def main(argv=None) -> int:
    try:
        arguments = list(sys.argv[1:] if argv is None else argv)
        if opens_the_app(arguments):
            from journey_explorer.app import main as app_main
            return app_main(arguments)
        from journey_explorer.cli import main as cli_main
        return cli_main(argv)
    except KeyboardInterrupt:       # while the modules loaded (a command's own interrupts end in the CLI)
        return interrupted()


def opens_the_app(arguments: list[str]) -> bool:
    """Whether the command line only opens the app (which the CLI would hand to ``app.main``): no
    arguments, or a project file (no command is named ``*.journey``).

    >>> opens_the_app([]), opens_the_app(["acme.journey"]), opens_the_app(["info", "acme.journey"])
    (True, True, False)
    """
    return not arguments or (len(arguments) == 1 and arguments[0].endswith(".journey"))


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
