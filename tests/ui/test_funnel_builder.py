"""The funnel's step builder: pick from the catalog (search by part of a name), add, reorder, remove;
the chart and table follow, and the "went next" rows are a chart of their own, not table rows."""
from __future__ import annotations

import pandas as pd
import pytest

from journey_explorer.charts.renderers import funnel as funnel_chart
from journey_explorer.eventlog import EventLog
from journey_explorer.state.filters import FilterState
from journey_explorer.state.registry import VIEWS
from journey_explorer.ui.views import make_view
from journey_explorer.ui.views.base import Explorer

# a: visit -> signup -> pay;  b: visit -> signup -> help;  c: visit -> help;  d: signup -> pay
# (times in ms: a signs up 4 minutes after visiting, b 2 hours after)
MIN = 60_000
ROWS = [("a", "visit", 0), ("a", "signup", 4 * MIN), ("a", "Subscription Paid", 5 * MIN),
        ("b", "visit", 0), ("b", "signup", 120 * MIN), ("b", "help", 121 * MIN),
        ("c", "visit", 0), ("c", "help", MIN),
        ("d", "signup", 0), ("d", "Subscription Paid", MIN)]


@pytest.fixture
def view(qtbot):
    log = EventLog.from_frame(pd.DataFrame(ROWS, columns=["user", "event", "time"]))
    explorer = Explorer()
    entry = next(e for e in VIEWS if e.key == "funnel")
    widget = make_view(entry, explorer)
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.show()
    with qtbot.waitSignal(widget.drawn, timeout=20_000):
        explorer.set_log(log, FilterState(goal="Subscription Paid"))
    return widget


def test_starts_from_the_views_own_steps(view):
    # the registry's default: the milestones successful users hit before the goal, ending with it
    from journey_explorer.analysis import narrative
    log = view.explorer.log
    assert view.builder.steps() == tuple(narrative.goal_funnel_steps(log, "Subscription Paid"))
    assert view.builder.steps()[0] == "visit" and view.builder.steps()[-1] == "Subscription Paid"


def users_per_step(view) -> list[int]:
    return view.drawn_result.table["users"].tolist()


def pick(qtbot, view, typed: str) -> None:
    with qtbot.waitSignal(view.drawn, timeout=20_000):
        view.builder.picker.setEditText(typed)
        view.builder.add_button.click()


def test_build_reorder_and_remove_steps(qtbot, view):
    builder = view.builder
    assert [builder.picker.itemText(i) for i in range(builder.picker.count())] == \
        ["help", "signup", "Subscription Paid", "visit"]            # the catalog, alphabetically
    builder.set_steps([])
    view.banner.hide()
    builder.picker.setEditText("visit")
    builder.add_button.click()                      # one step: no funnel yet, a hint instead
    assert builder.steps() == ("visit",) and view.banner.isVisible() and not view.banner.is_error
    pick(qtbot, view, "signup")
    assert users_per_step(view) == [3, 2]           # a, b, c visit; a, b then sign up
    pick(qtbot, view, "subscription paid")          # case-insensitive, completed to the catalog's name
    assert builder.steps() == ("visit", "signup", "Subscription Paid")
    assert users_per_step(view) == [3, 2, 1]
    builder.picker.setEditText("no such event")
    builder.add_button.click()
    assert builder.steps() == ("visit", "signup", "Subscription Paid")

    with qtbot.waitSignal(view.drawn, timeout=20_000):      # what a drag does: move "signup" to the front
        builder.list.model().moveRow(builder.list.model().index(0, 0).parent(), 1,
                                     builder.list.model().index(0, 0).parent(), 0)
    assert builder.steps() == ("signup", "visit", "Subscription Paid")
    assert users_per_step(view) == [3, 0, 0]        # nobody visits after signing up

    builder.list.setCurrentRow(1)
    with qtbot.waitSignal(view.drawn, timeout=20_000):
        builder.remove_button.click()
    assert builder.steps() == ("signup", "Subscription Paid")
    assert users_per_step(view) == [3, 2]           # a and d pay after signing up; b does not


def test_window_order_subtitle_and_went_next_chart(qtbot, view):
    with qtbot.waitSignal(view.drawn, timeout=20_000):
        view.builder.set_steps(["visit", "signup"])
        view.order.setCurrentText("strict")
    assert view.chart.readout.text() == ("visit → signup: in this order, each step the very next event; "
                                         "within 30 d of the first step; everyone")
    # the table holds the steps only; c, lost after visit, went to help: a row of the chart on the right
    assert list(view.model.frame["event"]) == ["visit", "signup"]
    assert "went next" not in view.model.frame.columns
    assert funnel_chart.went_instead_rows(view.drawn_result) == [
        {"event": "help", "share": 1.0, "users": 1, "step": 1}]
    # shares and durations read humanly in the table
    model = view.model
    column = list(model.frame.columns).index("of start")
    assert model.data(model.index(1, column)) == "66.7%"
    column = list(model.frame.columns).index("median time from previous step")
    assert model.data(model.index(1, column)) == "1 h 2 min"   # median of 4 min and 120 min


def test_per_session_paths_are_called_sessions(qtbot, view):
    with qtbot.waitSignal(view.drawn, timeout=20_000):
        view.explorer.set_filters(FilterState(goal="Subscription Paid", by="session"))
    assert view.chart.left.getPlotItem().getAxis("left").labelText == "sessions"
    assert "sessions" in view.model.frame.columns and "users" not in view.model.frame.columns


def test_many_steps_in_a_narrow_window_stay_inside_it_and_readable(view, qtbot):
    """Chips that do not fit scroll inside their box: the builder stays within the view's width and the
    box is tall enough for the chips above its scroll bar (the bar used to cut them in half)."""
    view.builder.set_steps(["visit", "signup", "help", "Subscription Paid"] * 3)
    view.resize(700, 600)
    qtbot.waitUntil(lambda: view.builder.list.horizontalScrollBar().maximum() > 0, timeout=5000)
    chips = view.builder.list
    assert view.builder.geometry().right() <= view.width()
    bar = chips.horizontalScrollBar()
    qtbot.waitUntil(lambda: chips.height() >= chips.chip_height + bar.sizeHint().height(), timeout=5000)
    view.builder.set_steps(["visit", "signup"])
    view.resize(1400, 800)
    qtbot.waitUntil(lambda: bar.maximum() == 0 and chips.height() < chips.chip_height + bar.sizeHint().height(),
                    timeout=5000)


def test_its_own_steps_are_worked_out_off_the_gui_thread(qtbot, calls_on_gui_thread):
    """The goal's milestones took 3-13 s at 10M events, on the GUI thread when the tab was opened
    (twice); the worker works them out now, and the view shows the same steps."""
    from journey_explorer.analysis import narrative
    threads = calls_on_gui_thread(narrative, "_goal_funnel_steps")
    log = EventLog.from_frame(pd.DataFrame(ROWS, columns=["user", "event", "time"]))
    explorer = Explorer()
    widget = make_view(next(e for e in VIEWS if e.key == "funnel"), explorer)
    qtbot.addWidget(widget)
    widget.show()
    with qtbot.waitSignal(widget.drawn, timeout=20_000):
        explorer.set_log(log, FilterState(goal="Subscription Paid"))
    assert threads == [False]                     # once, on the worker
    assert widget.builder.steps() == ("visit", "signup", "Subscription Paid")
    assert widget.drawn_result.spec.steps == widget.builder.steps()


def test_goal_milestones_are_kept_per_log_and_goal():
    from journey_explorer.analysis import narrative
    log = EventLog.from_frame(pd.DataFrame(ROWS, columns=["user", "event", "time"]))
    first = narrative.goal_funnel_steps(log, "Subscription Paid")
    first.append("changed by a caller")
    assert narrative.goal_funnel_steps(log, "Subscription Paid") == ["visit", "signup", "Subscription Paid"]
    assert narrative._FUNNEL_STEPS[log].keys() == {"Subscription Paid"}
