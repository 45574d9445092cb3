"""Render every view of the demo project offscreen: ``python -m journey_explorer.screenshots OUTDIR``."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def render_all(out_dir: Path, width: int = 1600, height: int = 1000, project: Path | None = None) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("JOURNEY_EXPLORER_SETTINGS_DIR", tempfile.mkdtemp(prefix="journey-settings-"))
    from PySide6.QtWidgets import QApplication

    from journey_explorer.demo_project import ensure_demo_project
    from journey_explorer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out_dir.mkdir(parents=True, exist_ok=True)
    window = MainWindow(project or ensure_demo_project())
    window.resize(width, height)
    window.show()
    _settle(app, window.loader)
    written = []
    for index, view in enumerate(window.views):
        window.tabs.setCurrentIndex(index)
        _settle(app, view.runner)
        path = out_dir / f"{index + 1:02d}-{view.title.lower().replace(' ', '-')}.png"
        window.grab().save(str(path))
        written.append(path)
    window.toggle_presentation(True)
    window.tabs.setCurrentIndex(1)
    _settle(app, window.views[1].runner)
    path = out_dir / "10-presentation-mode-flows.png"
    window.grab().save(str(path))
    written.append(path)
    window.close()
    return written


def _settle(app, runner) -> None:
    """Let queued work finish: events, the runner's task, then the signals it sent back."""
    for _ in range(3):
        app.processEvents()
        runner.wait(60_000)
        app.processEvents()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0] if argv else "screenshots")
    for path in render_all(out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
