"""A view's table under the chart is built and formatted on its worker thread with the result (at 10M
events the pandas reshaping and formatting blocked the GUI thread); the screen shows the same cells."""
from __future__ import annotations

import threading

from journey_explorer.charts.renderers import renderer
from journey_explorer.ui.views import base
from journey_explorer.ui.widgets import format_table


def test_the_table_is_formatted_off_the_gui_thread_and_shown_as_formatted(open_window, demo_project_path,
                                                                          qtbot, monkeypatch):
    threads = []

    def recording(frame):
        threads.append(threading.current_thread())
        return format_table(frame)

    monkeypatch.setattr(base, "format_table", recording)
    window = open_window(demo_project_path)
    view = window.show_view("compare")
    qtbot.waitUntil(lambda: view.result is not None and view.drawn_result is view.result, timeout=30_000)
    assert threads and threading.main_thread() not in threads
    expected = format_table(renderer(view.entry.chart_name).table(view.result, view.result_spec))
    assert view.model._cells == expected.cells and view.model._columns == expected.columns
    assert view.model.rowCount() > 0
