"""Start the desktop app: ``journey-explorer [PROJECT]``. Without a project: the built-in demo on a first
run (nothing opened before), else the start page with the recent projects."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from journey_explorer.memory import keep_freed_memory

ON_WINDOW_SHOWN = None   # benchmarks/bench_startup.py: called with "placeholder", then "window", once on screen


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="journey-explorer", description="Open the Journey Explorer app.")
    parser.add_argument("project", nargs="?",
                        help="a .journey project (default: the demo on a first run, else the start page)")
    parser.add_argument("--smoke-test", action="store_true",
                        help="check this installation offscreen (every view, a PNG and a deck) and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    keep_freed_memory()             # analyses at 10M events reuse their temporaries' pages
    if args.smoke_test:
        from journey_explorer.smoke import run_smoke_test
        return run_smoke_test()
    problem = _display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Journey Explorer")
    install_error_boundary(app)
    from journey_explorer.tasks import collect_on_gui_thread
    collect_on_gui_thread()         # before the early read's thread starts: no collection there
    # Something on screen within a blink: the window's own modules (charts, pandas, every view) take
    # a second or more to import, so a plain placeholder shows first and the window replaces it.
    placeholder = _placeholder(args.project)
    if ON_WINDOW_SHOWN is not None:
        ON_WINDOW_SHOWN("placeholder")

    from journey_explorer.domain import JourneyError
    from journey_explorer.ui.settings import load_settings

    settings = load_settings()
    data_file = args.project if args.project and is_data_file(args.project) else None
    try:
        # A data file (journey-explorer events.csv) opens as a drop of it would: the app as it would
        # start without it, then "New project from this file" or "Add to <project>".
        project = _project_to_open(None if data_file else args.project, settings)       # None: the start page
        # Read while the window's modules import (~0.5 s) and it builds, instead of after.
        early_load = _early_load(project) if project else None

        from journey_explorer.ui.icon import app_icon
        from journey_explorer.ui.main_window import MainWindow
        app.setWindowIcon(app_icon())
        window = MainWindow(project, settings, early_load=early_load)
    except JourneyError as exc:
        from journey_explorer.ui.widgets import message_box
        message_box(None, QMessageBox.Icon.Critical, "Journey Explorer", str(exc))    # the path, literally
        return 1
    finally:
        placeholder.close()            # whatever happened, the placeholder does not outlive start-up
    if not window.settings.window_geometry:
        screen = window.screen().availableGeometry()      # a 1280×720 projector gets all of itself, no more
        window.resize(min(1440, screen.width()), min(900, screen.height()))
    window.show()
    if ON_WINDOW_SHOWN is not None:
        ON_WINDOW_SHOWN("window")
    if data_file:
        from PySide6.QtCore import QTimer
        QTimer.singleShot(0, lambda: window.import_new_file(str(Path(data_file).resolve())))
    return app.exec()


SQLITE_HEADER = b"SQLite format 3\x00"


def is_data_file(path: str) -> bool:
    """An existing, non-empty file that is not a project (a SQLite database, or anything named
    ``.journey``): events to import.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as f:
    ...     _ = f.write(b"user,event,time\\n")
    >>> is_data_file(f.name), is_data_file(f.name + ".missing")
    (True, False)
    >>> os.remove(f.name)
    """
    file = Path(path)
    if not file.is_file() or file.suffix.lower() == ".journey" or file.stat().st_size == 0:
        return False        # a missing, empty or damaged project: opening it as one says what is wrong
    try:
        with open(file, "rb") as handle:
            return handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER
    except OSError:
        return False


def _project_to_open(project: str | None, settings) -> Path | None:
    """The project named on the command line; else the built-in demo on a first run (nothing opened
    before: something to explore at once), written if it is missing; else None (the start page)."""
    if project:
        return Path(project)
    if settings.recent_projects:
        return None
    from journey_explorer.demo_project import ensure_demo_project
    return ensure_demo_project()


def _early_load(project: Path):
    from journey_explorer.ui.project_loader import EarlyLoad
    return EarlyLoad(project)


def _display_problem() -> str | None:
    """Why Qt could not open a window here (missing xcb libraries: which packages), else None."""
    from journey_explorer.platform_check import display_problem
    return display_problem()


def install_error_boundary(app):
    """From now on an exception escaping a slot or a thread is a message on screen (its traceback in
    the log file), not a console traceback with the window carrying on as if the action had worked."""
    from journey_explorer.ui.errors import ErrorBoundary
    boundary = ErrorBoundary(app)
    boundary.install()
    return boundary


def _placeholder(project: str | None):
    """A small window saying what is opening, painted at once (Qt widgets only, no app modules)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QLabel

    doing = f"Opening {Path(project).name}…" if project else "Starting…"
    label = QLabel(f"Journey Explorer\n\n{doing}")
    label.setWindowTitle("Journey Explorer")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("QLabel { font-size: 18pt; padding: 48px; }")
    label.resize(560, 300)
    label.show()
    QApplication.processEvents()          # paint it before the long imports
    return label


if __name__ == "__main__":
    raise SystemExit(main())
