"""Sankey labels never overlap one another or another column's bars; the split has a named legend."""
from __future__ import annotations

import itertools

import pytest

from journey_explorer.analysis import flows
from journey_explorer.charts.sankey import SankeyLayout, SankeyWidget, label_boxes
from journey_explorer.charts.theme import LIGHT, PRESENTATION


@pytest.fixture(scope="module")
def demo_log(demo_project_path):
    from journey_explorer.store.project import Project
    with Project.open(demo_project_path) as project:
        return project.load_event_log()


def crowded_layout(log, theme=LIGHT) -> SankeyLayout:
    result = flows.run(log, flows.Spec(steps=6, top=8, split="goal", goal=log.default_goal))
    return SankeyLayout(result.node_rows, result.link_rows, result.paths, theme, goal=log.default_goal)


def overlaps(rects):
    return [(a, b) for a, b in itertools.combinations(rects, 2) if a.intersects(b)]


@pytest.mark.parametrize("px_per_x, px_per_y", [(300, 800), (120, 400), (60, 250), (500, 1500)])
def test_label_boxes_never_intersect(qapp, demo_log, px_per_x, px_per_y):
    layout = crowded_layout(demo_log)
    labels = label_boxes(layout, px_per_x, px_per_y, PRESENTATION.font(1.0), right_edge=max(layout.steps) + 0.5)
    rects = [label.pixel_rect(px_per_x, px_per_y) for label in labels]
    assert rects and not overlaps(rects)
    bars = [(b, b.rect) for b in layout.boxes]
    for label, rect in zip(labels, rects):
        for box, bar in bars:       # nor on another node's bar
            if box is not label.box:
                pixels = bar.left() * px_per_x, -bar.bottom() * px_per_y, bar.width() * px_per_x, bar.height() * px_per_y
                assert not rect.intersects(type(rect)(*pixels)), (label.text, box.event)


def test_thin_nodes_get_shorter_labels_or_none(qapp, demo_log):
    layout = crowded_layout(demo_log)
    roomy = label_boxes(layout, 300, 2000, LIGHT.font(1.0))
    tight = label_boxes(layout, 300, 300, LIGHT.font(1.0))
    assert len(tight) < len(roomy) <= len(layout.boxes)
    assert any("\n" not in label.text for label in tight)          # one line "event · share" where two do not fit


@pytest.mark.parametrize("size", [(1600, 1000), (800, 500)])
def test_drawn_labels_do_not_overlap(qtbot, demo_log, size):
    widget = SankeyWidget(LIGHT)
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    layout = crowded_layout(demo_log)
    widget.show_layout(layout)
    qtbot.wait(50)
    # the labels ignore the view's scaling: their screen rectangles come from the device transform
    viewport = widget.viewportTransform()
    rects = [label.deviceTransform(viewport).mapRect(label.boundingRect()) for label in widget.item.labels]
    assert len(rects) >= 10 and not overlaps(rects)
    assert widget.legend is not None
    assert [name for _, name in layout.legend()] == [f"reached {demo_log.default_goal}",
                                                     f"did not reach {demo_log.default_goal}"]
    widget.close()


def test_colours_stable_per_event_across_steps(qapp, demo_log):
    result = flows.run(demo_log, flows.Spec(steps=6, top=8))
    layout = SankeyLayout(result.node_rows, result.link_rows, result.paths, LIGHT)
    colours = {}
    for box in layout.boxes:
        colours.setdefault(box.event, set()).add(layout.colour(box.event, box.group).name())
    assert all(len(c) == 1 for c in colours.values())
    assert layout.legend() == []
