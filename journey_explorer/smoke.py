"""``journey-explorer --smoke-test``: prove an installation (or the frozen bundle) works, offline.

Opens the main window offscreen on a fresh demo project, computes every view once, exports one PNG
and one PPTX deck into a temporary folder, checks them, and exits 0 -- or 1 with the reason. It
touches none of the user's files: the demo project and the settings live in the temporary folder.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

TIMEOUT_SECONDS = 120


class SmokeFailure(Exception):
    pass


def run_smoke_test(keep: bool = False) -> int:
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="journey-smoke-"))
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["JOURNEY_EXPLORER_DATA_DIR"] = str(folder / "data")
    os.environ["JOURNEY_EXPLORER_SETTINGS_DIR"] = str(folder / "settings")
    try:
        for line in _steps(folder, started):
            print(line, flush=True)
    except Exception as exc:  # noqa: BLE001 - the smoke test reports any failure as its result
        print(f"smoke test FAILED: {exc}", file=sys.stderr)
        if not isinstance(exc, SmokeFailure):
            traceback.print_exc()
        return 1
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"smoke test passed in {time.perf_counter() - started:.1f} s")
    return 0


def _steps(folder: Path, started: float):
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from journey_explorer.export.render import quiet_offscreen_warnings
    quiet_offscreen_warnings()
    app = QApplication.instance() or QApplication(["journey-explorer"])
    from journey_explorer.demo_project import ensure_demo_project
    from journey_explorer.ui.main_window import MainWindow
    yield f"Qt started in {time.perf_counter() - started:.1f} s"

    clock = time.perf_counter()
    project = ensure_demo_project()
    demo_seconds = time.perf_counter() - clock
    yield f"wrote the demo project in {demo_seconds:.1f} s"
    window = MainWindow(project)
    window.resize(1440, 900)
    window.show()
    _wait(app, lambda: window.explorer.log is not None and not window.loader.busy, "the demo project to load")
    yield (f"opened {project.name}: {len(window.explorer.log):,} events; cold start "
           f"{seconds_since_launch() - demo_seconds:.1f} s (launch to main window loaded, not counting "
           "writing the demo project)")

    for view in window.views:
        clock = time.perf_counter()
        window.show_view(view.key)
        _wait(app, lambda v=view: v.result is not None and not v.runner.busy, f"the {view.title} view")
        if view.banner.is_error:
            raise SmokeFailure(f"the {view.title} view failed: {view.banner.text()}")
        yield f"  {view.title}: computed and drawn in {time.perf_counter() - clock:.2f} s"

    png = window.export_to(window.view("flows"), folder / "flows.png")
    image = QImage(str(png))
    if (image.width(), image.height()) != (1920, 1080):
        raise SmokeFailure(f"the exported PNG is {image.width()}x{image.height()}, not 1920x1080")
    yield f"exported {png.name} ({png.stat().st_size // 1024} kB)"

    from pptx import Presentation

    from journey_explorer.export.report import write_report
    report = write_report(project, folder / "report.pptx")
    slides = len(Presentation(str(report.path)).slides)
    if slides != len(report.slides) + 1:
        raise SmokeFailure(f"the deck has {slides} slides, expected {len(report.slides) + 1}")
    yield f"exported {report.path.name} ({slides} slides)"
    window.close()


def seconds_since_launch() -> float:
    """Seconds since this process started: from the kernel's clock on Linux (so the interpreter's and
    the bundle's own start-up count), else since our package was first imported."""
    try:
        with open("/proc/self/stat") as handle:
            started_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        return uptime - started_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        from journey_explorer import STARTED_AT
        return time.perf_counter() - STARTED_AT


def _wait(app, condition, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise SmokeFailure(f"timed out after {TIMEOUT_SECONDS} s waiting for {what}")
        app.processEvents()
        time.sleep(0.01)
