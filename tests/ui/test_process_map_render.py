"""The process map as drawn: one arrowhead per route, legend colours are the colours drawn, units on labels."""
from __future__ import annotations

import re

import pyqtgraph as pg
import pytest

from journey_explorer.analysis import graph
from journey_explorer.charts.renderers import graph as renderer
from journey_explorer.charts.theme import PRESENTATION


@pytest.fixture(scope="module")
def demo_result(demo_project_path):
    from journey_explorer.store.project import Project
    with Project.open(demo_project_path) as project:
        log = project.load_event_log()
    return log, lambda **kw: graph.run(log, graph.Spec(min_share=0.25, min_edge_share=0.15, goal=log.default_goal,
                                                       **kw))


def drawn(canvas):
    items = canvas.getPlotItem().items
    edges = [i for i in items if type(i).__name__ == "_EdgeItem"]
    texts = [i.textItem.toPlainText() for i in items if isinstance(i, pg.TextItem)]
    return edges, texts


@pytest.mark.parametrize("measure", graph.MEASURES)
def test_legend_colours_are_the_drawn_colours(qtbot, demo_result, measure):
    log, run = demo_result
    result = run(measure=measure)
    canvas = renderer.make_canvas(PRESENTATION)
    qtbot.addWidget(canvas)
    canvas.resize(1600, 900)
    renderer.render(result, result.spec, canvas, PRESENTATION)
    edges, texts = drawn(canvas)
    assert len(edges) == len(result.process_map.routes)            # one arrow (line + head) per route
    assert all(edge.arrow.size() == 3 for edge in edges)
    drawn_colours = {edge.pen.color().name().upper() for edge in edges}
    legend = {colour.upper() for colour, _ in renderer.legend_entries(result, measure)}
    assert drawn_colours <= legend
    if measure == "performance":
        assert len(drawn_colours) >= 3                               # fast, middle, slow and Start/End grey
        assert any(re.fullmatch(r"\d+ (s|min)|\d+ h( \d+ min)?|\d+ d( \d+ h)?", t) for t in texts)
    else:
        assert any(re.fullmatch(r"\d{1,3}(,\d{3})*|\d+\.\dk", t) for t in texts)
    assert any(t.startswith(log.default_goal) for t in texts)


def test_variants_table_in_human_units(demo_result):
    log, run = demo_result
    result = run()
    table = renderer.table(result, result.spec)
    assert list(table.columns[:4]) == ["Paths", "Share", "Median duration", f"Reached {log.default_goal}"]
    assert all(s.endswith("%") for s in table["Share"])
    assert set(table[f"Reached {log.default_goal}"]) <= {"yes", "no"}
    assert list(result.to_frame().columns)[:3] == ["source", "target", "count"]     # the export stays raw


@pytest.mark.parametrize("size", [(700, 560), (1600, 900)])
def test_every_box_names_its_event_whole_in_one_type_size(qtbot, demo_result, size):
    """A box too narrow for "name · counts" puts the counts under the name, or drops them; the name is
    shortened last (the demo's longest, "Connection Succeeded", fits at both sizes)."""
    log, run = demo_result
    result = run()
    canvas = renderer.make_canvas(PRESENTATION)
    qtbot.addWidget(canvas)
    canvas.resize(*size)
    renderer.render(result, result.spec, canvas, PRESENTATION)
    labels = [i for i in canvas.getPlotItem().items if isinstance(i, pg.TextItem)]
    events = [p.name for p in result.process_map.places.values() if p.kind == "event"]
    for name in events:
        assert any(item.textItem.toPlainText().split("\n")[0].split(" · ")[0] == name for item in labels), name
    box_sizes = {item.textItem.font().pixelSize() or item.textItem.font().pointSizeF() for item in labels
                 if item.textItem.toPlainText().split("\n")[0].split(" · ")[0] in events}
    assert len(box_sizes) == 1


def test_box_text_falls_back_to_two_lines_then_the_name(qtbot):
    from journey_explorer.charts.theme import LIGHT
    font = LIGHT.font(0.72)
    from PySide6.QtGui import QFontMetrics
    metrics = QFontMetrics(font)
    name, counts = "kyc_photo_upload", "2,958 (99%)"
    wide = metrics.horizontalAdvance(f"{name} · {counts}") + 4
    narrow = metrics.horizontalAdvance(name) + 4
    assert renderer._fitted_box_text(name, counts, font, wide, metrics.height()) == f"{name} · {counts}"
    assert renderer._fitted_box_text(name, counts, font, narrow, 2 * metrics.height()) == f"{name}\n{counts}"
    assert renderer._fitted_box_text(name, counts, font, narrow, metrics.height()) == name
