"""The What changed and Usage interval views on the demo: stories listed and charted, one click to
their evidence (compare of the two periods, the time filter), the interval's figures and curve."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyqtgraph as pg
import pytest

from journey_explorer.eventlog import EventLog
from journey_explorer.state.filters import FilterState
from journey_explorer.state.registry import critical_event


def settle_view(qtbot, view) -> None:
    qtbot.waitUntil(lambda: not view.runner.busy and view.result is not None
                    and (view.drawn_result is view.result or view.banner.isVisible()), timeout=60_000)


@pytest.fixture
def window(open_window, demo_project_path):
    return open_window(demo_project_path)


def _items(plot, kind):
    return [i for i in plot.getPlotItem().items if isinstance(i, kind)]


def test_changes_lists_the_stories_and_charts_the_selected_one(window, qtbot):
    view = window.show_view("changes")
    settle_view(qtbot, view)
    result = view.drawn_result
    assert len(result.stories) >= 2                      # the demo's payment outage and others
    assert view.model.rowCount() == len(result.stories)
    assert list(view.model.frame["rank"]) == [s["rank"] for s in result.stories]
    top = result.stories[0]
    assert top["headline"][1:] in view.chart.headline.text() and view.chart.text.text() == top["text"]
    lead = top["changes"][0]
    region = _items(view.chart.plot, pg.LinearRegionItem)[0].getRegion()
    assert region == pytest.approx((lead["start_period"] - 0.5, lead["end_period"] - 0.5))
    line = next(c for c in _items(view.chart.plot, pg.PlotDataItem) if c.name() == lead["label"])
    expected = np.array([np.nan if v is None else v for v in lead["series"]["value"]], float)
    scale = 1.0 if lead["kind"] == "rate" else 100.0
    np.testing.assert_allclose(line.yData, expected * scale)
    names = [c.name() for c in _items(view.chart.plot, pg.PlotDataItem)]
    assert any(n and n.startswith("before: ") for n in names) and any(n and n.startswith("during: ") for n in names)
    view.table.selectRow(1)                                # a click on the second story
    qtbot.waitUntil(lambda: view.chart.story == 1)
    assert result.stories[1]["headline"][1:] in view.chart.headline.text()
    legends = [i for i in view.chart.plot.scene().items() if isinstance(i, pg.LegendItem)]
    assert len(legends) == 1                               # the first story's legend is gone
    texts = [label.text for _, label in legends[0].items]
    assert any(result.stories[1]["changes"][0]["start"] in t for t in texts)


def test_compare_the_two_periods_opens_compare_on_before_vs_during(window, qtbot):
    view = window.show_view("changes")
    settle_view(qtbot, view)
    evidence = view.drawn_result.stories[0]["evidence"]
    with qtbot.waitSignal(view.compare_requested):
        view.compare_button.click()
    compare = window.view("compare")
    assert window.tabs.currentWidget() is compare
    spec = compare.current_spec(window.explorer.log)
    assert spec.period_a == f"{evidence['before']['since']}..{evidence['before']['until']}"
    assert spec.period_b == f"{evidence['during']['since']}..{evidence['during']['until']}"
    settle_view(qtbot, compare)
    assert compare.drawn_result.spec.period_b == spec.period_b and not compare.banner.is_error
    compare.clear_periods.click()                          # back to successful vs failing
    assert compare.current_spec(window.explorer.log) == compare.entry.default_spec(window.explorer.log,
                                                                                   window.explorer.filters)


def test_show_this_window_sets_the_time_filter_to_the_change(window, qtbot):
    view = window.show_view("changes")
    settle_view(qtbot, view)
    during = view.drawn_result.stories[0]["evidence"]["during"]
    view.window_button.click()
    filters = window.explorer.filters
    assert (filters.since, filters.until) == (during["since"], during["until"])
    funnel = window.show_view("funnel")
    settle_view(qtbot, funnel)
    assert funnel.drawn_result is not None                # the other views follow the window


def test_report_slide_for_what_changed_draws_the_changes_chart(demo_project_path):
    from journey_explorer.analysis import changes
    from journey_explorer.store.project import Project
    with Project.open(demo_project_path) as project:
        log = project.load_event_log()
    finding = changes.what_changed(log, log.default_goal)
    assert finding.view == "changes" and finding.spec.goal == log.default_goal


def test_usage_interval_shows_the_critical_event_its_interval_and_curve(window, qtbot):
    from journey_explorer.charts.renderers.interval import days_text
    view = window.show_view("interval")
    settle_view(qtbot, view)
    result = view.drawn_result
    log = window.explorer.log
    assert result.spec.event == critical_event(log, window.explorer.filters)
    assert result.repeating_users > 0                      # a one-off goal is not the default
    assert view.chart.tiles["interval"].value.text() == days_text(result.interval_80_days)
    assert view.chart.tiles["repeating"].value.text() == f"{result.repeating_users:,}"
    curve = next(c for c in view.chart.trend.getPlotItem().items if isinstance(c, pg.PlotDataItem))
    assert curve.yData.max() <= 100 and curve.yData[-1] == pytest.approx(
        100 * np.mean(result.first_gaps_days <= curve.xData[-1]), abs=0.5)
    assert np.array_equal(curve.xData, result.curve.xs)       # the curve was built on the worker thread
    assert view.chart.tiles["median"].value.text() == days_text(float(np.median(result.first_gaps_days)))
    other = next(n for n in log.event_names if n != result.spec.event)
    view.event.setCurrentText(other)
    qtbot.waitUntil(lambda: view.drawn_result is not None and view.drawn_result.spec.event == other, timeout=30_000)


def _log(rows):
    frame = pd.DataFrame(rows, columns=["user", "event", "time"])
    frame["time"] = pd.to_datetime(frame["time"])
    return EventLog.from_frame(frame)


def test_critical_event_is_the_goal_when_repeated_else_the_most_repeated():
    rows = [("a", "view", "2024-01-01"), ("a", "view", "2024-01-03"), ("a", "buy", "2024-01-04"),
            ("b", "view", "2024-01-01"), ("b", "view", "2024-01-02"), ("b", "buy", "2024-01-02"),
            ("b", "buy", "2024-01-09"), ("c", "home", "2024-01-01"), ("c", "home", "2024-01-05")]
    log = _log(rows)
    assert critical_event(log, FilterState(goal="buy")) == "buy"          # 1 of 2 buyers repeat it
    assert critical_event(log, FilterState(goal="home")) == "home"
    once = _log([r for r in rows if not (r[1] == "buy" and r[2] == "2024-01-09")])
    # Nobody repeats buy and nothing after it comes back: the north star counts buy itself; the usage
    # interval needs repeats, so it measures view (2 users repeat it)
    assert critical_event(once, FilterState(goal="buy")) == "buy"
    from journey_explorer.state.registry import view
    assert view("interval").default_spec(once, FilterState(goal="buy")).event == "view"


def test_show_who_it_hit_sets_the_segment_to_the_value_the_change_was_concentrated_in(open_window, qtbot,
                                                                                       tmp_path):
    """A payment step that breaks for IN only, for two weeks: the story names country = IN, and one
    click shows that segment in every view."""
    from journey_explorer.store.importer import import_file
    from tests.analysis.test_change_who import _log
    log = _log({"IN"})
    frame = pd.DataFrame({"user": log.user_keys[log.user], "event": np.asarray(log.event_names)[log.event],
                          "time": pd.to_datetime(log.ts, unit="ms", utc=True).strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "country": log.event_properties["country"].values[log.event_properties["country"].codes]})
    frame.to_csv(tmp_path / "pay.csv", index=False)
    import_file(tmp_path / "pay.journey", tmp_path / "pay.csv")
    window = open_window(tmp_path / "pay.journey")
    view = window.show_view("changes")
    settle_view(qtbot, view)
    assert view.drawn_result.stories[0]["who"]["found"]["value"] == "IN"
    assert view.who_button.isEnabled() and view.who_button.text() == "Show country = IN"
    with qtbot.waitSignal(view.segment_requested):
        view.who_button.click()
    assert list(window.explorer.filters.segment) == ["country=IN"]
    settle_view(qtbot, view)
    assert view.drawn_result is view.result


def test_show_who_it_hit_shows_the_release_on_any_of_a_paths_events(open_window, qtbot, tmp_path):
    """Pays fail on app version 2.0 from the day it ships: the story names the release, and one click
    sets the segment to it, matched on any event (a user's version changes along the path)."""
    from journey_explorer.store.importer import import_file
    from tests.analysis.test_change_who import _release_log
    log = _release_log("2.0")
    column = log.event_properties["app_version"]
    frame = pd.DataFrame({"user": log.user_keys[log.user], "event": np.asarray(log.event_names)[log.event],
                          "time": pd.to_datetime(log.ts, unit="ms", utc=True).strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "app_version": column.values[column.codes]})
    frame.to_csv(tmp_path / "release.csv", index=False)
    import_file(tmp_path / "release.journey", tmp_path / "release.csv")
    window = open_window(tmp_path / "release.journey")
    view = window.show_view("changes")
    settle_view(qtbot, view)
    assert view.who_button.text() in ("Show app_version = 2.0", "Show app_version = 2")
    with qtbot.waitSignal(view.segment_requested):
        view.who_button.click()
    assert list(window.explorer.filters.segment)[0].startswith("app_version=2")
    assert window.explorer.filters.match == "any"


def test_the_story_list_says_what_came_after_each_change_in_words(window, qtbot):
    from journey_explorer.charts.renderers.changes import AFTERWARDS
    view = window.show_view("changes")
    settle_view(qtbot, view)
    words = view.model.frame["afterwards"].tolist()
    stories = view.drawn_result.stories
    assert words == [AFTERWARDS[s["window"]["recovery"]] for s in stories]
    assert words[0] == "back"                  # the demo's payment outage ended


def test_what_changed_works_out_its_options_on_its_worker(window):
    """Its options' module imports pandas (~0.5 s): a project opening on this tab froze the window."""
    view = window.view("changes")
    spec = view.spec_to_compute(window.explorer.log)
    assert callable(spec)
    assert spec(window.explorer.log, window.explorer.filters).goal == window.explorer.filters.goal
