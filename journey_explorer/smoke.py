"""``journey-explorer --smoke-test``: prove an installation (or the frozen bundle) works, offline.

With a display (DISPLAY or WAYLAND_DISPLAY), first checks that Qt opens a real window there (the
platform plugin and its system libraries); without one it says that only offscreen was checked.
Then opens the main window offscreen on a fresh demo project, computes every view once, exports one PNG
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
    real, message = check_real_platform()
    print(message, file=sys.stdout if real else sys.stderr, flush=True)
    if real is False:
        print("smoke test FAILED: the app cannot open a window on this display", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
        return 1
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


def check_real_platform(environ=os.environ) -> tuple[bool | None, str]:
    """With a display (DISPLAY or WAYLAND_DISPLAY set): start Qt on the real platform in a child
    process (Qt aborts the process when its plugin cannot load) and say which platform answered.
    Without one: (None, "offscreen only"). (False, why) when a window could not be opened."""
    import subprocess

    from journey_explorer.platform_check import display_problem
    display = environ.get("WAYLAND_DISPLAY") or environ.get("DISPLAY")
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if not display or chosen in ("offscreen", "minimal"):
        why = f"QT_QPA_PLATFORM={chosen}" if chosen else "no DISPLAY or WAYLAND_DISPLAY"
        return None, f"platform: offscreen only ({why}; the real window was not checked)"
    problem = display_problem(environ)
    if problem:
        return False, problem
    if getattr(sys, "frozen", False):     # a bundle cannot run "python -c": the libraries were checked
        return True, f"platform: the window's libraries load (display {display})"
    probe = ("from PySide6.QtWidgets import QApplication, QWidget; app = QApplication(['probe']); "
             "w = QWidget(); w.show(); app.processEvents(); print(app.platformName())")
    try:
        done = subprocess.run([sys.executable, "-c", probe], env=dict(environ), capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"platform: Qt did not start on display {display}: {exc}"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no message"]
        said = next((line for line in lines if "could not" in line.lower()), lines[-1])
        return False, f"platform: Qt could not open a window on display {display}: {said.strip()}"
    return True, f"platform: {done.stdout.strip() or 'unknown'} on display {display} opens a window"


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
