"""Path graph: hand-checked counts, and agreement with a plain pandas directly-follows count."""
from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from journey_explorer.analysis import graph
from journey_explorer.eventlog import EventLog


def make_log(rows):
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


def test_hand_checked_graph():
    log = make_log([("a", "home", 0), ("a", "cart", 10_000), ("a", "home", 40_000), ("a", "cart", 50_000),
                    ("b", "home", 0), ("b", "cart", 30_000), ("c", "home", 5_000)])
    result = graph.run(log)
    edges = {(e["source"], e["target"]): e for e in result.edges()}
    assert edges[("home", "cart")]["count"] == 3 and edges[("home", "cart")]["users"] == 2
    # home->cart gaps: 10 s, 10 s, 30 s -> median 10, p90 = 10 + 0.8 * 20 = 26
    assert edges[("home", "cart")]["median_seconds"] == 10.0 and edges[("home", "cart")]["p90_seconds"] == 26.0
    assert edges[("cart", "home")]["count"] == 1
    nodes = {n["event"]: n for n in result.nodes()}
    assert (nodes["home"]["users"], nodes["home"]["events"], nodes["home"]["starts"], nodes["home"]["ends"]) == (3, 4, 3, 1)
    assert (nodes["cart"]["ends"], nodes["cart"]["position"]) == (2, 1.0)
    assert sum(e["count"] for e in result.edges()) == len(log) - log.paths_count


def test_ties_keep_file_order():
    log = make_log([("a", "z", 0), ("a", "b", 0), ("a", "a", 0)])
    assert {(e["source"], e["target"]) for e in graph.run(log).edges()} == {("z", "b"), ("b", "a")}


def test_min_share_keeps_kept_nodes_reachable():
    rows = [(f"u{i}", "start", 0) for i in range(10)] + [(f"u{i}", "main", 1000) for i in range(10)]
    rows += [("u0", "rare", 2000), ("u0", "side", 3000), ("u1", "side", 2000), ("u2", "side", 2000)]
    result = graph.run(make_log(rows), graph.Spec(min_share=0.25))
    assert set(result.graph.nodes) == {"start", "main", "side"}
    # main->side (count 2) is below 25% of the largest edge (10): it is put back so side stays reachable
    assert ("main", "side") in result.graph.edges


rows_strategy = st.lists(st.tuples(st.sampled_from("uvw"), st.sampled_from("ABC"), st.integers(0, 5)),
                         min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_matches_plain_pandas_directly_follows(rows):
    frame = pd.DataFrame(rows, columns=["user", "event", "time"])
    result = graph.run(EventLog.from_frame(frame))
    ordered = frame.reset_index().sort_values(["user", "time", "index"], kind="stable")
    ordered["next"] = ordered.groupby("user")["event"].shift(-1)
    expected = ordered.dropna(subset=["next"]).groupby(["event", "next"]).size().to_dict()
    got = {(e["source"], e["target"]): e["count"] for e in result.edges()}
    assert got == expected
    assert sum(got.values()) == len(frame) - frame["user"].nunique()


def test_separate_path_slider_keeps_nodes_but_drops_rare_edges():
    rows = [(f"u{i}", "a", 0) for i in range(10)] + [(f"u{i}", "b", 1) for i in range(10)]
    rows += [("u0", "a", 2), ("u1", "c", 2), ("u2", "c", 2), ("u3", "c", 2), ("u4", "c", 2), ("u5", "c", 2)]
    log = make_log(rows)
    # activity slider 0 keeps every node; path slider 40% drops b->a (1 of 10) but keeps b->c (5 of 10)
    result = graph.run(log, graph.Spec(min_share=0.0, min_edge_share=0.4))
    assert set(result.graph.nodes) == {"a", "b", "c"}
    assert ("b", "c") in result.graph.edges and ("b", "a") not in result.graph.edges
