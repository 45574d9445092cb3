"""Pure helpers of the store: ordering, sessions, duplicate detection, dictionary encoding."""
from __future__ import annotations

import numpy as np

from journey_explorer.store.importer import (
    Dictionary,
    duplicate_positions,
    session_number_within_user,
    sessions_with_keys,
    sort_order,
)
from journey_explorer.store.importer.planning import _constant, _taken, order_by_sorting_values


def test_sort_order_by_user_then_time_then_file_order():
    user = np.array([1, 0, 0, 1, 0])
    ts = np.array([5, 9, 9, 1, 3])
    ids = np.array([0, 1, 2, 3, 4])
    # user 0: ts 3 (id 4), ts 9 (id 1), ts 9 (id 2); user 1: ts 1 (id 3), ts 5 (id 0)
    assert sort_order(user, ts, ids).tolist() == [4, 1, 2, 3, 0]


def test_sort_order_falls_back_for_huge_time_spans():
    user = np.array([0, 0])
    ts = np.array([1 << 50, 0])
    assert sort_order(user, ts, np.array([0, 1])).tolist() == [1, 0]


def test_order_by_sorting_values_keeps_ties_in_row_order_and_finds_each_row_again():
    user = np.array([2, 0, 2, 2, 0])
    time = np.array([4, 6, 1, 4, 6])
    # user 0: rows 1, 4 (time 6, a tie: row order); user 2: row 2 (time 1), rows 0, 3 (time 4, a tie)
    order, keys = order_by_sorting_values(user, time, time_bits=3)
    assert order.tolist() == [1, 4, 2, 0, 3]
    assert keys.tolist() == [6, 6, 2 * 8 + 1, 2 * 8 + 4, 2 * 8 + 4]


def test_order_by_sorting_values_gives_up_when_the_ranks_do_not_fit():
    # 2 bits of users + 60 of time + 1 of rank (two rows for user 3) fit in 63; a third row needs 2 bits
    assert order_by_sorting_values(np.array([3, 3]), np.array([1, 0]), time_bits=60)[0].tolist() == [1, 0]
    assert order_by_sorting_values(np.array([3, 3, 3]), np.array([1, 0, 2]), time_bits=60) is None


def test_sort_order_on_two_cores_is_the_lexsort_order(monkeypatch):
    """Above TWO_CORE_SORT_ROWS the sorts run as two halves and a merge: the same order as one lexsort."""
    from journey_explorer.store.importer import planning
    monkeypatch.setattr(planning, "TWO_CORE_SORT_ROWS", 8)
    rng = np.random.default_rng(3)
    user, ts = rng.integers(0, 40, 1_001), rng.integers(0, 50, 1_001)
    ids = rng.permutation(1_001)
    assert sort_order(user, ts, ids).tolist() == np.lexsort((ids, ts, user)).tolist()


def test_taken_gathers_every_column_by_positions_or_mask_and_lets_go_of_the_originals():
    columns = {"ts": np.array([10, 20, 30, 40]), "event": np.array([1, 2, 3, 4], dtype=np.int32),
               "sub_ms": _constant(0, 4)}
    taken = _taken(dict(columns), np.array([3, 0, 2]))
    assert taken["ts"].tolist() == [40, 10, 30] and taken["event"].dtype == np.int32
    assert taken["event"].tolist() == [4, 1, 3] and taken["sub_ms"].tolist() == [0, 0, 0]
    assert taken["sub_ms"].strides == (0,)             # a constant column stays one value
    by_mask = dict(columns)
    taken = _taken(by_mask, np.array([True, False, False, True]))
    assert taken["ts"].tolist() == [10, 40] and taken["event"].tolist() == [1, 4] and len(taken["sub_ms"]) == 2
    assert by_mask == {} and list(taken) == ["ts", "event", "sub_ms"]


def test_sessions_with_keys_mixes_explicit_keys_and_gaps():
    user = np.array([0, 0, 0, 0, 1, 1])
    ts = np.array([0, 10, 20, 1000, 0, 5])
    keys = np.array([-1, -1, -1, -1, 7, 8])
    # user 0 has no keys: a gap > 100 starts a session; user 1 changes key at its 2nd event
    assert sessions_with_keys(user, ts, keys, gap_ms=100).tolist() == [0, 0, 0, 1, 2, 3]
    assert session_number_within_user(user, np.array([0, 0, 0, 1, 2, 3])).tolist() == [0, 0, 0, 1, 0, 1]


def test_duplicates_within_file_and_against_existing():
    def arrays(users, events, ts, hashes):     # already sorted by (user, ts, id)
        return {"user": np.array(users), "event": np.array(events), "ts": np.array(ts),
                "insert_hash": np.array(hashes), "id": np.arange(len(users))}
    # id 0 exists; row 1 repeats it, rows 2/3 differ by event, rows 4/5 by insert id, row 7 repeats row 6
    rows = arrays([0, 0, 0, 0, 1, 1, 2, 2], [1, 1, 1, 2, 1, 1, 0, 0], [100, 100, 200, 200, 100, 100, 1, 1],
                  [0, 0, 0, 0, 5, 6, 0, 0])
    assert duplicate_positions(rows, first_new_id=1).tolist() == [1, 7]
    # existing events are never dropped, even if they repeat each other
    assert duplicate_positions(rows, first_new_id=2).tolist() == [7]
    assert duplicate_positions(arrays([3], [0], [1], [0]), first_new_id=0).tolist() == []


def test_sort_order_puts_ties_back_in_id_order():
    rng = np.random.default_rng(5)
    user, ts = rng.integers(0, 5, 2000), rng.integers(0, 20, 2000)
    ids = rng.permutation(2000)
    expected = np.lexsort((ids, ts, user))
    assert sort_order(user, ts, ids).tolist() == expected.tolist()


def test_dictionary_strips_merges_and_skips_rejected_values():
    dictionary = Dictionary(["alice"])
    first, missing = dictionary.encode(np.array(["bob", " alice ", None, "  "], dtype=object))
    assert missing.tolist() == [False, False, True, True]
    second, _ = dictionary.encode(np.array(["carol", "bob"], dtype=object))
    # "carol" only appeared in a rejected row: it gets no code
    dictionary.finish([first[~missing], second[1:]])
    assert dictionary.final(first[~missing]).tolist() == [1, 0]
    assert dictionary.final(second[1:]).tolist() == [1]
    assert dictionary.new == {"bob": 1} and len(dictionary) == 2


def test_taken_refuses_a_column_too_short_for_its_positions_or_mask():
    import pytest

    from journey_explorer.domain import JourneyError
    with pytest.raises(JourneyError, match=r"\['short'\]"):
        _taken({"ts": np.arange(3), "short": np.arange(2)}, np.array([2, 0, 1]))
    with pytest.raises(JourneyError, match=r"\['short'\]"):
        _taken({"ts": np.arange(3), "short": np.arange(2)}, np.array([True, False, True]))
