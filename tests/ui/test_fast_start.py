"""Issue 16's start-up order: the project is read from launch (``EarlyLoad``) while the window's
modules import, those modules leave pyqtgraph to the first chart, and each view is built when its
tab is first opened."""
from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

from journey_explorer.state.registry import VIEWS
from journey_explorer.ui import main_window as main_window_module
from journey_explorer.ui.main_window import MainWindow
from journey_explorer.ui.project_loader import EarlyLoad, load_project_log
from tests.ui.test_workshop import drawn, settled, small_project


def _shown(qtbot, window: MainWindow) -> MainWindow:
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    settled(qtbot, window)
    return window


def test_the_window_takes_the_early_read_instead_of_reading_again(qtbot, demo_project_path, monkeypatch):
    early = EarlyLoad(demo_project_path)
    early.result()                        # done before the window is made, as at a normal launch

    def read_again(*_args, **_kwargs):
        raise AssertionError("the window read the project again")
    monkeypatch.setattr(main_window_module, "load_project_log", read_again)
    window = _shown(qtbot, MainWindow(demo_project_path, early_load=early))
    assert window.explorer.log is early.result()["log"] and window.pages.currentWidget() is window.work_page
    assert window.early_load is None      # used once: a later reload reads the file
    window.close()


def test_an_early_read_finds_what_the_loader_finds(demo_project_path):
    early, direct = EarlyLoad(demo_project_path).result(), load_project_log(demo_project_path, lambda *_: None)
    assert early["path"] == direct["path"] and len(early["log"]) == len(direct["log"]) > 0
    assert early["info"] == direct["info"] and early["segments"] == direct["segments"]


def test_an_early_read_that_fails_is_the_windows_message(qtbot, tmp_path):
    missing = tmp_path / "gone.journey"
    window = MainWindow(missing, early_load=EarlyLoad(missing))
    qtbot.addWidget(window)
    window.show()
    # the start page comes back with the message (it sat on "Opening gone…")
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.start_page, timeout=30_000)
    assert "gone.journey" in window.start_page.problem.text() and window.explorer.log is None
    window.close()


def test_an_early_read_of_another_project_is_not_used(qtbot, tmp_path, demo_project_path):
    acme = small_project(tmp_path, "acme")
    window = _shown(qtbot, MainWindow(acme, early_load=EarlyLoad(demo_project_path)))
    assert window.explorer.log.event_names != () and window.project_path == acme
    assert len(window.explorer.log) < 100          # acme's few events, not the demo's
    window.close()


def test_only_the_opened_tab_is_built(qtbot, demo_project_path):
    window = _shown(qtbot, MainWindow(demo_project_path))
    assert [view.key for view in window.view_by_key.built()] == ["overview"]
    assert "funnel" in window.view_by_key and not any(v.key == "funnel" for v in window.view_by_key.built())
    window.tabs.setCurrentIndex([entry.key for entry in VIEWS].index("funnel"))   # as a click on its tab
    opened = window.current_view()
    assert opened is not None and opened.key == "funnel" and opened is window.view("funnel")
    drawn(qtbot, opened)
    assert opened.chart.isVisible() and window.tabs.count() == len(window.views) + 1      # + the board
    window.close()


def test_the_windows_own_modules_do_not_import_pyqtgraph():
    code = "import sys, journey_explorer.ui.main_window; print('pyqtgraph' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_opening_the_app_skips_the_command_line_parser():
    from journey_explorer.__main__ import opens_the_app
    assert opens_the_app([]) and opens_the_app(["acme.journey"])
    assert not opens_the_app(["info", "acme.journey"]) and not opens_the_app(["--smoke-test"])
    code = ("import sys, journey_explorer.app as app\n"
            "app.main = lambda argv: print(argv, 'journey_explorer.cli' in sys.modules) or 0\n"
            "from journey_explorer.__main__ import main\n"
            "sys.exit(main(['acme.journey']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['acme.journey'] False"


def test_pyqtgraph_can_be_imported_on_a_thread_while_a_project_loads():
    code = ("import sys, journey_explorer.ui.main_window\n"
            "from journey_explorer.charts.warm_up import import_plotting_in_background\n"
            "thread = import_plotting_in_background()\n"
            "thread.join(120)\n"
            "print(thread.name, 'pyqtgraph' in sys.modules, import_plotting_in_background())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["chart-import", "True", "None"]     # once imported, not again


class _ChartPaints(QObject):
    """Whether the current view's chart of ``window`` has been painted (an application-wide event filter)."""

    def __init__(self):
        super().__init__()
        self.window: MainWindow | None = None
        self.chart_painted = False

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint and self.window is not None and isinstance(watched, QWidget):
            view = self.window.current_view()
            chart = view._chart if view is not None else None
            if chart is not None and (watched is chart or chart.isAncestorOf(watched)):
                self.chart_painted = True
        return False


def test_the_side_checks_start_once_the_first_view_has_painted(qtbot, qapp, demo_project_path, monkeypatch):
    paints, painted_when_started = _ChartPaints(), []
    original = MainWindow._start_side_checks

    def start_side_checks(window):
        painted_when_started.append(paints.chart_painted)
        original(window)
    monkeypatch.setattr(MainWindow, "_start_side_checks", start_side_checks)
    qapp.installEventFilter(paints)
    try:
        paints.window = window = MainWindow(demo_project_path)
        _shown(qtbot, window)
        qtbot.waitUntil(lambda: window.pending_checks is None and not window.hygiene.runner.busy
                        and not window.suggester.busy, timeout=30_000)
    finally:
        qapp.removeEventFilter(paints)
    assert painted_when_started == [True]
    window.close()
