"""Duplicates means identical: hand-checked fixtures for each rule (issue 10, point 1)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from journey_explorer.domain import ImportOptions
from journey_explorer.io import arrow_csv
from journey_explorer.store.importer import duplicate_pairs, import_file, sort_order
from journey_explorer.store.project import Project


@pytest.fixture(autouse=True, params=["pyarrow", "pandas"])
def csv_path(request, monkeypatch):
    """Each fixture is read by pyarrow's fast path (where it applies) and by the pandas reader."""
    if request.param == "pandas":
        monkeypatch.setattr(arrow_csv, "pa", None)
    elif arrow_csv.pa is None:
        pytest.skip("pyarrow is not installed")
    return request.param


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def events_of(project: Path, user: str) -> list[str]:
    with Project.open(project) as p:
        log = p.load_event_log()
    code = list(log.user_keys).index(user)
    return [log.event_names[e] for e in log.event[log.user == code]]


def test_start_and_complete_at_the_same_time_are_both_kept(tmp_path):
    text = ("case,activity,time,lifecycle:transition\n"
            "c1,review,2024-01-01T10:00:00Z,start\n"
            "c1,review,2024-01-01T10:00:00Z,complete\n"
            "c1,decide,2024-01-01T11:00:00Z,complete\n")
    # lifecycle "all": keep both transitions as rows (the default keeps completed work only)
    summary = import_file(tmp_path / "p.journey", write(tmp_path, "a.csv", text), ImportOptions(lifecycle="all"))
    assert (summary.read, summary.imported, summary.duplicates) == (3, 3, 0)
    with Project.open(tmp_path / "p.journey") as p:
        log = p.load_event_log()
        lifecycle = log.event_properties["lifecycle:transition"]
        assert [lifecycle.value_at(i) for i in range(3)] == ["start", "complete", "complete"]   # file order kept


def test_sepsis_like_rows_with_different_lab_values_are_all_kept(tmp_path):
    # Same case, activity and time; one row carries CRP 13.0, its twin nothing (sepsis.csv lines 7/8 shape).
    text = ("Case ID;Activity;Complete Timestamp;CRP;Leucocytes\n"
            "A;CRP;2014/10/22 11:27:00.000;13.0;\n"
            "A;CRP;2014/10/22 11:27:00.000;;\n"
            "A;Leucocytes;2014/10/22 11:27:00.000;;9.6\n"
            "A;Leucocytes;2014/10/22 11:27:00.000;;9.7\n")
    summary = import_file(tmp_path / "p.journey", write(tmp_path, "s.csv", text))
    assert (summary.imported, summary.duplicates) == (4, 0)
    with Project.open(tmp_path / "p.journey") as p:
        crp = p.load_event_log().event_properties["CRP"]
    assert [crp.value_at(i) for i in range(4)] == [13.0, None, None, None]


def test_exact_duplicates_are_skipped_and_listed_with_their_lines(tmp_path):
    text = ("user,event,time,plan\n"
            "u1,a,2024-01-01T10:00:00Z,free\n"      # line 2
            "u1,a,2024-01-01T10:00:00Z,free\n"      # line 3: repeats line 2
            "u1,a,2024-01-01T10:00:00Z,pro\n"       # line 4: another plan, kept
            "u2,b,2024-01-01T10:00:00Z,free\n"
            "u1,a,2024-01-01T10:00:00Z,free\n")     # line 6: repeats line 2
    project = tmp_path / "p.journey"
    summary = import_file(project, write(tmp_path, "a.csv", text))
    assert (summary.imported, summary.duplicates, summary.duplicate_lines) == (3, 2, [3, 6])
    second = import_file(project, write(tmp_path, "b.csv", "user,event,time,plan\nu2,b,2024-01-01T10:00:00Z,free\n"
                                        "u2,b,2024-01-01T10:00:00Z,pro\n"))
    assert (second.imported, second.duplicates, second.duplicate_lines) == (1, 1, [2])
    with Project.open(project) as p:
        listed = p.duplicate_rows()
    assert listed["line"].tolist() == [3, 6, 2]
    # the first file's repeats point at line 2 (event 0); the second file's at an earlier import's event
    assert listed["original_line"].tolist()[:2] == [2, 2] and np.isnan(listed["original_line"].tolist()[2])
    assert listed["original_event_id"].tolist() == [0, 0, 2]


def test_sub_millisecond_times_keep_rows_apart_and_in_order(tmp_path):
    # GA4-like: two events 510 µs apart in different sessions, written in reverse order.
    text = ("user,event,time,session\n"
            "u1,page_view,2024-01-01T10:00:00.000610Z,s2\n"
            "u1,page_view,2024-01-01T10:00:00.000100Z,s1\n")
    summary = import_file(tmp_path / "p.journey", write(tmp_path, "g.csv", text))
    assert (summary.imported, summary.duplicates) == (2, 0)
    with Project.open(tmp_path / "p.journey") as p:
        log = p.load_event_log()
        arrays = p.load_arrays()
    assert log.ts.tolist() == [1704103200000, 1704103200000]          # analyses keep ms
    assert arrays["sub_ms"].tolist() == [100, 610] and arrays["id"].tolist() == [1, 0]   # ordered by µs
    assert log.session.tolist() == [0, 1]


def test_epoch_microseconds_keep_their_microseconds(tmp_path):
    text = "user,event,event_timestamp\nu1,a,1704103200000610\nu1,a,1704103200000100\nu1,a,1704103200000100\n"
    summary = import_file(tmp_path / "p.journey", write(tmp_path, "e.csv", text))
    assert (summary.imported, summary.duplicates, summary.duplicate_lines) == (2, 1, [4])
    with Project.open(tmp_path / "p.journey") as p:
        assert p.load_arrays()["sub_ms"].tolist() == [100, 610]


def test_mixpanel_insert_id_needs_the_same_event_user_and_time(tmp_path):
    text = ("distinct_id,event,time,$insert_id,page\n"
            "u1,view,2024-01-01T10:00:00Z,i1,/a\n"
            "u1,view,2024-01-01T10:00:00Z,i1,/b\n"      # same insert id, event, user, time: duplicate
            "u1,view,2024-01-01T10:00:01Z,i1,/a\n"      # another time: kept
            "u1,view,2024-01-01T10:00:00Z,i2,/a\n")     # another insert id: kept
    summary = import_file(tmp_path / "p.journey", write(tmp_path, "m.csv", text))
    assert (summary.imported, summary.duplicates, summary.duplicate_lines) == (3, 1, [3])


def test_an_event_id_alone_identifies_an_event(tmp_path):
    text = ("user_id,event,timestamp,message_id\n"
            "u1,view,2024-01-01T10:00:00Z,m1\n"
            "u2,click,2024-01-02T10:00:00Z,m1\n"        # same message id: duplicate whatever else differs
            "u1,view,2024-01-01T10:00:00Z,m2\n"
            "u1,view,2024-01-01T10:00:00Z,\n")          # no id: compared as a whole row, kept (no twin)
    project = tmp_path / "p.journey"
    summary = import_file(project, write(tmp_path, "s.csv", text))
    assert (summary.imported, summary.duplicates, summary.duplicate_lines) == (3, 1, [3])
    again = import_file(project, write(tmp_path, "t.csv", "user_id,event,timestamp,message_id\n"
                                       "u9,other,2024-02-01T10:00:00Z,m2\nu9,other,2024-02-01T10:00:00Z,m3\n"))
    assert (again.imported, again.duplicates) == (1, 1)


def test_duplicate_pairs_point_at_the_earliest_row():
    arrays = {"user": np.array([0, 0, 0, 0]), "ts": np.array([5, 5, 5, 5]), "event": np.array([1, 1, 2, 1]),
              "insert_hash": np.zeros(4, dtype=np.int64), "sub_ms": np.array([0, 0, 0, 0]),
              "property:p": np.array([3, 3, 3, -1]), "id": np.arange(4)}
    repeated, originals = duplicate_pairs(arrays, first_new_id=0)
    assert (repeated.tolist(), originals.tolist()) == ([1], [0])      # row 3 lacks p: not identical
    arrays["sub_ms"] = np.array([0, 1, 0, 0])
    assert duplicate_pairs(arrays, first_new_id=0)[0].tolist() == []


def test_sort_order_breaks_time_ties_by_microseconds_then_file_order():
    user, ts = np.array([0, 0, 0]), np.array([7, 7, 7])
    assert sort_order(user, ts, np.array([0, 1, 2]), np.array([500, 100, 100])).tolist() == [1, 2, 0]


# two sorts of values (5M users over six months); one argsort (the ranks among a user's rows do not fit
# beside 2^20 users over 2^40 ms); a lexsort (the users and times alone do not fit in 63 bits)
@pytest.mark.parametrize("users, span", [(5_000_000, 180 * 86_400_000), (1 << 20, 1 << 40), (1 << 30, 1 << 40),
                                         (3, 1 << 60)])
def test_sort_order_agrees_with_a_lexsort_whatever_the_bits_the_data_needs(users, span):
    rng = np.random.default_rng(users % 1000)
    user = rng.integers(0, users, 20_000)
    user[:50] = user[50]            # ties on the user and the time, broken by id
    ts = 1_700_000_000_000 + rng.integers(0, span, 20_000)
    ts[:50] = ts[50]
    ids = rng.permutation(20_000)
    assert sort_order(user, ts, ids).tolist() == np.lexsort((ids, ts, user)).tolist()
