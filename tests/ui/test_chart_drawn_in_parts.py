"""A chart of two plots is drawn one plot per turn of the event loop (both in one turn froze the window
for 100-150 ms at 10M events); the view counts as drawn, with its table, only after the last part, and a
newer result drops the rest of an older one. Called directly, a renderer still draws every part."""
from __future__ import annotations

import copy

from journey_explorer.charts.renderers import renderer
from journey_explorer.charts.theme import PRESENTATION
from journey_explorer.ui.views import base


def plotted(plot) -> int:
    return len(plot.getPlotItem().items)


def drawn_view_with_turns_by_hand(open_window, demo_project_path, qtbot, monkeypatch, key: str):
    """The demo's view ``key`` once drawn, its computed result, and the list that now collects each
    turn's drawing work (run by hand in the tests) instead of the event loop."""
    window = open_window(demo_project_path)
    view = window.show_view(key)
    qtbot.waitUntil(lambda: view.result is not None and view.drawn_result is view.result, timeout=30_000)
    turns = []
    monkeypatch.setattr(base, "later", lambda work, context=None: turns.append(work))
    return view, (view.result_spec, view.result, view._result_table), turns


def test_retention_draws_its_heatmap_on_a_turn_of_its_own(open_window, demo_project_path, qtbot, monkeypatch):
    view, computed, turns = drawn_view_with_turns_by_hand(open_window, demo_project_path, qtbot, monkeypatch,
                                                          "retention")
    view.chart.left.getPlotItem().clear()
    view.chart.right.getPlotItem().clear()
    view.drawn_result = None
    view._show_result(computed)
    turns.pop(0)()                                          # the first part: the curve, not the heatmap
    assert plotted(view.chart.left) > 0 and plotted(view.chart.right) == 0
    assert view.drawn_result is None and len(turns) == 1
    turns.pop(0)()                                          # the heatmap's cells, not yet its colour scale
    right = view.chart.right.getPlotItem()
    assert plotted(view.chart.right) > 0 and getattr(right, "_colour_bar", None) is None
    assert view.drawn_result is None and len(turns) == 1
    turns.pop(0)()                                          # the colour scale; painted later
    assert right._colour_bar is not None and view.drawn_result is None and len(turns) == 1
    assert not view.chart.updatesEnabled()
    view.model.clear()
    turns.pop(0)()                                          # the table, the chart's updates still off
    assert view.model.rowCount() > 0 and not view.chart.updatesEnabled() and view.drawn_result is None
    turns.pop(0)()                                          # the chart painted
    assert view.chart.updatesEnabled() and view.drawn_result is None and len(turns) == 1
    turns.pop(0)()                                          # drawn
    assert view.drawn_result is view.result and not turns


def test_a_chart_hidden_until_drawn_is_laid_out_on_a_turn_of_its_own(open_window, demo_project_path, qtbot,
                                                                      monkeypatch):
    """Opening a project, the first chart was shown (laid out), painted and its table swapped in in one
    turn: ~180 ms at 10M events. Each is a turn of its own, the chart painted once, after its layout."""
    view, computed, turns = drawn_view_with_turns_by_hand(open_window, demo_project_path, qtbot, monkeypatch,
                                                          "interval")
    view.set_chart_visible(False)                           # as a project just opened leaves it
    view.model.clear()
    view.drawn_result = None
    view._show_result(computed)
    turns.pop(0)()                                          # the whole chart (one part), still hidden
    assert not view.chart.isVisible() and not view.chart.updatesEnabled()
    turns.pop(0)()                                          # the table
    assert view.model.rowCount() > 0 and not view.chart.isVisible()
    turns.pop(0)()                                          # shown and laid out, not painted
    assert view.chart.isVisible() and not view.chart.updatesEnabled()
    turns.pop(0)()                                          # painted
    assert view.chart.updatesEnabled() and view.drawn_result is None
    turns.pop(0)()
    assert view.drawn_result is view.result and not turns


def newer_drawing_begun(open_window, demo_project_path, qtbot, monkeypatch):
    """The compare view drawing a result by hand-run turns: its first part drawn, then a newer result shown.
    Returns the view, the newer result and the turns still to run (the older drawing's next one first)."""
    view, old, turns = drawn_view_with_turns_by_hand(open_window, demo_project_path, qtbot, monkeypatch, "compare")
    view.drawn_result = None
    view._show_result(old)
    turns.pop(0)()                                          # the older result's first part
    newer = view.result_spec, copy.copy(old[1]), old[2]
    view._show_result(newer)
    return view, newer, turns


def test_a_newer_result_drops_the_rest_of_an_older_drawing(open_window, demo_project_path, qtbot, monkeypatch):
    view, newer, turns = newer_drawing_begun(open_window, demo_project_path, qtbot, monkeypatch)
    turns.pop(0)()                                          # the older result's next part: dropped
    assert view.drawn_result is None
    while turns:
        turns.pop(0)()
    assert view.drawn_result is newer[1]


def test_a_superseded_drawing_leaves_the_newer_ones_updates_off(open_window, demo_project_path, qtbot, monkeypatch):
    """The older drawing's next turn, after a newer drawing had begun, turned the chart's updates back on:
    the newer one's parts were then painted one by one."""
    view, newer, turns = newer_drawing_begun(open_window, demo_project_path, qtbot, monkeypatch)
    turns.pop(1)()                                          # the newer result's first part, before...
    assert not view.chart.updatesEnabled()
    turns.pop(0)()                                          # ...the older result's next turn: dropped
    assert not view.chart.updatesEnabled() and view.drawn_result is None
    while turns:
        turns.pop(0)()
    assert view.chart.updatesEnabled() and view.drawn_result is newer[1]


def test_called_directly_a_renderer_in_parts_draws_them_all(demo_project_path, qtbot):
    from journey_explorer.analysis import retention
    from journey_explorer.store.project import Project
    with Project.open(demo_project_path) as project:
        log = project.load_event_log()
    chart = renderer("retention")
    result = retention.run(log, retention.Spec())
    canvas = chart.make_canvas(PRESENTATION)
    qtbot.addWidget(canvas)
    chart.draw(result, result.spec, canvas, PRESENTATION)         # the module's render, as exports call it
    assert plotted(canvas.left) > 0 and plotted(canvas.right) > 0
    assert canvas.right.getPlotItem()._colour_bar is not None
    assert len(list(chart.steps(result, result.spec, canvas, PRESENTATION))) == 2     # three parts: two pauses


def test_a_view_shown_first_makes_its_canvas_before_its_analysis_starts(open_window, demo_project_path, qtbot,
                                                                         monkeypatch):
    """Made beside the computing worker, retention's two plots took 100-150 ms of the GUI thread at 10M
    events instead of ~25 ms: the canvas comes first, on a turn of its own, and the view still ends drawn."""
    window = open_window(demo_project_path)
    first = window.current_view()
    qtbot.waitUntil(lambda: first.result is not None and first.drawn_result is first.result, timeout=30_000)
    view = window.view_by_key["retention"]
    assert view._chart is None
    canvas_made_at_start = []
    pool = view.runner._pool

    class RecordingPool:           # what the view's runner hands its task to
        def start(self, job):
            canvas_made_at_start.append(view._chart is not None)
            pool.start(job)

    monkeypatch.setattr(view.runner, "_pool", RecordingPool())
    window.show_view("retention")
    assert view.runner.busy
    qtbot.waitUntil(lambda: view.result is not None and view.drawn_result is view.result, timeout=30_000)
    assert canvas_made_at_start == [True]
    assert plotted(view.chart.left) > 0 and plotted(view.chart.right) > 0


def test_the_process_map_draws_its_arrows_and_boxes_a_few_per_turn(demo_project_path, qtbot, monkeypatch):
    """All arrows with their labels in one turn took 100-160 ms at 10M events: a few per turn, the same
    items in the same order as a whole drawing."""
    from journey_explorer.analysis import graph
    from journey_explorer.charts.renderers import graph as graph_renderer
    from journey_explorer.store.project import Project
    with Project.open(demo_project_path) as project:
        log = project.load_event_log()
    result = graph_renderer.prepare(graph.run(log, graph.Spec(goal=log.default_goal)), PRESENTATION)
    chart = renderer("graph")
    whole, in_turns = chart.make_canvas(PRESENTATION), chart.make_canvas(PRESENTATION)
    for canvas in (whole, in_turns):
        qtbot.addWidget(canvas)
        canvas.resize(900, 600)
    chart.render(result, result.spec, whole, PRESENTATION)
    monkeypatch.setattr(graph_renderer, "ITEMS_PER_TURN", 3)
    turns = 1 + sum(1 for _ in chart.steps(result, result.spec, in_turns, PRESENTATION))
    routes, places = len(result.process_map.routes), len(result.process_map.places)
    assert routes > 3 and places > 3
    assert turns == -(-routes // 3) + -(-places // 3) + 1          # arrows, boxes, then the legend

    def items(canvas):
        return [(type(i).__name__, i.textItem.toPlainText() if isinstance(i, graph_renderer.pg.TextItem) else None)
                for i in canvas.getPlotItem().items]
    assert items(in_turns) == items(whole)


def test_the_process_map_shown_after_its_first_drawing_fits_its_boxes_to_its_size(open_window, demo_project_path,
                                                                                 qtbot):
    """A tab's chart is hidden until its first drawing's last turns, then shown and laid out: the process
    map fits its boxes' type to its size on screen, so it is drawn again at that size once shown."""
    from journey_explorer.charts.renderers import graph as graph_renderer
    window = open_window(demo_project_path)
    view = window.show_view("graph")
    qtbot.waitUntil(lambda: view.result is not None and view.drawn_result is view.result, timeout=30_000)
    qtbot.wait(400)                                          # the refit waits for the resizes to settle

    def texts(canvas):
        return [i.textItem.toPlainText() for i in canvas.getPlotItem().items if isinstance(i, graph_renderer.pg.TextItem)]
    same_size = view.chart_renderer.make_canvas(view.explorer.theme)
    qtbot.addWidget(same_size)
    same_size.resize(view.chart.size())
    view.chart_renderer.render(view.result, view.result_spec, same_size, view.explorer.theme)
    assert view.chart.width() > 640 and texts(view.chart) == texts(same_size)
