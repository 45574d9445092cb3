"""The numpy paths that replaced pandas or per-key numpy calls (issue 16, whole-process speed) give the
same answers as the code they replaced, kept here as the reference: bit for bit, ties included."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journey_explorer.analysis import arrays, goals, lifecycle, variants
from journey_explorer.analysis.arrays import Groups
from journey_explorer.analysis.records import json_records
from journey_explorer.analysis.variants import ARROW, COLUMNS, variant_rows
from journey_explorer.eventlog import EventLog


def random_log(seed: int, users: int = 300, events: int = 6, max_steps: int = 6) -> EventLog:
    """Short paths over few event names and coarse times: many equal variants, sizes and gaps."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(users):
        steps = int(rng.integers(1, max_steps + 1))
        start = int(rng.integers(0, 60)) * 86_400_000
        gaps = np.cumsum(rng.integers(0, 4, steps)) * 60_000
        rows += [(f"u{user:04d}", f"e{int(rng.integers(0, events))}", start + int(g)) for g in gaps]
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


@pytest.mark.parametrize("sort_all", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_group_quantiles_are_numpys_to_the_bit(seed, sort_all, monkeypatch):
    if sort_all:                            # the way for many keys: one sort of every value
        monkeypatch.setattr(arrays, "PARTITION_KEYS", 0)
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 40))
    keys = rng.integers(0, size, int(rng.integers(1, 2000)))
    values = [rng.integers(0, 30, len(keys)), rng.exponential(50, len(keys)).round(1),
              rng.normal(0, 1e6, len(keys))][seed % 3]
    quantiles = (0.0, 0.1, 0.5, 0.9, 0.99, 1.0)
    groups = Groups(keys, size)
    grouped = values[groups.order]
    expected = np.full((len(quantiles), size), np.nan)
    for key in np.flatnonzero(groups.counts):
        expected[:, key] = np.quantile(grouped[groups.bounds[key]:groups.bounds[key + 1]], quantiles)
    assert np.array_equal(groups.quantiles(values, quantiles), expected, equal_nan=True)


def test_group_quantiles_with_nan_follow_numpy():
    keys, values = np.array([0, 0, 1, 1]), np.array([1.0, np.nan, 2.0, 4.0])
    assert np.array_equal(Groups(keys, 2).quantiles(values, (0.5,)), [[np.nan, 3.0]], equal_nan=True)


def pandas_variants(log: EventLog, goal: str | None, top: int) -> list[dict]:
    """The variants as the pandas groupby computed them before (the reference)."""
    starts = np.flatnonzero(log.path_starts())
    ends = np.append(starts[1:], len(log))
    keys, durations = [], (log.ts[ends - 1] - log.ts[starts]) / 1000.0
    for a, b in zip(starts, ends):
        codes = log.event[a:b]
        merged = codes[np.r_[True, codes[1:] != codes[:-1]]]
        keys.append("".join(chr(0x100 + int(c)) for c in merged))
    grouped = (pd.DataFrame({"key": keys, "seconds": durations}).groupby("key")["seconds"].agg(["size", "median"])
               .sort_values("size", ascending=False).head(top))
    goal_letter = chr(0x100 + log.event_names.index(goal)) if goal in log.event_names else None
    frame = pd.DataFrame([{"variant": ARROW.join(log.event_names[ord(c) - 0x100] for c in key), "steps": len(key),
                           "paths": int(size), "share": size / len(starts), "median_seconds": round(float(median), 3),
                           "reached_goal": None if goal_letter is None else goal_letter in key}
                          for key, size, median in zip(grouped.index, grouped["size"], grouped["median"])],
                         columns=COLUMNS)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@pytest.mark.parametrize("as_text", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_variants_without_pandas_match_the_groupby_ties_included(seed, as_text, monkeypatch):
    if as_text:                             # the way for many event types or very long paths
        monkeypatch.setattr(variants, "BYTES_LIMIT", 0)
    log = random_log(seed, events=3 + seed % 3, max_steps=2 + seed % 4)
    for top in (1, 3, 10):                  # small tops cut through runs of equal sizes
        assert variant_rows(log, "e1", top) == pandas_variants(log, "e1", top)
    assert variant_rows(log, None, 5) == pandas_variants(log, None, 5)


@pytest.mark.parametrize("seed", range(10))
def test_goal_guess_is_the_first_row_of_the_score_table(seed):
    log = random_log(seed, users=60 + 20 * seed, events=4 + seed % 5)
    assert goals.guess_goal(log) == goals.goal_scores(log).index[0]


def test_goal_guess_breaks_a_full_tie_by_name_order_as_the_table_does():
    # "a" and "b" behave identically (same reach, lateness, repeats, endings): the table lists "a" first.
    rows = [(f"u{i}", "start", 0) for i in range(10)] + [(f"u{i}", "a" if i % 2 else "b", 1000) for i in range(4)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    table = goals.goal_scores(log)
    assert table.loc["a", "score"] == table.loc["b", "score"] > 0
    assert goals.guess_goal(log) == table.index[0] == "a"


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_lifecycle_columns_give_the_table_pandas_built(period):
    log = random_log(5, users=400)
    result = lifecycle.run(log, lifecycle.Spec(period=period))
    reference = pd.DataFrame(lifecycle.counts(log, period))
    with np.errstate(divide="ignore", invalid="ignore"):
        quick = (reference["new"] + reference["resurrected"]) / -reference["dormant"]
    reference["quick_ratio"] = np.round(quick.where(reference["dormant"] < 0), 3)
    pd.testing.assert_frame_equal(result.table, reference)
    assert result.to_json_dict()["periods"] == json_records(reference)
    assert np.isnan(result.columns["quick_ratio"][0])           # nobody can go dormant in the first period


def sorted_pairs_reference(log: EventLog, size: int):
    """The goal score's lateness and repetition as computed before ``path_event_pairs`` (the reference):
    first occurrences from a stable sort of user * size + event, repeats from np.unique's counts."""
    key = log.user.astype(np.int64) * size + log.event
    order = np.argsort(key, kind="stable")
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    pairs, counts = np.unique(log.event.astype(np.int64) * (log.n_users + 1) + log.user, return_counts=True)
    codes = pairs // (log.n_users + 1)
    once = np.bincount(codes[counts == 1], minlength=size) / np.maximum(np.bincount(codes, minlength=size), 1)
    return np.sort(order[first]), once, np.bincount(codes, minlength=size)


@pytest.mark.parametrize("seed", range(6))
def test_goal_score_parts_from_one_grouping_equal_the_sorts_they_replace(seed):
    log = random_log(seed, users=200, events=3 + seed, max_steps=8)
    size = len(log.event_names)
    firsts, once, reach = sorted_pairs_reference(log, size)
    got_firsts, pair_event, pair_count = goals.path_event_pairs(log, size)
    assert np.array_equal(got_firsts, firsts)
    assert np.array_equal(goals._once(size, pair_event, pair_count), once)
    assert np.array_equal(np.bincount(pair_event, minlength=size), reach)
    assert np.array_equal(np.bincount(pair_event, minlength=size), goals.goal_reach(log))


def lateness_reference(log: EventLog, size: int) -> np.ndarray:
    """Lateness as computed before (the reference): medians per event from one lexsort."""
    firsts = sorted_pairs_reference(log, size)[0]
    path, event = log.user[firsts], log.event[firsts]
    run_start = np.flatnonzero(np.r_[True, path[1:] != path[:-1]])
    run_length = np.diff(np.append(run_start, len(path)))
    rank = np.arange(len(path)) - np.repeat(run_start, run_length)
    distinct = np.repeat(run_length, run_length)
    share = np.where(distinct > 1, rank / np.maximum(distinct - 1, 1), 1.0)
    by_event = np.lexsort((share, event))
    event, share = event[by_event], share[by_event]
    counts = np.bincount(event, minlength=size)
    start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    medians = np.zeros(size)
    has = counts > 0
    medians[has] = (share[start[has] + (counts[has] - 1) // 2] + share[start[has] + counts[has] // 2]) / 2
    return medians


@pytest.mark.parametrize("seed", range(6))
def test_goal_lateness_medians_equal_the_lexsort_they_replace(seed):
    log = random_log(seed, users=150 + 50 * seed, events=3 + seed, max_steps=9)
    size = len(log.event_names)
    firsts = goals.path_event_pairs(log, size)[0]
    assert np.array_equal(goals._lateness(log, size, firsts), lateness_reference(log, size))


@pytest.mark.parametrize("seed", range(6))
def test_group_medians_are_np_median_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 30))
    keys = rng.integers(0, size, int(rng.integers(1, 3000)))
    values = rng.exponential(3.0, len(keys)).round(seed % 4)
    expected = [np.median(values[keys == key]) if np.any(keys == key) else np.nan for key in range(size)]
    assert np.array_equal(arrays.group_medians(keys, values, size), np.array(expected), equal_nan=True)


@pytest.mark.parametrize("period", ["day", "week"])
def test_retention_json_without_pandas_is_what_its_tables_say(period):
    from journey_explorer.analysis import retention
    result = retention.run(random_log(3, users=500), retention.Spec(period=period, max_periods=6))
    out = result.to_json_dict()
    assert out["curve"] == json_records(result.curve) and out["cohorts"] == json_records(result.cohorts)
    assert list(result.curve.dtypes.astype(str)) == ["int64", "int64", "int64", "float64"]
    assert any(value is None for row in out["cohorts"] for value in row.values())    # young cohorts' cells
    assert retention.read_out(result.curve, period) == retention.read_out(result.curve_columns, period)


@pytest.mark.parametrize("seed", range(6))
def test_run_numbers_and_step_index_are_what_np_repeat_gave(seed):
    """``run_numbers`` replaced np.repeat (which holds the GIL, freezing the window at 10M events)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 7, int(rng.integers(1, 50)))
    starts = np.append(0, np.cumsum(lengths)[:-1])
    assert arrays.run_numbers(starts, int(lengths.sum())).tolist() == np.repeat(np.arange(len(lengths)), lengths).tolist()
    log = random_log(seed, users=80)
    path_starts, ends = arrays.path_bounds(log)
    assert arrays.step_index(log).tolist() == (np.arange(len(log)) - np.repeat(path_starts, ends - path_starts)).tolist()


@pytest.mark.parametrize("seed", range(6))
def test_running_count_and_distinct_with_inverse_are_numpys(seed):
    """Both replace numpy calls that hold the GIL at 10M (a converting cumulative sum, np.unique's
    inverse): same values, same dtypes, ties and empty input included."""
    rng = np.random.default_rng(seed)
    marks = rng.random(int(rng.integers(0, 60))) < 0.4
    counted = arrays.running_count(marks)
    assert counted.dtype == np.cumsum(marks).dtype and counted.tolist() == np.cumsum(marks).tolist()
    values = rng.integers(-5, 8, int(rng.integers(0, 60))) * 1_000_003
    distinct, inverse = arrays.distinct_with_inverse(values)
    expected_distinct, expected_inverse = np.unique(values, return_inverse=True)
    assert distinct.tolist() == expected_distinct.tolist() and inverse.tolist() == expected_inverse.tolist()
    assert distinct.dtype == expected_distinct.dtype


@pytest.mark.parametrize("seed", range(6))
def test_variants_of_paths_longer_than_one_word_match_the_groupby(seed):
    """Paths of more than 8 merged events take two or more 64-bit words (``variants.word_order``
    sorts the ones that fit in the first word apart from the longer ones)."""
    log = random_log(seed, events=3, max_steps=12 + 4 * seed)
    for top in (3, 10, 50):
        assert variant_rows(log, "e1", top) == pandas_variants(log, "e1", top)


@pytest.mark.parametrize("seed", range(6))
def test_word_order_sorts_rows_as_lexsort_does(seed):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 4, (500, 1 + seed % 3)).astype(np.uint64)
    keys[rng.random(500) < 0.7, 1:] = 0             # most rows fit in the first word
    order = variants.word_order(keys)
    assert sorted(order.tolist()) == list(range(500))
    assert np.array_equal(keys[order], keys[np.lexsort(keys.T[::-1])])
