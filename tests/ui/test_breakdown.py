"""Breakdown by a property in the GUI: the control on the funnel, retention, compare and flows views,
one series per group with a legend naming it, and a pinned broken-down view that comes back."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pyqtgraph as pg
import pytest

from journey_explorer.analysis.properties import breakdown as property_breakdown
from journey_explorer.charts import breakdown as charts
from journey_explorer.store.project import Project

STEPS = "Sign Up, Subscription Paid"       # a funnel every channel of the demo enters


@pytest.fixture
def project_copy(demo_project_path, tmp_path):
    path = tmp_path / "workshop.journey"
    shutil.copy(demo_project_path, path)
    return path


@pytest.fixture
def window(open_window, project_copy):
    return open_window(project_copy, size=(1500, 950))


def drawn_with(qtbot, view, **fields):
    """Wait until the view has drawn a result computed for a Spec with these field values."""
    def done():
        spec = view.result_spec
        return (view.drawn_result is not None and view.drawn_result is view.result and not view.runner.busy
                and spec is not None and all(getattr(spec, k) == v for k, v in fields.items()))
    qtbot.waitUntil(done, timeout=30_000)
    return view.drawn_result


def legend_names(plot: pg.PlotWidget) -> list[str]:
    return [label.text for _, label in plot.getPlotItem().legend.items]


def funnel_with_channel(qtbot, window):
    view = window.show_view("funnel")
    view.builder.set_steps([step.strip() for step in STEPS.split(",")])     # the step builder's list
    view.builder.changed.emit()
    view.breakdown.setCurrentText("channel")
    return view, drawn_with(qtbot, view, breakdown="channel", steps=("Sign Up", "Subscription Paid"))


def test_choosing_channel_draws_one_bar_series_per_channel_named_in_the_legend(qtbot, window):
    view, result = funnel_with_channel(qtbot, window)
    log = window.explorer.log
    # Independently: the channel of each user who signed up (a user property: one value per user).
    channel = log.user_properties["channel"].to_numpy(dtype=object)
    signed_up = np.unique(log.user[log.event == log.event_code("Sign Up")])
    entered = pd.Series(channel[signed_up]).value_counts()
    expected = property_breakdown(log, "channel").labels            # top 5 values, then Other if more
    assert len(expected) == min(entered.size, 5) + (entered.size > 5)
    funnel_plot = view.chart.left                                   # the funnel (left), where the lost went (right)
    bars = [i for i in funnel_plot.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert len(bars) == len(expected)
    assert legend_names(funnel_plot) == [charts.legend_name(g, int(entered[g])) for g in expected]
    heights = np.array([bar.opts["height"] for bar in bars])        # (group, step): share of the group
    assert heights[:, 0] == pytest.approx(1.0)
    final = result.table[result.table["group"].isin(expected) & (result.table["step"] == 2)]
    assert heights[:, 1] == pytest.approx(final.set_index("group").loc[expected, "conversion_from_start"])
    assert set(view.model.frame["group"].dropna()) == set(expected)   # the step table per group
    view.breakdown.setCurrentText("none")
    drawn_with(qtbot, view, breakdown=None)
    assert_nothing_left(funnel_plot, legend_kept=[], axis_title="users")     # the plain funnel's own axis


def test_retention_draws_one_curve_per_group_and_everyone_for_reference(qtbot, window):
    view = window.show_view("retention")
    view.breakdown.setCurrentText("channel")
    result = drawn_with(qtbot, view, breakdown="channel")
    groups = list(dict.fromkeys(result.breakdown["group"]))
    analysed = window.explorer.session.filtered(window.explorer.filters)
    assert groups == property_breakdown(analysed, "channel").labels
    curves = [i for i in view.chart.left.getPlotItem().items if isinstance(i, pg.PlotDataItem)]
    assert [c.name() for c in curves][1:] == legend_names(view.chart.left)[1:]
    assert len(curves) == len(groups) + 1 and curves[0].name() == "everyone"
    for curve, group in zip(curves[1:], groups):
        rows = result.breakdown[(result.breakdown["group"] == group) & (result.breakdown["eligible"] > 0)]
        xs, ys = curve.getData()
        assert ys == pytest.approx(rows["share"].to_numpy())
        assert ys[0] == 1.0                                           # everyone is there in period 0
    assert not view.chart.right.isVisibleTo(view.chart)              # the everyone-only cohorts make room
    view.breakdown.setCurrentText("none")
    drawn_with(qtbot, view, breakdown=None)
    assert view.chart.right.isVisibleTo(view.chart)
    assert_nothing_left(view.chart.left, legend_kept=["retained users"])


def assert_nothing_left(plot: pg.PlotWidget, legend_kept: list[str], axis_title: str = "") -> None:
    """Back to no breakdown: no group title, axis title (other than the plain chart's) or legend of the
    breakdown chart remains."""
    item = plot.getPlotItem()
    assert not item.titleLabel.isVisible()
    assert item.getAxis("left").labelText == axis_title
    legends = [c for c in item.vb.childItems() + item.childItems()        # over the plot, or above it
               if isinstance(c, pg.LegendItem) and c.scene() is not None]
    assert [label.text for legend in legends for _, label in legend.items] == legend_kept


def test_the_pin_of_a_broken_down_funnel_comes_back_with_its_breakdown(qtbot, window, project_copy):
    from journey_explorer.state.views import spec_from_dict
    view, _ = funnel_with_channel(qtbot, window)
    shown = view.current_spec(window.explorer.log)
    window.pin_view(view)
    with Project.open(project_copy) as project:
        (pin,) = project.board.pins()
    assert pin.spec["breakdown"] == "channel"
    pinned = spec_from_dict("funnel", pin.spec)
    assert pinned == shown
    view.breakdown.setCurrentText("none")
    assert view.current_spec(window.explorer.log).breakdown is None
    view.show_spec(pinned)
    assert view.breakdown.currentText() == "channel"
    assert view.current_spec(window.explorer.log) == pinned


def test_flows_split_by_goal_and_by_a_property_exclude_each_other(qtbot, window):
    view = window.show_view("flows")
    view.split.setChecked(True)
    view.breakdown.setCurrentText("plan")
    result = drawn_with(qtbot, view, breakdown="plan")
    assert not view.split.isChecked() and result.spec.split is None
    assert [name for _, name in result.layout.legend()] == [g["group"] for g in result.breakdown_groups
                                                            if g["paths"] > 0]
    view.split.setChecked(True)
    drawn_with(qtbot, view, split="goal")
    assert view.breakdown.currentText() == "none"


def test_compare_shows_the_breakdown_and_who_differs_under_the_chart(qtbot, window):
    view = window.show_view("compare")
    view.breakdown.setCurrentText("channel")
    result = drawn_with(qtbot, view, breakdown="channel")
    frame = view.model.frame
    by_channel = frame[frame["table"] == "by channel"]
    assert by_channel["group"].tolist() == result.breakdown["group"].tolist()
    a, b = result.labels
    assert by_channel[f"users {a}"].sum() + by_channel[f"users {b}"].sum() == sum(result.group_sizes)
    assert (frame["table"] == "who").sum() == len(result.who) > 0


def test_compare_table_names_columns_after_the_groups_and_orders_the_parts():
    class Result:
        labels = ("successful", "failing")
        spec = type("Spec", (), {"breakdown": "plan"})()
        breakdown = pd.DataFrame({"group": ["pro", "free"], "users_a": [3, 1], "users_b": [1, 5]})
        events = pd.DataFrame({"event": ["pay"], "share_a": [0.5], "share_b": [0.1]})
        who = pd.DataFrame({"property": ["plan"], "value": ["pro"], "share_a": [0.75], "share_b": [0.17]})
    frame = charts.compare_table(Result())
    assert frame["table"].tolist() == ["by plan", "by plan", "events", "who"]
    assert {"users successful", "users failing", "share successful", "share failing"} <= set(frame.columns)


def test_funnel_shares_read_each_groups_conversion_from_its_own_first_step():
    table = pd.DataFrame({"group": [None, None, "a", "a", "b", "b"], "step": [1, 2, 1, 2, 1, 2],
                          "users": [10, 4, 6, 3, 4, 1],
                          "conversion_from_start": [1.0, 0.4, 1.0, 0.5, 1.0, 0.25]})
    shares, entered = charts.funnel_shares(table, ["a", "b", "c"], 2)
    assert shares.tolist() == [[1.0, 1.0, 0.0], [0.5, 0.25, 0.0]]
    assert entered.tolist() == [6, 4, 0]                          # "c": nobody entered, no bars drawn


def test_the_flows_table_names_each_links_group_with_a_breakdown(qtbot, window):
    view = window.show_view("flows")
    view.breakdown.setCurrentText("channel")
    result = drawn_with(qtbot, view, breakdown="channel")
    groups = set(view.model.frame["group"])
    assert groups == {g["group"] for g in result.breakdown_groups if g["paths"] > 0}


@pytest.mark.parametrize("view", ["funnel", "retention", "flows"])
def test_export_of_a_broken_down_chart_draws_every_groups_colour(view, demo_project_path, tmp_path, qapp):
    from PySide6.QtGui import QColor, QImage

    from journey_explorer.cli import main
    out = tmp_path / f"{view}.png"
    steps = ["--steps", STEPS.replace(", ", ",")] if view == "funnel" else []
    assert main(["export", str(demo_project_path), "--view", view, "--breakdown", "channel", *steps,
                 "--out", str(out), "--width", "960"]) == 0
    image = QImage(str(out))
    with Project.open(demo_project_path) as project:
        labels = property_breakdown(project.load_event_log(), "channel").labels
    pixels = {image.pixelColor(x, y).name() for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}
    for colour in charts.group_colours(labels):
        assert QColor(colour).name() in pixels, colour


def test_export_of_compare_with_a_breakdown_as_a_picture_is_still_refused(demo_project_path, tmp_path, capsys, qapp):
    from journey_explorer.cli import main
    assert main(["export", str(demo_project_path), "--view", "compare", "--breakdown", "channel",
                 "--out", str(tmp_path / "compare.png")]) == 1
    assert "export it as a table" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["funnel", "retention", "compare", "flows"])
def test_a_spec_with_a_breakdown_shows_on_the_control_and_reads_back(key, window):
    from dataclasses import replace
    view = window.view(key)
    log = window.explorer.log
    spec = replace(view.entry.default_spec(log, window.explorer.filters), breakdown="plan")
    view.show_spec(spec)
    assert view.breakdown.currentText() == "plan"
    assert view.current_spec(log) == spec
