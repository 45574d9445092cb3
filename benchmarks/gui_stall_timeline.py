"""What the GUI thread did during each stall: bench_gui_latency's path (open a project, show every
view) with a timeline.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_stall_timeline.py --project /tmp/prof10m.journey

A 10 ms timer on the GUI thread finds the stalls (ticks more than --over ms apart). Around them it
lists what ran on the GUI thread: the view machinery's steps (canvas made, spec read, a chart part
drawn, the table swapped in, a plot painted), garbage collections, and how many worker threads were
busy before and after. A stall with nothing listed was spent outside Python: waiting for the GIL
held by a worker (``--events`` then shows the Qt event it happened in; ``py-spy record --gil`` or a
heartbeat thread names the worker's call), or C++ work (layout, text) in an event. ``--events``
times every Qt event on the GUI thread (QApplication.notify in Python: slower, a diagnosis only).
Found with it (issue 16, third GUI pass): view options searching the log on the GUI thread (the
funnel's steps, the north star's critical event: seconds at 10M), canvases made beside the
computing worker (4x slower), pandas hashing a million strings in the stuck worker (~0.25 s GIL).
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("JOURNEY_EXPLORER_SETTINGS_DIR", tempfile.mkdtemp())
sys.path.insert(0, str(Path(__file__).parent))

GUI = threading.main_thread().ident


class Timeline:
    """Stalls, and what the GUI thread did: (start, seconds, what)."""

    def __init__(self):
        self.stalls: list[tuple[float, float, str]] = []
        self.spans: list[tuple[float, float, str]] = []
        self.step = "start"

    def span(self, start: float, what: str) -> None:
        if threading.get_ident() == GUI:
            self.spans.append((start, time.perf_counter() - start, what))

    def timed(self, owner, name: str) -> None:
        """Record every call of ``owner.name`` on the GUI thread."""
        original = getattr(owner, name)

        def timed_call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.span(start, f"{name} {type(args[0]).__name__ if args else ''}")
        setattr(owner, name, timed_call)

    def report(self, over_s: float) -> None:
        for start, end, step in self.stalls:
            if end - start < over_s:
                continue
            print(f"--- {1000 * (end - start):.0f} ms during '{step}'")
            for s, seconds, what in sorted(self.spans):
                if s < end and s + seconds > start and seconds >= 0.002:
                    print(f"    +{1000 * (s - start):5.0f} ms  {1000 * seconds:5.0f} ms  {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", required=True)
    parser.add_argument("--views", help="comma-separated view keys (default: every view, in tab order)")
    parser.add_argument("--over", type=float, default=80, help="list stalls longer than this (ms)")
    parser.add_argument("--events", action="store_true", help="time every Qt event on the GUI thread too")
    args = parser.parse_args()
    timeline = Timeline()
    from PySide6.QtCore import QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    class EventTimingApp(QApplication):
        def notify(self, receiver, event):
            start = time.perf_counter()
            try:
                return super().notify(receiver, event)
            finally:
                timeline.span(start, f"Qt event {event.type().name} to {type(receiver).__name__}")

    app = EventTimingApp([]) if args.events else QApplication([])
    pool = QThreadPool.globalInstance()
    last, busy = [time.perf_counter()], [0]

    def tick() -> None:
        now, workers = time.perf_counter(), pool.activeThreadCount()
        if now - last[0] > 0.06:
            timeline.stalls.append((last[0], now, f"{timeline.step}; workers {busy[0]} -> {workers}"))
        last[0], busy[0] = now, workers
    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    collecting = {}
    gc.callbacks.append(lambda phase, info: collecting.update(start=time.perf_counter()) if phase == "start"
                        else timeline.span(collecting.get("start", time.perf_counter()),
                                           f"gc of generation {info['generation']}"))

    import pyqtgraph as pg
    from bench_gui_latency import drawn, run_until, settle

    from journey_explorer.state.registry import VIEWS
    from journey_explorer.ui.main_window import MainWindow
    from journey_explorer.ui.views.base import AnalysisView
    from journey_explorer.ui.widgets import FrameModel
    for name in ("spec_to_compute", "_make_chart", "_draw_part", "_show_table", "shown"):
        timeline.timed(AnalysisView, name)
    timeline.timed(MainWindow, "show_view")
    timeline.timed(MainWindow, "_loaded")
    timeline.timed(FrameModel, "show_table")
    timeline.timed(pg.GraphicsView, "paintEvent")

    window = MainWindow(Path(args.project))
    window.resize(1600, 1000)
    timeline.step = "open"
    window.show()
    run_until(app, lambda: not window.loader.busy and window.explorer.log is not None and drawn(window.current_view()))
    settle(app, 0.2)
    wanted = set(args.views.split(",")) if args.views else None
    for entry in VIEWS:
        if wanted is None or entry.key in wanted:
            timeline.step = f"switch to {entry.key}"
            view = window.show_view(entry.key)
            run_until(app, lambda view=view: drawn(view))
            settle(app, 0.2)
    timeline.step = "close"
    window.close()
    timeline.report(args.over / 1000)


if __name__ == "__main__":
    main()
