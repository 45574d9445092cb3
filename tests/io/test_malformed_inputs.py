"""Broken variants of each shape: a clear message with file and line, or the row rejected; never a
traceback, and a failed import leaves no project behind."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from journey_explorer.domain import ImportOptions, InputError
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project
from tests.store.stored import stored_events


def write_lines(path, lines):
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def rejected(project):
    with Project.open(project) as p:
        return [(line, reason) for line, reason in p.conn.execute("SELECT line, reason FROM rejected_rows ORDER BY line")]


def test_segment_broken_line_and_track_without_event(tmp_path):
    source = write_lines(tmp_path / "segment.jsonl", [
        {"type": "track", "userId": "u1", "event": "A", "timestamp": "2024-01-05T10:00:00Z"},
        '{"type": "track", "userId": "u1", "event": ',
        {"type": "track", "userId": "u1", "timestamp": "2024-01-05T10:01:00Z"},
        {"type": "track", "userId": "u2", "event": "B", "timestamp": "yesterday"},
    ])
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.read, summary.imported, summary.rejected) == (4, 1, 3)
    lines = [line for line, _ in rejected(tmp_path / "p.journey")]
    assert lines == [2, 3, 4]


def test_mixpanel_record_without_time_or_user_is_rejected(tmp_path):
    source = write_lines(tmp_path / "mixpanel.jsonl", [
        {"event": "A", "properties": {"distinct_id": "m1", "time": 1704448800}},
        {"event": "B", "properties": {"distinct_id": "m1", "time": None}},
        {"event": "C", "properties": {"time": 1704448900}},
    ])
    summary = import_file(tmp_path / "p.journey", source, ImportOptions(format="mixpanel"))
    assert (summary.read, summary.imported, summary.rejected) == (3, 1, 2)


def test_amplitude_without_event_type_and_with_a_bad_time(tmp_path):
    source = write_lines(tmp_path / "amplitude.jsonl", [
        {"event_type": "Open", "user_id": "u1", "event_time": "2024-01-05 10:00:00.000000"},
        {"event_type": None, "user_id": "u1", "event_time": "2024-01-05 10:01:00.000000"},
        {"event_type": "Open", "user_id": "u1", "event_time": "not a time"},
    ])
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.format, summary.imported, summary.rejected) == ("amplitude", 1, 2)


def test_ga4_param_with_unreadable_int_stays_text(tmp_path):
    source = write_lines(tmp_path / "ga4.jsonl", [
        {"event_name": "x", "event_timestamp": "1704448800000000", "user_pseudo_id": "p",
         "event_params": [{"key": "n", "value": {"int_value": "twelve"}}, {"value": {"int_value": "1"}}]}])
    import_file(tmp_path / "p.journey", source)
    (event,) = stored_events(tmp_path / "p.journey")
    assert event["properties"] == {"event_params.n": "twelve"}


@pytest.mark.parametrize("content, message", [
    ('{"objectTypes": [], "eventTypes": [], "objects": [], "events": []}', "no events"),
    ('{"objectTypes": [], "eventTypes": [],\n "events": [\n {"id": }\n]}', r"log.json:3: not valid JSON"),
    ('{"ocel:global-log": {}, "ocel:events": {"e1": {"ocel:activity": "a", "ocel:timestamp": "2024-01-01",'
     ' "ocel:omap": ["zz"]}}, "ocel:objects": {}}', "none linked to events"),
])
def test_broken_ocel(tmp_path, content, message):
    source = tmp_path / "log.json"
    source.write_text(content)
    with pytest.raises(InputError, match=message):
        import_file(tmp_path / "p.journey", source, ImportOptions(format="ocel", object_type="order"))
    assert not (tmp_path / "p.journey").exists()


def test_snowplow_format_forced_on_a_plain_csv(tmp_path):
    source = tmp_path / "plain.csv"
    source.write_text("user,event,time\nu1,a,2024-01-05T10:00:00Z\n")
    with pytest.raises(InputError, match="Snowplow enriched TSV.*131"):
        import_file(tmp_path / "p.journey", source, ImportOptions(format="snowplow"))


def test_xes_lifecycle_with_broken_times_still_imports_the_rest(tmp_path):
    xes = ('<?xml version="1.0"?><log><trace><string key="concept:name" value="c1"/>'
           '<event><string key="concept:name" value="A"/><string key="lifecycle:transition" value="start"/>'
           '<date key="time:timestamp" value="garbage"/></event>'
           '<event><string key="concept:name" value="A"/><string key="lifecycle:transition" value="complete"/>'
           '<date key="time:timestamp" value="2024-01-05T10:00:00Z"/></event></trace></log>')
    source = tmp_path / "log.xes"
    source.write_text(xes)
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.read, summary.imported, summary.skipped, summary.rejected) == (2, 1, 1, 0)


def test_cli_flags_reach_the_readers(tmp_path):
    rows = [("c1", "A", "start", "2024-01-05T10:00:00Z"), ("c1", "A", "complete", "2024-01-05T10:00:30Z")]
    source = tmp_path / "log.csv"
    source.write_text("case:concept:name,concept:name,lifecycle:transition,time:timestamp\n"
                      + "\n".join(",".join(r) for r in rows) + "\n")
    run = subprocess.run([sys.executable, "-m", "journey_explorer.cli", "import", str(tmp_path / "p.journey"),
                          str(source), "--lifecycle", "split", "--json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["imported"] == 2
    ocel = tmp_path / "log.jsonocel"
    ocel.write_text(json.dumps({"objectTypes": [], "eventTypes": [], "objects": [{"id": "o1", "type": "order"}],
                                "events": [{"id": "e1", "type": "a", "time": "2024-01-05T10:00:00Z",
                                            "relationships": [{"objectId": "o1"}]}]}))
    refused = subprocess.run([sys.executable, "-m", "journey_explorer.cli", "import", str(tmp_path / "q.journey"),
                              str(ocel)], capture_output=True, text=True)
    assert refused.returncode != 0 and "--object-type" in refused.stderr and "Traceback" not in refused.stderr
    chosen = subprocess.run([sys.executable, "-m", "journey_explorer.cli", "import", str(tmp_path / "q.journey"),
                             str(ocel), "--object-type", "order", "--json"], capture_output=True, text=True)
    assert json.loads(chosen.stdout)["imported"] == 1


@pytest.mark.parametrize("fmt, records", [
    ("segment", [{"type": "track", "userId": "u", "event": "A", "timestamp": "2024-01-05T10:00:00Z",
                  "properties": ["not", "an", "object"], "context": "text"},
                 {"type": ["track"], "userId": "u", "event": "B", "timestamp": "2024-01-05T10:00:00Z"}]),
    ("mixpanel", [{"event": "A", "properties": {"distinct_id": "u", "time": 1704448800}},
                  {"event": "B", "properties": "broken"}]),
    ("amplitude", [{"event_type": "A", "user_id": "u", "event_time": "2024-01-05 10:00:00",
                    "event_properties": "{\"a\": 1}", "user_properties": ["x"]}]),
    ("ga4", [{"event_name": "A", "event_timestamp": 1704448800000000, "user_pseudo_id": "u",
              "event_params": [{"key": "k", "value": 5}, "junk"], "user_properties": None}]),
    ("posthog", [{"event": "A", "distinct_id": "u", "timestamp": "2024-01-05T10:00:00Z", "properties": [1]}]),
])
def test_vendor_fields_of_the_wrong_type_never_crash(tmp_path, fmt, records):
    source = write_lines(tmp_path / "in.jsonl", records)
    summary = import_file(tmp_path / "p.journey", source, ImportOptions(format=fmt))
    assert summary.imported >= 1 and summary.read == len(records)
