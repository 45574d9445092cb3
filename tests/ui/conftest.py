"""UI tests: fail on leaked top-level windows or background tasks still running."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication


@pytest.fixture(scope="session", autouse=True)
def _pyqtgraph_imported_before_the_first_window(qapp):
    """Import pyqtgraph (``charts.plotting``) on the main thread before any window opens.

    A window whose process has not imported it yet starts importing it on a thread
    (``charts.warm_up``), and that import can crash the process (a segfault in pyqtgraph's
    ``_copy_attrs`` while the GUI thread makes its first chart; seen under pytest-xdist, where a
    worker may start on window tests). In a serial run earlier tests have always imported it by
    then: this gives every worker those conditions. Start-up order itself is tested in fresh
    processes (test_fast_start, test_open_without_pandas, the smoke test)."""
    import importlib

    from journey_explorer.charts.warm_up import PLOTTING
    importlib.import_module(PLOTTING)


@pytest.fixture(autouse=True)
def _no_leaks(qapp):
    before = {id(w) for w in QApplication.topLevelWidgets()}
    yield
    assert QThreadPool.globalInstance().waitForDone(10_000), "a background task is still running"
    QApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets()
              if id(w) not in before and w.isVisible() and not w.inherits("QMenu")]
    assert not leaked, f"top-level widgets left open: {leaked}"


@pytest.fixture
def calls_on_gui_thread(monkeypatch):
    """``record(module, name)`` wraps ``module.name``; the list it returns gets, per call, whether
    the call ran on the GUI (main) thread."""
    def record(module, name: str) -> list[bool]:
        seen, original = [], getattr(module, name)

        def recording(*args, **kwargs):
            seen.append(threading.current_thread() is threading.main_thread())
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, recording)
        return seen
    return record


@pytest.fixture
def open_window(qtbot):
    """Open the main window on a project, shown at a laptop size, once the project has loaded."""
    from journey_explorer.ui.main_window import MainWindow
    opened = []

    def open_on(path, size=(1600, 1000)):
        window = MainWindow(path)
        qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        qtbot.waitUntil(lambda: window.explorer.log is not None and not window.loader.busy, timeout=30_000)
        opened.append(window)
        return window

    yield open_on
    for window in opened:
        window.close()


@pytest.fixture
def settle_side_checks(qtbot):
    """Wait for what a window starts after its first view is drawn (the tracking check and the
    segment box's completions): they read the project file, so a test that writes it or reads the
    completions waits for them."""
    def settle(window) -> None:
        qtbot.waitUntil(lambda: window.pending_checks is None and not window.suggester.busy
                        and not window.hygiene.runner.busy, timeout=30_000)
    return settle
