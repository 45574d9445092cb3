"""Flows: hand-checked Sankey counts, anchors, Other/Drop-off, goal split, and flow invariants."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey_explorer.analysis import flows
from journey_explorer.domain import StepCountError, UnknownEvent
from journey_explorer.eventlog import EventLog


def make_log(rows, goal=None):
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]), default_goal=goal)


ROWS = [("a", "home", 0), ("a", "cart", 60_000), ("a", "pay", 120_000),
        ("b", "home", 0), ("b", "cart", 30_000),
        ("c", "home", 0), ("c", "help", 10_000), ("c", "cart", 20_000), ("c", "pay", 50_000),
        ("d", "search", 0)]


def node(result, step, event, group=None):
    rows = result.nodes[(result.nodes.step == step) & (result.nodes.event == event)]
    if group:
        rows = rows[rows.group == group]
    return int(rows.users.sum())


def link(result, step, source, target):
    rows = result.links[(result.links.step == step) & (result.links.source == source) & (result.links.target == target)]
    return rows.iloc[0] if len(rows) else None


def test_forward_from_first_event():
    result = flows.run(make_log(ROWS), flows.Spec(steps=3))
    assert result.paths == 4
    assert (node(result, 1, "home"), node(result, 1, "search")) == (3, 1)
    assert (node(result, 2, "cart"), node(result, 2, "help"), node(result, 2, "Drop-off")) == (2, 1, 1)
    home_cart = link(result, 1, "home", "cart")
    assert home_cart.users == 2 and home_cart.share_of_start == 0.5 and home_cart.median_seconds == 45.0
    assert node(result, 3, "Drop-off") == 1          # b ended after cart; d's drop-off is not counted again
    assert link(result, 2, "Drop-off", "Drop-off") is None


def test_top_k_merges_the_rest_into_other():
    result = flows.run(make_log(ROWS), flows.Spec(steps=2, top=1))
    assert node(result, 1, "home") == 3 and node(result, 1, "Other") == 1
    assert node(result, 2, "cart") == 2 and node(result, 2, "Other") == 1


def test_from_to_and_backward_anchors():
    between = flows.run(make_log(ROWS), flows.Spec(from_event="cart", to_event="pay", steps=3))
    assert between.paths == 2 and node(between, 2, "pay") == 2 and node(between, 3, "Drop-off") == 0
    backward = flows.run(make_log(ROWS), flows.Spec(to_event="pay", steps=3))
    # a: home cart pay; c: help cart pay (step 3 is the target, counted back)
    assert (node(backward, 3, "pay"), node(backward, 2, "cart")) == (2, 2)
    assert (node(backward, 1, "home"), node(backward, 1, "help")) == (1, 1)
    short = flows.run(make_log(ROWS), flows.Spec(to_event="cart", steps=3))
    assert node(short, 1, "Path start") == 2         # a and b reached cart at their 2nd event


def test_split_by_goal_and_drill_down():
    result = flows.run(make_log(ROWS, goal="pay"), flows.Spec(steps=2, split="goal", goal="pay"))
    assert node(result, 1, "home", "successful") == 2 and node(result, 1, "home", "failing") == 1
    users = result.users_at(2, "cart", "successful")
    assert sorted(result.user_keys[users]) == ["a"]
    assert sorted(result.user_keys[result.users_at(2, "cart")]) == ["a", "b"]


def test_exclude_and_collapse():
    rows = [("a", "x", 0), ("a", "x", 1), ("a", "noise", 2), ("a", "y", 3)]
    result = flows.run(make_log(rows), flows.Spec(steps=2, exclude=("noise",), collapse_repeats=True))
    assert link(result, 1, "x", "y").users == 1


def test_unknown_event_and_bad_steps():
    with pytest.raises(UnknownEvent, match="No event named 'nope'"):
        flows.run(make_log(ROWS), flows.Spec(from_event="nope"))
    with pytest.raises(StepCountError, match="Steps must be between 1 and 20, not 21") as refused:
        flows.run(make_log(ROWS), flows.Spec(steps=21))
    assert (refused.value.count, refused.value.minimum, refused.value.maximum) == (21, 1, flows.MAX_STEPS)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("uvwxyz"), st.sampled_from("ABCD"), st.integers(0, 9)),
                min_size=1, max_size=50),
       st.integers(2, 6), st.integers(1, 4))
def test_users_in_equal_users_out_plus_drop_off(rows, steps, top):
    result = flows.run(make_log(rows), flows.Spec(steps=steps, top=top))
    nodes, links = result.nodes, result.links
    for step in range(1, steps):
        for row in nodes[(nodes.step == step) & (nodes.event != "Drop-off")].itertuples():
            out = links[(links.step == step) & (links.source == row.event)].users.sum()
            assert out == row.users          # onward links include the Drop-off link
        assert nodes[nodes.step == step].users.sum() <= result.paths
    assert nodes[nodes.step == 1].users.sum() == result.paths == len({r[0] for r in rows})
    assert np.all(result.matrix[:, 0] != result.labels.index("Drop-off"))
