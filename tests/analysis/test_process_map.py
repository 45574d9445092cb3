"""Process map layout and variants: geometry read from the layout data, counts checked by hand."""
from __future__ import annotations

import pandas as pd

from journey_explorer.analysis import graph, layout
from journey_explorer.analysis.variants import variants
from journey_explorer.eventlog import EventLog


def make_log(rows):
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


LOOPY = [("a", "home", 0), ("a", "cart", 10_000), ("a", "home", 20_000), ("a", "cart", 30_000), ("a", "buy", 90_000),
         ("b", "home", 0), ("b", "cart", 5_000), ("b", "buy", 65_000), ("c", "home", 0), ("c", "home", 1_000)]


def _on_box_edge(point, place) -> bool:
    left, bottom, right, top = place.box
    x, y = point
    inside = left - 1e-9 <= x <= right + 1e-9 and bottom - 1e-9 <= y <= top + 1e-9
    return inside and min(abs(x - left), abs(x - right), abs(y - bottom), abs(y - top)) < 1e-9


def check_geometry(pmap: layout.ProcessMap) -> None:
    for route in pmap.routes:
        source, target = pmap.places[route.source], pmap.places[route.target]
        tip, base1, base2 = route.arrow
        assert _on_box_edge(route.start, source), route             # leaves its source box
        assert _on_box_edge(tip, target), route                     # the arrow's tip touches the target box
        assert route.end == ((base1[0] + base2[0]) / 2, (base1[1] + base2[1]) / 2)   # the line ends at its base
        assert base1 != base2 and tip not in (base1, base2)                                 # a real triangle
        if not route.back:
            assert source.layer < target.layer
            # between its nodes: the curve stays within the two layers' vertical span
            points = route.points()
            assert all(target.y <= y <= source.y for _, y in points), route
            assert [y for _, y in points] == sorted((y for _, y in points), reverse=True)   # always downwards
        # and it never crosses another box
        others = [p for name, p in pmap.places.items() if name not in (route.source, route.target)]
        for x, y in route.points():
            assert not any(p.box[0] < x < p.box[2] and p.box[1] < y < p.box[3] for p in others), (route, x, y)


def test_hand_checked_layout():
    result = graph.run(make_log(LOOPY))
    pmap = result.process_map
    places = pmap.places
    assert places[layout.START].layer == 0 and places[layout.END].layer == pmap.layers - 1
    assert places["home"].layer < places["cart"].layer < places["buy"].layer
    routes = {(r.source, r.target): r for r in pmap.routes}
    assert routes[("cart", "home")].back and not routes[("home", "cart")].back
    assert routes[(layout.START, "home")].count == 3 and routes[("buy", layout.END)].count == 2
    assert routes[("home", layout.END)].count == 1
    assert ("home", "home") not in routes          # the self-loop is written on the node instead
    check_geometry(pmap)


def test_demo_map_default_is_readable_and_keeps_the_goal(demo_project_path):
    from journey_explorer.state.filters import FilterState
    from journey_explorer.state.registry import VIEW_BY_KEY
    from journey_explorer.store.project import Project
    with Project.open(demo_project_path) as project:
        log = project.load_event_log()
    spec = VIEW_BY_KEY["graph"].default_spec(log, FilterState(goal=log.default_goal))
    result = graph.run(log, spec)
    pmap = result.process_map
    assert len(pmap.routes) <= 25
    assert log.default_goal in pmap.places and any(r.target == log.default_goal for r in pmap.routes)
    check_geometry(pmap)
    assert result.variants["share"].is_monotonic_decreasing and len(result.variants) == 10


def test_variants_hand_checked():
    frame = variants(make_log(LOOPY), goal="buy")
    rows = {r["variant"]: r for r in frame.to_dict("records")}
    assert rows["home → cart → home → cart → buy"]["paths"] == 1
    assert rows["home → cart → buy"]["median_seconds"] == 65.0 and rows["home → cart → buy"]["reached_goal"]
    home = rows["home"]                          # repeats merged: c's "home home" is one step
    assert (home["steps"], home["share"], home["median_seconds"], home["reached_goal"]) == (1, 1 / 3, 1.0, False)


def test_strongest_path_to_a_rare_goal_is_kept():
    # 10 paths home -> browse; the goal "buy" is reached by 2 paths: home -> cart -> buy (x2) is the
    # strongest way there (its weakest edge carries 2), home -> help -> buy carries 1.
    rows = [(f"u{i}", "home", 0) for i in range(10)] + [(f"u{i}", "browse", 1000) for i in range(4, 10)]
    rows += [("u0", "cart", 1000), ("u0", "buy", 2000), ("u1", "cart", 1000), ("u1", "buy", 2000),
             ("u2", "help", 1000), ("u2", "buy", 2000)]
    log = make_log(rows)
    assert graph.strongest_path(graph.build_graph(log), "buy") == ["home", "cart", "buy"]
    without = graph.run(log, graph.Spec(min_share=0.5, min_edge_share=0.5))
    kept = graph.run(log, graph.Spec(min_share=0.5, min_edge_share=0.5, goal="buy"))
    assert "buy" not in without.graph and "cart" not in without.graph
    assert {("home", "cart"), ("cart", "buy")} <= set(kept.graph.edges) and "help" not in kept.graph


def test_plain_graph_searches_like_networkx():
    # The graph is simplified as plain dicts (no networkx import); its searches must pick what
    # networkx picks, the same path among equally short ones included.
    import random

    import networkx as nx
    rng = random.Random(5)
    for _ in range(40):
        names = [f"n{i}" for i in range(rng.randint(2, 12))]
        arrows = graph.Arrows()
        for name in names:
            arrows.add_node(name)
        for _ in range(rng.randint(1, 40)):
            arrows.add_edge(rng.choice(names), rng.choice(names), count=rng.randint(1, 5))
        reference = arrows.to_networkx()
        assert list(reference.edges(data=True)) == arrows.edges()
        for source in names[:4]:
            assert arrows.descendants(source) == nx.descendants(reference, source)
            for target in names[-3:]:
                expected = nx.shortest_path(reference, source, target) if nx.has_path(reference, source, target) else None
                assert arrows.shortest_path(source, target) == expected
