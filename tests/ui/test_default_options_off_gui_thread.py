"""A view's own options that search the log (the critical event of the north star and the usage
interval: seconds at 10M events for a goal not seen before) are worked out on the view's worker, not
on the GUI thread when its tab opens; the chart shows the same event as before."""
from __future__ import annotations

import pytest

from journey_explorer.analysis import interval


@pytest.mark.parametrize("key", ["interval", "northstar"])
def test_the_critical_event_is_chosen_on_the_worker(open_window, demo_project_path, qtbot, calls_on_gui_thread,
                                                    key):
    window = open_window(demo_project_path)
    first = window.current_view()
    qtbot.waitUntil(lambda: first.result is not None and first.drawn_result is first.result, timeout=30_000)
    on_gui_thread = calls_on_gui_thread(interval, "default_choice")
    view = window.show_view(key)
    qtbot.waitUntil(lambda: view.result is not None and view.drawn_result is view.result, timeout=30_000)
    assert on_gui_thread and not any(on_gui_thread)
    log, filters = window.explorer.log, window.explorer.filters
    assert view.result_spec == view.entry.default_spec(log, filters)        # what the GUI thread chose before
    assert view.result_spec == view.current_spec(log)
