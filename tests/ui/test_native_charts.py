"""Bar and line charts go into the deck as native PowerPoint charts with the analysis' own numbers;
Sankey, process map and heatmaps stay pictures."""
from __future__ import annotations

import pytest

from journey_explorer.state.filters import FilterState
from journey_explorer.state.registry import view
from journey_explorer.store.board import Pin
from journey_explorer.store.project import Project

GOAL = "Subscription Paid"


@pytest.fixture(scope="module")
def demo_log(demo_project_path):
    with Project.open(demo_project_path) as project:
        return project.load_event_log()


def expected(key, log):
    """(chart type name, categories, {series: values}) straight from the analysis result."""
    filters = FilterState(goal=GOAL)
    result = view(key).run(log, view(key).default_spec(log, filters))
    if key == "funnel":
        return "COLUMN_CLUSTERED", list(result.table["event"]), {"users": list(result.table["users"])}
    if key == "retention":
        return "LINE_MARKERS", [f"week {p}" for p in result.curve["period"]], {"retained": list(result.curve["share"])}
    if key == "lifecycle":
        t = result.table[result.covered()]         # weeks the data covers whole
        assert len(t) < len(result.table)           # the demo ends on a Saturday: its last week is left out
        return "COLUMN_STACKED", list(t["period"]), {n: list(t[n]) for n in ("new", "returning", "resurrected", "dormant")}
    if key == "northstar":
        t = result.table[result.table["complete"]]          # the partial last week would chart a fall
        assert len(t) < len(result.table)
        return "LINE_MARKERS", list(t["period"]), {"north star": list(t["metric"])}
    if key == "stuck":
        rows = result.table[result.table["score"] > 0].head(12)
        return "BAR_CLUSTERED", list(rows["event"]), {"stuck score": list(rows["score"])}
    if key == "compare":         # only the differences that pass (the slide names them), staged ones marked
        top = result.events[result.events["passes"]].head(15)
        names = [e + (" †" if isinstance(r, str) else "") for e, r in zip(top["event"], top["reached"])]
        return "BAR_CLUSTERED", names, {result.labels[0]: list(top["share_a"]), result.labels[1]: list(top["share_b"])}
    raise AssertionError(key)


def test_bar_and_line_views_are_native_charts_with_the_analysis_numbers(demo_project_path, demo_log, tmp_path, qapp):
    from pptx import Presentation
    from pptx.oxml.ns import qn

    from journey_explorer.export.deck import short_dates, write_board
    keys = ["funnel", "retention", "lifecycle", "northstar", "stuck", "compare"]
    pins = [Pin(view=k, title=k, filters={"goal": GOAL}) for k in keys]
    deck = Presentation(str(write_board(demo_log, demo_project_path, pins, tmp_path / "native.pptx")))
    for key, slide in zip(keys, list(deck.slides)[1:]):
        charts = [s.chart for s in slide.shapes if s.has_chart]
        assert len(charts) == 1, key
        assert not [s for s in slide.shapes if s.shape_type == 13], f"{key}: a picture besides the chart"
        chart = charts[0]
        kind, categories, series = expected(key, demo_log)
        assert chart.chart_type.name == kind, key
        assert [str(c) for c in chart.plots[0].categories] == [str(c) for c in short_dates(categories)], key
        got = {s.name: list(s.values) for s in chart.plots[0].series}
        assert list(got) == list(series), key
        if kind == "LINE_MARKERS" and len(categories) > 8:     # a long weekly series names every n-th week
            skip = chart.category_axis._element.find(qn("c:tickLblSkip"))
            assert skip is not None and int(skip.get("val")) == -(-len(categories) // 8), key
        for name, values in series.items():
            assert got[name] == pytest.approx([float(v) for v in values], nan_ok=True), (key, name)


def test_sankey_graph_and_heatmaps_stay_pictures(demo_project_path, demo_log, tmp_path, qapp):
    from pptx import Presentation

    from journey_explorer.export.deck import write_board
    from journey_explorer.export.native_charts import native_chart
    pins = [Pin(view=k, title=k, filters={"goal": GOAL}) for k in ("flows", "graph")]
    deck = Presentation(str(write_board(demo_log, demo_project_path, pins, tmp_path / "pictures.pptx")))
    for slide in list(deck.slides)[1:]:
        assert not [s for s in slide.shapes if s.has_chart]
        assert len([s for s in slide.shapes if s.shape_type == 13]) == 1
    assert native_chart("flows", object()) is None and native_chart("graph", object()) is None


def test_a_chart_that_would_only_say_nothing_is_stuck_gives_its_slide_to_the_finding():
    import types

    import pandas as pd

    from journey_explorer.export.native_charts import native_chart, nothing_to_draw
    nothing = types.SimpleNamespace(table=pd.DataFrame({"event": ["a"], "score": [0.0]}))
    assert nothing_to_draw("stuck", nothing) and native_chart("stuck", nothing) is None
    stuck = types.SimpleNamespace(table=pd.DataFrame({"event": ["a"], "score": [2.0]}))
    assert not nothing_to_draw("stuck", stuck) and not nothing_to_draw("funnel", stuck)
