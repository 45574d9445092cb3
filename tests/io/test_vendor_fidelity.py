"""Vendor exports keep what the vendor wrote: identities, times, descriptive fields, typed and
nested properties, personal-data flags. Fixtures follow each vendor's documented export shape."""
from __future__ import annotations

import json

import numpy as np
import pytest

from journey_explorer.cli.arguments import flag_name
from journey_explorer.domain import ImportOptions, InputError
from journey_explorer.io import vendors
from journey_explorer.io.sources import detect_format, open_source
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project
from tests.store.stored import stored_events

T0 = 1704448800000          # 2024-01-05T10:00:00Z in ms
IST_MS = (5 * 60 + 30) * 60_000


def write_lines(path, records):
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def events(project):
    """(user key, event name, ts ms, properties dict) in id order."""
    return [(e["user"], e["event"], e["ts"], e["properties"] or {}) for e in stored_events(project)]


def user_properties(project):
    with Project.open(project) as p:
        rows = p.conn.execute("SELECT key, properties FROM users").fetchall()
    return {key: json.loads(props) if props else {} for key, props in rows}


# --- Segment -------------------------------------------------------------------------------------

SEGMENT = [
    {"type": "page", "anonymousId": "anon-1", "name": "Home", "messageId": "m1",
     "timestamp": "2024-01-05T10:00:00Z", "context": {"ip": "10.0.0.1", "locale": "en-GB"}},
    {"type": "track", "anonymousId": "anon-1", "event": "Viewed Plan", "messageId": "m2",
     "timestamp": "2024-01-05T10:01:00Z", "properties": {"plan": "pro", "price": 49, "tags": ["a", "b"]}},
    {"type": "identify", "anonymousId": "anon-1", "userId": "ann", "messageId": "m3",
     "timestamp": "2024-01-05T10:02:00Z", "traits": {"email": "ann@example.com", "name": "Ann", "seats": 3}},
    {"type": "track", "userId": "ann", "event": "Subscribed", "messageId": "m4",
     "timestamp": "2024-01-05T10:03:00Z", "properties": {"revenue": 49.5}},
    {"type": "track", "anonymousId": "anon-2", "event": "Viewed Plan", "messageId": "m5",
     "timestamp": "2024-01-05T11:00:00Z"},
    {"type": "alias", "previousId": "anon-2", "userId": "bob", "messageId": "m6",
     "timestamp": "2024-01-05T11:05:00Z"},
    {"type": "track", "userId": "bob", "event": "Subscribed", "messageId": "m7",
     "timestamp": "2024-01-05T11:06:00Z"},
]


def test_segment_identify_and_alias_merge_ids_before_and_after(tmp_path):
    source = write_lines(tmp_path / "segment.jsonl", SEGMENT)
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.read, summary.imported, summary.skipped, summary.rejected) == (7, 5, 2, 0)
    assert [(u, e) for u, e, _, _ in events(tmp_path / "p.journey")] == [
        ("ann", "Page Viewed: Home"), ("ann", "Viewed Plan"), ("ann", "Subscribed"),
        ("bob", "Viewed Plan"), ("bob", "Subscribed")]
    assert any("Merged 2 identities" in note for note in summary.notes)
    assert "Merged 2 identities" in summary.describe()


def test_segment_properties_are_dotted_and_typed(tmp_path):
    source = write_lines(tmp_path / "segment.jsonl", SEGMENT)
    import_file(tmp_path / "p.journey", source)
    rows = events(tmp_path / "p.journey")
    assert rows[0][3]["context.ip"] == "10.0.0.1"
    assert rows[1][3]["price"] == 49 and isinstance(rows[1][3]["price"], int)
    assert json.loads(rows[1][3]["tags"]) == ["a", "b"]
    assert rows[2][3]["revenue"] == 49.5
    traits = user_properties(tmp_path / "p.journey")["ann"]
    assert traits["traits.email"] == "ann@example.com" and traits["traits.seats"] == 3


def test_segment_personal_data_in_nested_fields_is_flagged_and_can_be_dropped(tmp_path):
    source = write_lines(tmp_path / "segment.jsonl", SEGMENT)
    summary = import_file(tmp_path / "p.journey", source)
    assert {"traits.email", "traits.name", "context.ip"} <= set(summary.personal_data_columns)
    dropped = import_file(tmp_path / "q.journey", source,
                          ImportOptions(drop_columns=("traits.email", "context.ip")))
    assert {"traits.email", "context.ip"}.isdisjoint(dropped.personal_data_columns)
    assert "traits.email" not in user_properties(tmp_path / "q.journey")["ann"]
    assert all("context.ip" not in props for *_, props in events(tmp_path / "q.journey"))
    with pytest.raises(InputError, match="traits.phone"):
        import_file(tmp_path / "r.journey", source, ImportOptions(drop_columns=("traits.phone",)))


def test_resolve_links_follows_chains_and_stops_at_cycles():
    assert vendors.resolve_links({"a": "b", "b": "c"}) == {"a": "c", "b": "c"}
    assert set(vendors.resolve_links({"a": "b", "b": "a"})) == {"a", "b"}


def test_segment_shared_device_merges_no_one():
    """As for any file with both ids (io.identity): a device two users logged in on keeps its anonymous
    events apart (they cannot be told apart); a device with one user joins it."""
    records = [{"type": "track", "anonymousId": "dev", "userId": "u1", "event": "A", "timestamp": "2024-01-05T10:00:00Z"},
               {"type": "track", "anonymousId": "dev", "userId": "u2", "event": "B", "timestamp": "2024-01-05T10:01:00Z"},
               {"type": "track", "anonymousId": "dev", "event": "C", "timestamp": "2024-01-05T10:02:00Z"},
               {"type": "track", "anonymousId": "phone", "event": "D", "timestamp": "2024-01-05T10:03:00Z"},
               {"type": "identify", "anonymousId": "phone", "userId": "u1", "timestamp": "2024-01-05T10:04:00Z"}]
    out = vendors.segment(records)
    assert [row["user"] for row in out.rows] == ["u1", "u2", "dev", "u1"]
    assert any("1 anonymousId value seen with several userIds" in note for note in out.notes)


# --- Amplitude -----------------------------------------------------------------------------------

AMPLITUDE = [
    {"event_type": "Open App", "user_id": None, "device_id": "d1", "amplitude_id": 501,
     "event_time": "2024-01-05 10:00:00.000000", "$insert_id": "i1", "session_id": 1704448800000,
     "country": "Netherlands", "platform": "iOS", "os_name": "ios", "device_model": "iPhone14,2",
     "city": "Utrecht", "language": "Dutch", "client_upload_time": "2024-01-05 10:00:05.000000",
     "event_properties": {"screen": "home", "cart": {"items": 2}}, "user_properties": {}},
    {"event_type": "Sign Up", "user_id": "u1", "device_id": "d1", "amplitude_id": 501,
     "event_time": "2024-01-05 10:05:00.000000", "$insert_id": "i2", "session_id": 1704448800000,
     "country": "Netherlands", "platform": "iOS", "event_properties": {}, "user_properties": {"plan": "free"}},
    {"event_type": "Open App", "user_id": None, "device_id": "d9", "amplitude_id": 501,
     "event_time": "2024-01-06 09:00:00.000000", "$insert_id": "i3", "session_id": -1,
     "platform": "Web", "event_properties": {}, "user_properties": {}},
    {"event_type": "Open App", "user_id": None, "device_id": "d7", "amplitude_id": 777,
     "event_time": "2024-01-06 09:00:00.000000", "$insert_id": "i4", "session_id": -1,
     "event_properties": {}, "user_properties": {}},
]


def test_amplitude_stitches_device_and_amplitude_id_to_the_user(tmp_path):
    source = write_lines(tmp_path / "amplitude.jsonl", AMPLITUDE)
    assert detect_format(str(source)) == "amplitude"
    summary = import_file(tmp_path / "p.journey", source)
    rows = events(tmp_path / "p.journey")
    assert [u for u, *_ in rows] == ["u1", "u1", "u1", "d7"]
    assert any("Stitched 2 events" in note for note in summary.notes)


def test_amplitude_keeps_top_level_descriptive_fields(tmp_path):
    source = write_lines(tmp_path / "amplitude.jsonl", AMPLITUDE)
    import_file(tmp_path / "p.journey", source)
    props = events(tmp_path / "p.journey")[0][3]
    assert props["country"] == "Netherlands" and props["platform"] == "iOS"
    assert props["device_model"] == "iPhone14,2" and props["city"] == "Utrecht" and props["amplitude_id"] == 501
    assert props["event_properties.screen"] == "home" and props["event_properties.cart.items"] == 2
    assert "client_upload_time" not in props
    assert user_properties(tmp_path / "p.journey")["u1"]["user_properties.plan"] == "free"


# --- Mixpanel ------------------------------------------------------------------------------------


def mixpanel_records(offset_ms: int, with_processing: bool = True):
    """Raw export: ``time`` is the project's local wall clock in seconds; processing is UTC ms."""
    records = []
    for i, (name, utc) in enumerate([("Viewed", T0), ("Clicked", T0 + 90_000), ("Paid", T0 + 3_600_000)]):
        properties = {"distinct_id": "m1", "time": (utc + offset_ms) // 1000, "$insert_id": f"x{i}",
                      "plan": "pro", "items": 3}
        if with_processing:
            properties["mp_processing_time_ms"] = utc + 4_000 + 1_000 * i      # seconds after the event
        records.append({"event": name, "properties": properties})
    return records


def test_mixpanel_offset_measured_from_processing_time(tmp_path):
    source = write_lines(tmp_path / "mixpanel.jsonl", mixpanel_records(IST_MS))
    summary = import_file(tmp_path / "p.journey", source)
    assert [ts for _, _, ts, _ in events(tmp_path / "p.journey")] == [T0, T0 + 90_000, T0 + 3_600_000]
    assert any("UTC+05:30" in note for note in summary.notes)
    assert events(tmp_path / "p.journey")[0][3]["items"] == 3


def test_a_project_holding_prefixed_property_names_keeps_them_for_a_new_export(tmp_path):
    """Projects imported vendor properties as "properties.plan" before they were named bare: a new
    export into such a project keeps that name, so a property is one column across its imports."""
    older = [{"user_id": "m0", "event": "Viewed", "timestamp": "2024-01-04T10:00:00Z",
              "properties": {"plan": "free", "items": 1}}]           # a generic JSON file names them so too
    import_file(tmp_path / "p.journey", write_lines(tmp_path / "older.jsonl", older))
    with Project.open(tmp_path / "p.journey") as project:
        assert project.event_property_names() == ["properties.plan", "properties.items"]
    import_file(tmp_path / "p.journey", write_lines(tmp_path / "mixpanel.jsonl", mixpanel_records(0)))
    with Project.open(tmp_path / "p.journey") as project:
        assert "plan" not in project.event_property_names()
        assert {"properties.plan", "properties.items"} <= set(project.event_property_names())
    assert events(tmp_path / "p.journey")[-1][3]["properties.plan"] == "pro"


def test_mixpanel_timezone_option_converts_local_times(tmp_path):
    source = write_lines(tmp_path / "mixpanel.jsonl", mixpanel_records(IST_MS, with_processing=False))
    summary = import_file(tmp_path / "p.journey", source, ImportOptions(timezone="Asia/Kolkata"))
    assert [ts for _, _, ts, _ in events(tmp_path / "p.journey")] == [T0, T0 + 90_000, T0 + 3_600_000]
    assert any("Asia/Kolkata" in note for note in summary.notes)
    plain = import_file(tmp_path / "q.journey", source)
    assert events(tmp_path / "q.journey")[0][2] == T0 + IST_MS            # no zone known: read as UTC
    assert "--timezone" in plain.describe(flag_name)                     # the CLI names its flag
    assert "--timezone" not in plain.describe()                          # the window names its control


def test_mixpanel_timezone_option_that_disagrees_with_processing_time_is_noted():
    out = vendors.mixpanel(mixpanel_records(IST_MS), timezone="Europe/Amsterdam")
    assert any("suggests UTC+05:30" in note for note in out.notes)


def test_mixpanel_utc_project_is_left_alone():
    out = vendors.mixpanel(mixpanel_records(0))
    assert [row["time"] for row in out.rows] == [T0, T0 + 90_000, T0 + 3_600_000]
    assert any("already UTC" in note for note in out.notes)


@pytest.mark.parametrize("local, processed, expected", [
    ([3_600_000 + 10_000], [20_000], 3_600_000),
    ([0, 0, 0], [-3 * 3_600_000, 10, 20], 0),                   # one event delayed for hours
    ([0, 0], [5_000_000, 90_000_000], None),                    # no agreement
    ([float("nan")], [1.0], None),
])
def test_measured_offset(local, processed, expected):
    assert vendors.measured_offset_ms(np.array(local, float), np.array(processed, float)) == expected


# --- GA4 -----------------------------------------------------------------------------------------


def test_ga4_int_params_are_numbers(tmp_path):
    records = [{"event_name": "purchase", "event_timestamp": "1704448800000000", "user_pseudo_id": "p1",
                "platform": "WEB",
                "event_params": [{"key": "ga_session_id", "value": {"int_value": "1704448700"}},
                                 {"key": "quantity", "value": {"int_value": "3"}},
                                 {"key": "value", "value": {"double_value": 12.5}},
                                 {"key": "coupon", "value": {"string_value": "0042"}}],
                "geo": {"country": "Germany"}, "items": [{"item_id": "SKU1", "quantity": 3}]}]
    source = write_lines(tmp_path / "ga4.jsonl", records)
    import_file(tmp_path / "p.journey", source)
    props = events(tmp_path / "p.journey")[0][3]
    assert props["event_params.quantity"] == 3 and props["event_params.value"] == 12.5
    assert props["event_params.coupon"] == "0042" and props["geo.country"] == "Germany"
    assert props["platform"] == "WEB" and json.loads(props["items"])[0]["item_id"] == "SKU1"


# --- PostHog -------------------------------------------------------------------------------------


def test_posthog_person_properties_are_traits_with_their_container(tmp_path):
    records = [{"uuid": "e1", "event": "$pageview", "distinct_id": "ph1", "timestamp": "2024-01-05T10:00:00Z",
                "properties": {"$session_id": "s1", "$set": {"email": "p@example.com"}, "$browser": "Firefox"},
                "person_properties": {"name": "Pat"}}]
    source = write_lines(tmp_path / "posthog.jsonl", records)
    summary = import_file(tmp_path / "p.journey", source)
    assert {"$set.email", "person_properties.name"} <= set(summary.personal_data_columns)
    assert events(tmp_path / "p.journey")[0][3]["$browser"] == "Firefox"


def test_vendor_reader_reads_pretty_printed_arrays(tmp_path):
    source = tmp_path / "segment.json"
    source.write_text(json.dumps(SEGMENT, indent=2))
    assert detect_format(str(source)) == "segment"
    assert open_source(str(source)).columns()[:3] == ["user", "event", "time"]


def test_dropping_a_nested_field_by_its_last_name_suggests_the_full_name(tmp_path):
    source = write_lines(tmp_path / "segment.jsonl", SEGMENT)
    with pytest.raises(InputError, match="did you mean traits.email"):
        import_file(tmp_path / "p.journey", source, ImportOptions(drop_columns=("email",)))


def test_posthog_capture_batch_with_distinct_id_in_properties(tmp_path):
    batch = {"api_key": "phc_test", "batch": [
        {"event": "$pageview", "timestamp": "2024-01-05T10:00:00Z", "uuid": "a",
         "properties": {"distinct_id": "ph7", "$current_url": "/"}},
        {"event": "signed_up", "timestamp": "2024-01-05T10:01:00Z", "uuid": "b",
         "properties": {"distinct_id": "ph7"}, "$set": {"plan": "free"}}]}
    source = tmp_path / "batch.json"
    source.write_text(json.dumps(batch, indent=2))
    assert detect_format(str(source)) == "posthog"
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.imported, summary.users) == (2, 1)
    assert user_properties(tmp_path / "p.journey")["ph7"]["$set.plan"] == "free"


def test_single_pretty_printed_segment_message_is_detected(tmp_path):
    source = tmp_path / "track.json"
    source.write_text(json.dumps(SEGMENT[3], indent=2))
    assert detect_format(str(source)) == "segment"
    assert import_file(tmp_path / "p.journey", source).imported == 1


def test_identify_only_file_says_it_holds_no_events(tmp_path):
    source = write_lines(tmp_path / "identify.jsonl", [SEGMENT[2]])
    with pytest.raises(InputError, match="1 segment records that describe users.*no events"):
        import_file(tmp_path / "p.journey", source)


def test_mixpanel_device_events_before_login_join_their_user():
    records = [{"event": "Viewed", "properties": {"distinct_id": "$device:d1", "$device_id": "d1", "time": 1704448800}},
               {"event": "Signed Up", "properties": {"distinct_id": "ann", "$device_id": "d1", "$user_id": "ann",
                                                     "time": 1704448900}},
               {"event": "Viewed", "properties": {"distinct_id": "$device:d2", "$device_id": "d2", "time": 1704448950}}]
    out = vendors.mixpanel(records)
    assert [row["user"] for row in out.rows] == ["ann", "ann", "$device:d2"]
    assert any("Stitched 1 events" in note for note in out.notes)
