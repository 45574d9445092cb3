"""Event properties: typed, dictionary-encoded, aligned with the sorted log across imports and
hidden events, loaded lazily; old projects upgrade (issue 10 point 2, issue 12 point 1)."""
from __future__ import annotations

import decimal
import io
import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlite_utils import Database

from journey_explorer.analysis.common import subset
from journey_explorer.domain import JourneyError
from journey_explorer.store import importer
from journey_explorer.store import properties as stored_properties
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project
from journey_explorer.store.properties import PropertyDictionary, flatten, normalise_value, typed_text
from journey_explorer.store.schema import MIGRATIONS
from journey_explorer.store.version import SCHEMA_VERSION


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def values_by_event(log, name: str) -> dict[tuple[str, str, int], object]:
    """(user, event, ts) -> the property's value, read through the codes."""
    column = log.event_properties[name]
    assert column.codes.dtype == np.int32 and len(column.codes) == len(log)
    return {(log.user_keys[u], log.event_names[e], int(t)): column.value_at(i)
            for i, (u, e, t) in enumerate(zip(log.user, log.event, log.ts))}


FIRST = ("user,event,time,plan,amount,case:age\n"
         "u1,signup,2024-01-01T10:00:00Z,free,,30\n"
         "u1,buy,2024-01-01T11:00:00Z,free,12.5,30\n"
         "u2,signup,2024-01-01T09:00:00Z,pro,,41\n")
SECOND = ("user,event,time,plan,amount,country\n"
          "u2,buy,2024-01-02T09:00:00Z,enterprise,100,DE\n"
          "u3,signup,2024-01-01T08:00:00Z,pro,,FR\n"
          "u1,login,2024-01-01T10:30:00Z,,,DE\n")


def test_properties_are_typed_and_aligned_after_two_imports_and_hidden_events(tmp_path):
    project = tmp_path / "p.journey"
    import_file(project, write(tmp_path, "a.csv", FIRST))
    with Project.open(project) as p:
        first_values = list(p.load_event_log(properties="all").event_properties["plan"].values)
    import_file(project, write(tmp_path, "b.csv", SECOND))
    with Project.open(project) as p:
        log = p.load_event_log(properties="all")
        p.set_hidden("signup")
        hidden = p.load_event_log(properties="all")
        assert p.event_property_names() == ["plan", "amount", "age", "country"]
        assert p.user_properties().to_dict("records")[0] == {"age": "30"}    # case: still a user property
    plan = log.event_properties["plan"]
    assert list(plan.values[:len(first_values)]) == first_values == ["free", "pro"]   # codes stable
    assert list(plan.values) == ["free", "pro", "enterprise"]
    expected_amount = {("u1", "signup", 1704103200000): None, ("u1", "login", 1704105000000): None,
                       ("u1", "buy", 1704106800000): 12.5, ("u2", "signup", 1704099600000): None,
                       ("u2", "buy", 1704186000000): 100, ("u3", "signup", 1704096000000): None}
    assert values_by_event(log, "amount") == expected_amount
    assert [type(v) for v in log.event_properties["amount"].values] == [float, int]    # numbers stay numbers
    assert values_by_event(log, "age")[("u2", "signup", 1704099600000)] == 41           # case: column, no prefix
    assert values_by_event(log, "country")[("u1", "buy", 1704106800000)] is None        # not in the first file
    assert values_by_event(log, "plan")[("u1", "login", 1704105000000)] is None
    # hiding an event slices the property codes like the events
    visible = {key: value for key, value in values_by_event(log, "plan").items() if key[1] != "signup"}
    assert values_by_event(hidden, "plan") == visible and len(hidden) == 3


def test_properties_load_lazily_and_refuse_a_changed_project(tmp_path, monkeypatch):
    project = tmp_path / "p.journey"
    import_file(project, write(tmp_path, "a.csv", FIRST))
    with Project.open(project) as p:
        p.set_hidden("buy")
        lazy = p.load_event_log()
        chosen = p.load_event_log(properties=["plan", "nosuch"])
    assert list(chosen.event_properties) == ["plan"]
    assert sorted(lazy.event_properties) == ["age", "amount", "plan"]
    # read after the project was closed, sliced like the events (buy hidden), and narrowed by take
    assert [lazy.event_properties["plan"].value_at(i) for i in range(len(lazy))] == ["free", "pro"]
    reads = []
    real = stored_properties.stored_codes
    monkeypatch.setattr(stored_properties, "stored_codes", lambda *args: reads.append(args[1]) or real(*args))
    narrowed = subset(lazy, np.array([False, True])).event_properties     # a filter reads nothing
    assert reads == []
    assert narrowed["age"].values[narrowed["age"].codes].tolist() == [41] and reads == ["age"]
    assert subset(lazy, np.array([True, False])).event_properties["age"].value_at(0) == 30 and reads == ["age"]
    import_file(project, write(tmp_path, "b.csv", SECOND))
    with pytest.raises(JourneyError, match="changed since"):
        lazy.event_properties["amount"].value_at(0)


def test_typed_values_from_parquet_and_json(tmp_path):
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({
        "user_id": ["u1", "u1"], "event": ["a", "b"],
        "timestamp": pd.to_datetime(["2024-01-01T10:00:00Z", "2024-01-01T11:00:00Z"]),
        "case:signed_up": pd.to_datetime(["2023-12-01T08:00:00.000001Z"] * 2),
        "price": [decimal.Decimal("9.99"), decimal.Decimal("1.50")],
        "tags": [["x", "y"], []], "count": [3, 4], "flag": [True, False],
        "ratio": [float("inf"), 0.5]})
    source = tmp_path / "events.parquet"
    frame.to_parquet(source)
    summary = import_file(tmp_path / "p.journey", source)
    assert summary.imported == 2
    with Project.open(tmp_path / "p.journey") as p:
        log = p.load_event_log(properties="all")
        users = p.user_properties()
    props = {name: [column.value_at(i) for i in range(2)] for name, column in log.event_properties.items()}
    assert props["signed_up"] == ["2023-12-01T08:00:00.000001+00:00"] * 2
    assert props["price"] == [9.99, 1.5] and props["count"] == [3, 4] and props["flag"] == [True, False]
    assert props["tags"] == ['["x", "y"]', "[]"] and props["ratio"] == [float("inf"), 0.5]
    assert users.loc[0, "signed_up"] == "2023-12-01T08:00:00.000001+00:00"


def test_nested_json_fields_are_flattened_with_dotted_names(tmp_path):
    source = write(tmp_path, "e.jsonl",
                   '{"user": "a", "event": "x", "ts": "2024-01-05T10:00:00Z", "meta": {"k": 1, "deep": {"v": "s"}}}\n'
                   '{"user": "b", "event": "x", "ts": "2024-01-05T10:00:01Z", "meta": {"k": 2}, "list": [1, 2]}\n')
    import_file(tmp_path / "p.journey", source)
    with Project.open(tmp_path / "p.journey") as p:
        log = p.load_event_log(properties="all")
    props = {name: [column.value_at(i) for i in range(2)] for name, column in log.event_properties.items()}
    assert props["meta.k"] == [1, 2] and props["meta.deep.v"] == ["s", None] and props["list"] == [None, "[1, 2]"]


def test_vendor_properties_column_is_flattened(tmp_path):
    """A reader's JSON object column (``mapping.properties_column``) becomes dotted properties."""
    records = [{"type": "track", "event": "Viewed", "userId": "u1", "messageId": "m1",
                "timestamp": "2024-01-05T10:00:00Z", "properties": {"path": "/pricing", "cart": {"items": 2}}},
               {"type": "track", "event": "Viewed", "userId": "u1", "messageId": "m1",
                "timestamp": "2024-01-05T10:00:00Z", "properties": {"path": "/other"}}]
    source = write(tmp_path, "segment.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.format, summary.imported, summary.duplicates) == ("segment", 1, 1)   # messageId alone
    with Project.open(tmp_path / "p.journey") as p:
        log = p.load_event_log(properties="all")
    names = set(log.event_properties)
    assert any(n.endswith("cart.items") for n in names) and any(n.endswith("path") for n in names)
    path = next(log.event_properties[n] for n in names if n.endswith("path"))
    assert path.value_at(0) == "/pricing"


def test_normalise_and_type_values():
    assert normalise_value(pd.NaT) is normalise_value(None) is normalise_value(float("nan"))
    assert normalise_value(np.int64(4)) == 4 and isinstance(normalise_value(np.int64(4)), int)
    assert normalise_value(decimal.Decimal("2.5")) == 2.5
    assert normalise_value({"a": pd.Timestamp("2024-01-01")}) == '{"a": "2024-01-01T00:00:00"}'
    assert typed_text(["1", "2"]) == [1, 2] and typed_text(["1e3", "2"]) == [1000.0, 2]
    assert typed_text(["0012", "5"]) == ["0012", "5"]
    assert flatten({"a": {}, "b": {"c": None}}) == {"a": {}, "b.c": None}


def test_property_dictionary_keeps_existing_codes_and_tells_true_from_one():
    dictionary = PropertyDictionary([True, "x"])
    provisional = dictionary.encode(np.array(["1", " x ", None, "2", "1"], dtype=object))
    dictionary.finish()
    assert dictionary.final(provisional).tolist() == [2, 1, -1, 3, 2]
    assert dictionary.values[:2] == [True, "x"]
    # "x" makes the column text, so "1" stays the text "1" (not True, not a number)
    assert dictionary.values[2:] == ["1", "2"]


def test_pandas_factorizer_fallback_gives_the_same_project(tmp_path, monkeypatch):
    text = "user,event,time,plan\nu1,a,2024-01-01T10:00:00Z,free\n u2 ,b,2024-01-01T11:00:00Z,pro\nu1,b,2024-01-02T10:00:00Z,\n"
    source = write(tmp_path, "a.csv", text)
    import_file(tmp_path / "fast.journey", source)
    monkeypatch.setattr(importer, "ObjectFactorizer", None)
    import_file(tmp_path / "plain.journey", source)
    tables = ("users", "event_types", "event_chunks", "log_cache", "event_property_columns")

    def contents(path):
        conn = sqlite3.connect(path)
        try:
            return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
        finally:
            conn.close()
    assert contents(tmp_path / "fast.journey") == contents(tmp_path / "plain.journey")


def _npy(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, values, allow_pickle=False)
    return buffer.getvalue()


def test_an_older_project_is_upgraded_with_its_properties(tmp_path):
    path = tmp_path / "old.journey"
    conn = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS.apply(Database(conn), stop_before="m003_event_properties")
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO sources(id, path, sha256) VALUES (1, 'x.csv', 'abc')")
    conn.executemany("INSERT INTO users(id, key) VALUES (?, ?)", [(0, "u1"), (1, "u2")])
    conn.executemany("INSERT INTO event_types(id, name, display_name) VALUES (?, ?, ?)", [(0, "a", "a"), (1, "b", "b")])
    # file order: u2 b (10), u1 a (5), u1 b (6); sorted by (user, ts): ids 1, 2, 0
    conn.executemany("INSERT INTO events(id, user_id, event_type_id, ts, session, source_id, properties) "
                     "VALUES (?, ?, ?, ?, 0, 1, ?)",
                     [(0, 1, 1, 10, '{"plan": "pro", "n": "3"}'), (1, 0, 0, 5, '{"plan": "free"}'),
                      (2, 0, 1, 6, None)])
    cache = {"id": np.array([1, 2, 0]), "user": np.array([0, 0, 1], dtype=np.int32),
             "event": np.array([0, 1, 1], dtype=np.int32), "ts": np.array([5, 6, 10]),
             "session": np.array([0, 0, 1])}
    conn.executemany("INSERT INTO log_cache(name, data) VALUES (?, ?)", [(k, _npy(v)) for k, v in cache.items()])
    conn.close()
    with Project.open(path) as p:
        log = p.load_event_log(properties="all")
        assert p.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [log.event_properties["plan"].value_at(i) for i in range(3)] == ["free", None, "pro"]
    assert [log.event_properties["n"].value_at(i) for i in range(3)] == [None, None, 3]


@pytest.mark.parametrize("pyarrow", [True, False])
def test_a_column_with_too_many_distinct_values_is_not_stored_and_said(tmp_path, monkeypatch, pyarrow):
    from journey_explorer.io import arrow_csv
    if not pyarrow:
        monkeypatch.setattr(arrow_csv, "pa", None)
    monkeypatch.setattr(importer, "MAX_PROPERTY_VALUES", 3)
    rows = "".join(f"u{i % 2},e,2024-01-01T10:0{i}:00Z,o{i},web\n" for i in range(5))
    # the same time twice, told apart only by the unstored order id; then a true repeat (line 9)
    rows += "u0,e,2024-01-01T10:00:00Z,o9,web\nu0,e,2024-01-01T10:00:00Z,o9,web\nu0,e,2024-01-01T10:00:00Z,o0,web\n"
    summary = import_file(tmp_path / "p.journey", write(tmp_path, "a.csv", "user,event,time,order_id,platform\n" + rows))
    assert (summary.imported, summary.duplicates) == (6, 2) and summary.duplicate_lines == [8, 9]
    assert summary.unstored_properties == ["order_id"]
    assert "order_id" in summary.describe()
    with Project.open(tmp_path / "p.journey") as p:
        assert list(p.load_event_log(properties="all").event_properties) == ["platform"]
