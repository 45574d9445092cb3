"""First imports started on threads of their own: pyqtgraph while a project loads, the views'
analysis modules once it is open.

Importing pyqtgraph takes ~0.4-0.8 s (it copies every Qt class into its own modules and loads all its
items). The window leaves it to the first chart (``charts.plotting``), so it used to run on the GUI
thread once the project had loaded: at 10M events opening a project froze the window for that long.
Started on a thread while a slow load runs (``MainWindow.reload``), it is done by the time the first
chart needs it (a 10M load takes seconds); the GUI thread keeps answering meanwhile, as the threads
take turns with the GIL. Its
import creates no Qt object that belongs to a thread (the views' workers import the chart renderers,
pyqtgraph with them, too). This module itself imports nothing heavy.
"""
from __future__ import annotations

import importlib
import sys
import threading

PLOTTING = "journey_explorer.charts.plotting"


_background_import: threading.Thread | None = None


def plotting_imported() -> bool:
    """Whether pyqtgraph (``charts.plotting``) is imported already, whole: making a chart is then quick.
    A module being imported is in ``sys.modules`` from its first line on; that is not imported yet."""
    module = sys.modules.get(PLOTTING)
    return module is not None and not getattr(getattr(module, "__spec__", None), "_initializing", False)


def import_plotting_in_background() -> threading.Thread | None:
    """Start importing ``charts.plotting`` (pyqtgraph) on a daemon thread, unless it is imported
    already; the thread, or None."""
    global _background_import
    if PLOTTING in sys.modules:         # imported, or being imported
        return None
    _background_import = thread = threading.Thread(target=_import_plotting, name="chart-import", daemon=True)
    thread.start()
    return thread


# Longest wait for the background import (it takes ~0.5 s; a cold disk on a slow laptop, a few seconds).
PLOTTING_WAIT_S = 20.0


def wait_for_plotting(timeout_s: float = PLOTTING_WAIT_S) -> bool:
    """Let a background import of pyqtgraph finish before the GUI thread makes a chart: pyqtgraph copies
    every Qt class's attributes while it imports, and Qt used on the GUI thread meanwhile could crash the
    process (a segfault in pyqtgraph's ``_copy_attrs`` was seen when a window's first chart was made
    during it). Only the window's first chart can wait, and for what remains of ~0.5 s. An import stuck
    for ``timeout_s`` (say, waiting on a module the GUI thread is importing) no longer freezes the window
    for ever: the chart then imports pyqtgraph itself (Python's import locks detect a deadlock between the
    two imports, and the view says the chart failed). Whether the import is done."""
    thread = _background_import
    if thread is not None and thread.is_alive():
        thread.join(timeout_s)
        return not thread.is_alive()
    return True


def import_analyses_in_background() -> threading.Thread:
    """Start importing every view's analysis module on a daemon thread (``registry.import_analyses``):
    a tab shown the first time then finds its module imported instead of importing it on the GUI thread."""
    thread = threading.Thread(target=_import_analyses, name="analysis-import", daemon=True)
    thread.start()
    return thread


def _import_analyses() -> None:
    from journey_explorer.state.registry import import_analyses
    try:
        import_analyses()
    except Exception:  # noqa: BLE001 - the view imports its module again on the GUI thread and says what failed
        pass


def _import_plotting() -> None:
    try:
        importlib.import_module(PLOTTING)
    except Exception:  # noqa: BLE001 - the first chart imports it again on the GUI thread and says what failed
        pass
