"""pyqtgraph's background import: a chart never made while it runs (charts.warm_up)."""
from __future__ import annotations

import threading
import time
import types

from journey_explorer.charts import warm_up


def test_a_module_still_importing_is_not_imported(monkeypatch):
    half = types.ModuleType(warm_up.PLOTTING)
    half.__spec__ = types.SimpleNamespace(_initializing=True)     # what importlib sets until the last line ran
    monkeypatch.setitem(__import__("sys").modules, warm_up.PLOTTING, half)
    assert not warm_up.plotting_imported()
    half.__spec__._initializing = False
    assert warm_up.plotting_imported()


def test_the_first_chart_waits_for_the_background_import(monkeypatch):
    finished = threading.Event()

    def slow_import():
        time.sleep(0.2)
        finished.set()
    thread = threading.Thread(target=slow_import, daemon=True)
    monkeypatch.setattr(warm_up, "_background_import", thread)
    thread.start()
    warm_up.wait_for_plotting()
    assert finished.is_set()
    warm_up.wait_for_plotting()           # done: returns at once


def test_a_stuck_background_import_does_not_freeze_the_window_for_ever(monkeypatch):
    never = threading.Event()
    thread = threading.Thread(target=never.wait, daemon=True)
    monkeypatch.setattr(warm_up, "_background_import", thread)
    thread.start()
    started = time.perf_counter()
    try:
        assert warm_up.wait_for_plotting(timeout_s=0.1) is False
        assert time.perf_counter() - started < 5
    finally:
        never.set()
