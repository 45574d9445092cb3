"""Every registry entry has a chart renderer, the window builds its views from the registry, a view
left alone shows the registry's default options, and exports never build a widget from ``ui``."""
from __future__ import annotations

import subprocess
import sys

import pytest

from journey_explorer.charts.renderers import renderer
from journey_explorer.state.registry import VIEWS

KEYS = [entry.key for entry in VIEWS]


@pytest.mark.parametrize("entry", VIEWS, ids=KEYS)
def test_every_view_has_a_chart_renderer(entry, qapp):
    from journey_explorer.charts.theme import PRESENTATION
    chart = renderer(entry.chart_name)
    canvas = chart.make_canvas(PRESENTATION)
    try:
        assert callable(chart.render) and callable(chart.table) and callable(chart.prepare)
        # Built without the right-click menu every chart turns off when drawing (a quarter of a plot's cost).
        from journey_explorer.charts.plotting import pg
        plots = [canvas] * isinstance(canvas, pg.PlotWidget) + canvas.findChildren(pg.PlotWidget)
        assert plots and all(plot.getPlotItem().getViewBox().menu is None for plot in plots)
    finally:
        canvas.deleteLater()


def test_the_window_has_one_tab_per_registry_entry_in_order(open_window, demo_project_path):
    window = open_window(demo_project_path)
    assert [v.key for v in window.views] == KEYS
    assert [window.tabs.tabText(i) for i in range(len(KEYS))] == [e.title for e in VIEWS]
    assert window.view("funnel") is window.views[KEYS.index("funnel")]


def test_views_left_alone_show_the_registry_defaults(open_window, demo_project_path):
    """The app, an export without options and a pin without a spec all start from the same Spec."""
    window = open_window(demo_project_path)
    log, filters = window.explorer.log, window.explorer.filters
    for entry in VIEWS:
        assert window.view(entry.key).current_spec(log) == entry.default_spec(log, filters), entry.key


def test_export_of_any_view_and_the_report_build_no_widget_from_ui(demo_project_path, tmp_path):
    code = f"""
import sys
from journey_explorer.cli import main
for key in {KEYS!r}:
    assert main(["export", {str(demo_project_path)!r}, "--view", key, "--out", {str(tmp_path)!r} + "/" + key + ".png",
                 "--width", "640"]) == 0
assert main(["report", {str(demo_project_path)!r}, "--out", {str(tmp_path)!r} + "/report.pdf"]) == 0
print(sorted(m for m in sys.modules if m.startswith("journey_explorer.ui")))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert sorted(p.stem for p in tmp_path.glob("*.png")) == sorted(KEYS)


def changed_specs(log):
    """A Spec per view with every option moved off its default (what a pin may bring back)."""
    from journey_explorer.analysis import changes, compare, flows, funnel, graph, interval, lifecycle, northstar, retention
    other = log.event_names[3]
    return {
        "flows": flows.Spec(from_event=other, steps=4, top=8, collapse_repeats=True, split="goal",
                            exclude=(log.event_names[4],), goal=log.default_goal),
        "graph": graph.Spec(min_share=0.1, min_edge_share=0.2, goal=log.default_goal, measure="performance"),
        "compare": compare.Spec(did=other),
        "funnel": funnel.Spec(steps=(log.event_names[0], other), window_ms=14 * 86_400_000, order="strict"),
        "retention": retention.Spec(start_event=other, period="month", mode="on-or-after"),
        "lifecycle": lifecycle.Spec(period="month"),
        "northstar": northstar.Spec(event=other, period="day"),
        "changes": changes.Spec(goal=log.default_goal, period="day"),
        "interval": interval.Spec(event=other),
        "compare periods": compare.Spec(goal=log.default_goal, period_a="2026-01-05..2026-02-01",
                                        period_b="2026-02-01..2026-03-01"),
    }


def test_a_spec_shown_on_the_controls_reads_back_the_same(open_window, demo_project_path):
    """show_spec (a pin, the CLI) then current_spec: the binder loses no option, in either direction."""
    from dataclasses import replace
    window = open_window(demo_project_path)
    log = window.explorer.log
    for key, spec in changed_specs(log).items():
        view = window.view(key.split()[0])
        if key == "northstar":        # the CSAT/revenue columns come from the data, not from a control
            spec = replace(spec, csat=view.current_spec(log).csat, revenue=view.current_spec(log).revenue)
        view.show_spec(spec)
        assert view.current_spec(log) == spec, key
