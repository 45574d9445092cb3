"""JSON that crashed the importer, and mappings guessed from values alone."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from journey_explorer.domain import ImportOptions, InputError
from journey_explorer.io import mapping as mapping_names
from journey_explorer.io.mapping import UnconfirmedMapping, guess_mapping, structured_columns
from journey_explorer.io.sources import detect_format, open_source
from journey_explorer.io.structured import json_shape
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project
from tests.store.stored import stored_events

RECORDS = [
    {"user_id": "u1", "event": "view", "timestamp": "2024-01-05T10:00:00Z", "tags": ["a", "b"],
     "items": [{"sku": 1}, {"sku": 2}], "score": 7},
    {"user_id": "u1", "event": "buy", "timestamp": "2024-01-05T10:05:00Z", "tags": [], "items": [], "score": 8},
    {"user_id": "u2", "event": "view", "timestamp": "2024-01-05T11:00:00Z", "tags": ["c"], "items": [{"sku": 3}]},
]


def stored(project):
    return [(e["user"], e["event"], e["properties"] or {}) for e in stored_events(project)]


@pytest.mark.parametrize("fmt", ["json", "auto"])
def test_list_valued_fields_are_json_text_properties(tmp_path, fmt):
    source = tmp_path / "events.json"
    source.write_text(json.dumps(RECORDS))
    summary = import_file(tmp_path / "p.journey", source, ImportOptions(format=fmt))
    assert (summary.read, summary.imported, summary.rejected) == (3, 3, 0)
    rows = stored(tmp_path / "p.journey")
    assert json.loads(rows[0][2]["tags"]) == ["a", "b"]
    assert json.loads(rows[0][2]["items"]) == [{"sku": 1}, {"sku": 2}]
    assert rows[0][2]["score"] == 7 and isinstance(rows[0][2]["score"], int)
    assert "score" not in rows[2][2]


def test_list_fields_are_never_guessed_as_user_event_or_time(tmp_path):
    # "events" is named like an event column and holds lists: it must not be the event.
    records = [{"who": f"u{i % 4}", "events": ["x", "y"], "at": f"2024-01-0{1 + i % 5}T10:00:00Z",
                "page": ["home", "cart", "pay"][i % 3]} for i in range(12)]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records))
    reader = open_source(str(source))
    assert "events" in structured_columns(reader.preview(200))
    with pytest.raises(UnconfirmedMapping) as caught:
        guess_mapping(reader)
    assert caught.value.mapping.event == "page"


def test_pretty_printed_object_holding_records_is_json_not_json_lines(tmp_path):
    source = tmp_path / "export.json"
    source.write_text(json.dumps({"exported": "2024-01-06", "events": RECORDS}, indent=2))
    assert detect_format(str(source)) == "json"
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.read, summary.imported, summary.rejected) == (3, 3, 0)


def test_pretty_printed_array_and_one_line_document(tmp_path):
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(RECORDS, indent=4))
    one_line = tmp_path / "one-line.json"
    one_line.write_text(json.dumps({"data": RECORDS}))
    for source in (pretty, one_line):
        assert detect_format(str(source)) == "json"
        assert len(open_source(str(source)).preview(10)) == 3


def test_json_lines_under_format_json_is_read_line_by_line(tmp_path):
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in RECORDS))
    summary = import_file(tmp_path / "p.journey", source, ImportOptions(format="json"))
    assert summary.imported == 3


@pytest.mark.parametrize("text, shape", [
    ('[{"a": 1}]', "json"),
    ('{\n "a": 1\n}', "json"),
    ('{"a": 1}\n{"a": 2}\n', "jsonl"),
    ('{"a": 1}', "jsonl"),
    ('{"event_params": [{"k": 1}, {"k": 2}], "a": 1, "b": 2, "c": 3, "d": 4, "e": 5}', "jsonl"),
    ('{"event_name": "x", "event_timestamp": 1, "event_params": [{"k": 1}, {"k": 2}]}', "jsonl"),
    ('{"batch": [{"a": 1}, {"a": 2}], "sentAt": "2024-01-05T10:00:00Z"}', "json"),
])
def test_json_shape(text, shape):
    assert json_shape(text) == shape


def test_broken_pretty_printed_json_names_the_line(tmp_path):
    source = tmp_path / "broken.json"
    source.write_text('{\n  "events": [\n    {"user": "u1",\n  ]\n}\n')
    with pytest.raises(InputError, match=r"broken.json:4"):
        import_file(tmp_path / "p.journey", source)
    assert not (tmp_path / "p.journey").exists()


def test_json_array_with_a_non_object_is_rejected_by_record(tmp_path):
    source = tmp_path / "mixed.json"
    source.write_text(json.dumps(RECORDS + [42]))
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.read, summary.imported, summary.rejected) == (4, 3, 1)


# --- guessed from content alone ------------------------------------------------------------------

PROFILES = pd.DataFrame({
    # A CleverTap-like profile export: one row per person; no name says event or time.
    "Identity": [f"id{i}" for i in range(30)],
    "utm_source": ["google", "newsletter", "facebook"] * 10,
    "Total Sessions": [str(i % 4) for i in range(30)],
    "Profile Created": [f"2024-01-{1 + i % 28:02d} 10:00" for i in range(30)],
    "Segment": ["gold", "silver", "bronze", "gold", "silver", "gold"] * 5,
})


def test_profile_file_is_refused_with_the_guess_and_how_to_confirm(tmp_path):
    source = tmp_path / "profiles.csv"
    PROFILES.to_csv(source, index=False)
    with pytest.raises(UnconfirmedMapping) as caught:
        import_file(tmp_path / "p.journey", source)
    message = str(caught.value)
    assert "guessed from the values alone" in message and "--event" in message and "--time" in message
    assert "Profile Created" in message and not (tmp_path / "p.journey").exists()
    guessed = caught.value.guessed
    confirmed = ImportOptions(**{role: getattr(caught.value.mapping, role) for role in ("user", "event", "time")})
    summary = import_file(tmp_path / "p.journey", source, confirmed)
    assert summary.imported == 30 and set(guessed) <= {"user", "event", "time"}


def test_confirming_only_some_guessed_columns_is_not_enough(tmp_path):
    source = tmp_path / "profiles.csv"
    PROFILES.to_csv(source, index=False)
    with pytest.raises(UnconfirmedMapping) as caught:
        import_file(tmp_path / "p.journey", source, ImportOptions(time="Profile Created"))
    assert "time" not in caught.value.guessed


def test_named_columns_need_no_confirmation(tmp_path):
    source = tmp_path / "events.csv"
    pd.DataFrame({"user_id": ["a", "b"], "event": ["x", "y"], "timestamp": ["2024-01-01", "2024-01-02"]}) \
        .to_csv(source, index=False)
    assert guess_mapping(open_source(str(source))).event == "event"


def test_wizard_style_guess_allows_content_only(tmp_path):
    source = tmp_path / "profiles.csv"
    PROFILES.to_csv(source, index=False)
    mapping = guess_mapping(open_source(str(source)), allow_content_only=True)
    assert mapping.time == "Profile Created"


def test_parquet_list_and_struct_columns_are_json_text(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    table = pa.table({"who": ["u1", "u1", "u2", "u3"] * 5, "what": ["a", "b", "a", "c"] * 5,
                      "tags": [["x", "y"], [], ["z"], ["q"]] * 5, "meta": [{"k": 1}, {"k": 2}, None, {"k": 3}] * 5,
                      "when": [f"2024-01-05T10:{i:02d}:00Z" for i in range(20)]})
    source = tmp_path / "events.parquet"
    pq.write_table(table, source)
    reader = open_source(str(source))
    assert {"tags", "meta"} <= structured_columns(reader.preview(20))
    with pytest.raises(UnconfirmedMapping):          # "who"/"what" are guesses from values, not names
        guess_mapping(reader)
    summary = import_file(tmp_path / "p.journey", source, ImportOptions(user="who", event="what", time="when"))
    assert summary.imported == 20
    first = stored(tmp_path / "p.journey")[0][2]
    assert json.loads(first["tags"]) == ["x", "y"] and json.loads(first["meta"]) == {"k": 1}


def test_a_time_found_by_its_values_is_enough_when_user_and_event_are_named(tmp_path):
    # "created" says nothing about time by name, but its values are dates; user and event are named.
    source = tmp_path / "events.csv"
    pd.DataFrame({"distinct_id": ["a", "b", "a"], "action": ["x", "y", "z"],
                  "recorded": ["2024-01-01 10:00", "2024-01-02 11:00", "2024-01-03 12:00"]}).to_csv(source, index=False)
    assert guess_mapping(open_source(str(source))).time == "recorded"
    profiles = tmp_path / "profiles.csv"          # there the user and the event are guesses too
    PROFILES.to_csv(profiles, index=False)
    with pytest.raises(UnconfirmedMapping):
        guess_mapping(open_source(str(profiles)))


def test_epoch_columns_are_named_times():
    assert "epoch" in mapping_names.TIME_NAMES and mapping_names.normalise("epoch_ms") == "epoch ms"


def _grouped_by_subject(path, subject: str = "subject"):
    """40 subjects x 6 events, grouped by subject as exports often are: the first 200 rows show only 34
    subjects, fewer distinct values than the 9 of "lesson" and close to the platform's 3."""
    rows = [(f"L-{482900 + s}", ["ios", "android", "web"][s % 3], ["start", "lesson", "done"][k % 3],
             f"2025-07-07T10:{k:02d}:00+02:00", f"Unit {1 + (s + k) % 9}") for s in range(40) for k in range(6)]
    pd.DataFrame(rows, columns=[subject, "platform", "activity", "occurred_at", "lesson"]).to_csv(path, index=False)
    return path


def test_content_guess_takes_the_id_column_for_the_user_not_a_platform(tmp_path):
    mapping = guess_mapping(open_source(str(_grouped_by_subject(tmp_path / "a.csv"))), allow_content_only=True)
    assert mapping.user == "subject"


def test_a_learner_column_names_the_user(tmp_path):
    mapping = guess_mapping(open_source(str(_grouped_by_subject(tmp_path / "a.csv", "learner"))))
    assert (mapping.user, mapping.event, mapping.time) == ("learner", "activity", "occurred_at")


def test_a_date_column_and_a_time_of_day_column_are_read_as_one_time(tmp_path):
    """A spreadsheet export: "date" 2025-03-01 and "time" 10:00:05 in two columns (the time named like
    the time, so it was chosen alone, and every row was rejected as an unreadable time)."""
    source = tmp_path / "split.csv"
    source.write_text("user_id,event,date,time,plan\nu1,open,2025-03-01,10:00:05,pro\nu1,buy,01.03.2025,10:01:10,pro\n"
                      "u2,open,2025-03-02,9:00,free\n".replace("01.03.2025", "2025-03-01"))
    mapping = guess_mapping(open_source(str(source)))
    assert (mapping.time, mapping.time_of_day) == ("date", "time")
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.imported, summary.rejected) == (3, 0)
    assert "Each time is the date in 'date' and the time of day in 'time', read together." in summary.notes
    events = stored_events(tmp_path / "p.journey")
    assert [e["ts"] for e in events] == [1740823205000, 1740823270000, 1740906000000]
    with Project.open(tmp_path / "p.journey") as project:
        assert project.event_property_names() == ["plan"]        # neither column is left as a property


def test_a_duration_beside_a_date_is_no_time_of_day(tmp_path):
    source = tmp_path / "calls.csv"
    source.write_text("user_id,event,date,duration\nu1,call,2025-03-01,45:10\nu1,call,2025-03-02,03:05\n"
                      "u2,call,2025-03-02,12:00\n")
    mapping = guess_mapping(open_source(str(source)))
    assert (mapping.time, mapping.time_of_day) == ("date", None)
    assert import_file(tmp_path / "p.journey", source).imported == 3


def test_content_guess_takes_an_email_for_the_user_over_a_quantity(tmp_path):
    source = tmp_path / "orders.csv"
    rows = [f"{name}@shop.io,{action},2025-03-0{day}T10:00:00Z,{qty}" for day, (name, action, qty) in
            enumerate([("ann", "view", 1), ("ann", "buy", 2), ("bob", "view", 1), ("bob", "view", 3),
                       ("cy", "buy", 1), ("cy", "view", 2)], start=1)]
    source.write_text("mail,action,ts,qty\n" + "\n".join(rows) + "\n")
    assert guess_mapping(open_source(str(source)), allow_content_only=True).user == "mail"
