"""The JSON Lines reader's fast path (json's C scanner on a whole line) against json.loads: the same
values with the same types, and every line it cannot read whole goes to json.loads for its value or
its message."""
from __future__ import annotations

import gc
import json

import pytest

from journey_explorer.domain import InputError
from journey_explorer.io import structured
from journey_explorer.io.structured import _parse_json_line, collection_paused
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project


@pytest.mark.parametrize("line, expected", [
    ('{"n": 1, "f": 1.0, "e": 1e2, "neg": -0, "big": 123456789012345678901234567890}',
     {"n": 1, "f": 1.0, "e": 100.0, "neg": 0, "big": 123456789012345678901234567890}),
    ('{"a": {"b": [1, {"c": null}]}, "t": true, "s": "\\u00e9\\ud83d\\ude00"}',
     {"a": {"b": [1, {"c": None}]}, "t": True, "s": "é😀"}),
    ('{"k": 1, "k": "two"}', {"k": "two"}),                     # a repeated key: the last one, as json.loads
    (' {"lead": 1}', {"lead": 1}),                               # whitespace around: json.loads's own path
    ('{"trail": 2} \t', {"trail": 2}),
    ('{"inf": Infinity, "nan": NaN}', {"inf": float("inf")}),   # NaN compared apart below
])
def test_values_and_types_are_json_loads_ones(line, expected):
    value, problem = _parse_json_line(line)
    assert problem == ""
    loaded = json.loads(line)
    assert repr(value) == repr(loaded)          # repr tells 1 from 1.0 and True from 1
    assert [type(v) for v in value.values()] == [type(v) for v in loaded.values()]
    assert {k: v for k, v in value.items() if k != "nan"} == expected


@pytest.mark.parametrize("line, problem", [
    ('{"a": 1}}', "not valid JSON (Extra data)"),
    ('{"a": 1}{"b": 2}', "not valid JSON (Extra data)"),
    ('{"a": ', "not valid JSON (Expecting value)"),
    ('{"a": "x\ty"}', "not valid JSON (Invalid control character at)"),
    ('\ufeff{"a": 1}', "not valid JSON (Unexpected UTF-8 BOM (decode using utf-8-sig))"),
    ('[{"a": 1}]', "not a JSON object"),
    ('"text"', "not a JSON object"),
    (' 7 ', "not a JSON object"),
    ('{"deep": ' + "[" * 5000 + "]" * 5000 + "}", "JSON nested more than about 1000 levels deep"),
])
def test_a_line_that_is_no_record_says_why_as_before(line, problem):
    assert _parse_json_line(line) == (None, problem)
    assert structured._parse_json_line_checked(line) == (None, problem)


def test_a_file_with_broken_lines_keeps_their_numbers_and_reasons(tmp_path):
    source = tmp_path / "events.jsonl"
    source.write_text('{"user": "a", "event": "x", "ts": "2024-01-05T10:00:00Z", "n": 1}\n'
                      '{"user": "a", "event": "y", "ts": "2024-01-05T10:00:01Z"}}\n'
                      '\n'
                      ' {"user": "b", "event": "x", "ts": "2024-01-05T10:00:02Z", "n": 2.5} \n'
                      '[1, 2]\n')
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.imported, summary.rejected) == (2, 2)
    with Project.open(tmp_path / "p.journey") as project:
        rejected = project.rejected_rows()
    assert rejected["line"].tolist() == [2, 5]
    assert rejected["reason"].tolist() == ["not valid JSON (Extra data)", "not a JSON object"]


def test_collection_is_paused_inside_and_restored_after():
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()                     # the window's GUI thread runs with it off: it stays off
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_collection_comes_back_after_a_failed_read(tmp_path):
    source = tmp_path / "empty.jsonl"
    source.write_text("\n")
    with pytest.raises(InputError, match="empty"):
        structured.JsonReader(str(source), "jsonl")
    assert gc.isenabled()


def test_a_vendor_property_named_like_a_canonical_column_is_renamed_in_place():
    from journey_explorer.io.vendors import Normalised
    rows = Normalised()
    rows.add(0, "u1", "open", "2024-01-01T00:00:00Z", properties={"plan": "pro", "n": 1})
    rows.add(1, "u1", "open", "2024-01-01T00:00:01Z", properties={"a": 1, "user": "x", "time": 2, "z": 3})
    assert list(rows.rows[0]) == ["user", "event", "time", "session", "insert_id", "plan", "n"]
    assert list(rows.rows[1]) == ["user", "event", "time", "session", "insert_id", "a", "source.user", "source.time", "z"]
    assert rows.rows[1]["user"] == "u1" and rows.rows[1]["source.user"] == "x"
    assert list(rows.frame().columns) == ["user", "event", "time", "session", "insert_id", "plan", "n", "a",
                                          "source.user", "source.time", "z"]
