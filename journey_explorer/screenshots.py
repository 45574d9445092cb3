"""Render every view of the demo project offscreen: ``python -m journey_explorer.screenshots OUTDIR [--docs]``."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def render_all(out_dir: Path, width: int = 1600, height: int = 1000, project: Path | None = None) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("JOURNEY_EXPLORER_SETTINGS_DIR", tempfile.mkdtemp(prefix="journey-settings-"))
    from PySide6.QtWidgets import QApplication

    from journey_explorer.demo_project import ensure_demo_project
    from journey_explorer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out_dir.mkdir(parents=True, exist_ok=True)
    # A scratch copy: the board screenshot pins charts, which must not land in the user's demo project.
    scratch = Path(tempfile.mkdtemp(prefix="journey-screens-")) / "demo.journey"
    shutil.copy(project or ensure_demo_project(), scratch)
    window = MainWindow(scratch)
    window.resize(width, height)
    window.show()
    _settle(app, window.loader)
    written = []
    for index, view in enumerate(window.views):
        window.show_view(view.key)
        _settle(app, view.runner)
        _until_drawn(app, view)
        path = out_dir / f"{index + 1:02d}-{view.title.lower().replace(' ', '-')}.png"
        window.grab().save(str(path))
        written.append(path)
    written.append(_board_screenshot(app, window, out_dir / "11-board.png"))
    window.toggle_presentation(True)
    flows = window.show_view("flows")
    _settle(app, flows.runner)
    _until_drawn(app, flows)
    path = out_dir / "10-presentation-mode-flows.png"
    window.grab().save(str(path))
    written.append(path)
    window.close()
    return written


def _board_screenshot(app, window, path: Path) -> Path:
    """Two pins with notes, the second selected, as a workshop would leave the board."""
    notes = {
        "flows": ("Half the trials start from ads", "Ad Click leads; the pricing page is the second most common step",
            "Test a direct-to-signup landing page"),
        "stuck": ("Users stall during setup", "Connect Data Source: many failing users repeat it and leave",
            "Add a guided connector set-up"),
    }
    for key in notes:
        view = window.show_view(key)
        _settle(app, view.runner)
        window.pin_view(view)
    window.tabs.setCurrentWidget(window.board)
    app.processEvents()
    for row, (hypothesis, observation, action) in enumerate(notes.values()):
        window.board.list.setCurrentRow(row)
        for field, text in zip(("hypothesis", "observation", "action"), (hypothesis, observation, action)):
            window.board.note_edits[field].setPlainText(text)
        window.board.save_notes()
    _settle(app, window.board.preview_runner)         # the selected pin is drawn on a worker thread
    window.grab().save(str(path))
    return path


def _settle(app, runner) -> None:
    """Let queued work finish: events, the runner's task, then the signals it sent back."""
    for _ in range(3):
        app.processEvents()
        runner.wait(60_000)
        app.processEvents()


def _until_drawn(app, view, timeout_s: float = 60) -> None:
    """Let the view draw its result: a chart is drawn a part per turn of the event loop, then its table
    and its paint (``AnalysisView._drawing_turns``), each on a short timer."""
    end = time.monotonic() + timeout_s
    while view.result is not None and view.drawn_result is not view.result and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.002)
    app.processEvents()


def shrink_for_docs(path: Path, width: int = 1200) -> None:
    """README-sized: scaled to ``width``, colours kept exact (a palette would shift the heatmaps)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage
    image = QImage(str(path)).scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
    image.convertToFormat(QImage.Format.Format_RGB888).save(str(path), "PNG", 9)


def main(argv: list[str] | None = None) -> int:
    """``OUTDIR [--docs]``: with --docs, pictures are shrunk for the README (docs/screenshots)."""
    argv = sys.argv[1:] if argv is None else argv
    paths = [a for a in argv if not a.startswith("--")]
    out_dir = Path(paths[0] if paths else "screenshots")
    for path in render_all(out_dir):
        if "--docs" in argv:
            shrink_for_docs(path)
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
