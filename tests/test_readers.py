"""Every non-CSV reader on small fixtures in the vendors' documented shapes, plus broken inputs."""
from __future__ import annotations

import gzip
import json
import zipfile

import numpy as np
import pytest

from journey_explorer.domain import ImportOptions, InputError
from journey_explorer.io.sources import detect_format
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project
from tests.store.stored import stored_events

# 2024-01-05T10:00:00Z = 1704448800000 ms
T0 = 1704448800000


def write_lines(path, records, compress=False):
    text = "\n".join(json.dumps(r) for r in records) + "\n"
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    return path


def load(project):
    with Project.open(project) as p:
        log = p.load_event_log()
        traits = p.user_properties()
        keys = list(log.user_keys)
    rows = [(keys[u], log.event_names[e], int(t)) for u, e, t in zip(log.user, log.event, log.ts)]
    return rows, traits, keys, log


def test_segment_track_page_identify_and_stitching(tmp_path):
    records = [
        {"type": "page", "anonymousId": "anon-1", "name": "Pricing", "messageId": "m1",
         "timestamp": "2024-01-05T10:00:00Z", "properties": {"path": "/pricing"}},
        {"type": "identify", "anonymousId": "anon-1", "userId": "ann", "messageId": "m2",
         "timestamp": "2024-01-05T10:01:00Z", "traits": {"plan": "pro", "email": "a@x.io"}},
        {"type": "track", "userId": "ann", "event": "Signed Up", "messageId": "m3",
         "timestamp": "2024-01-05T10:02:00.500Z", "properties": {"method": "google"}},
        {"type": "track", "userId": "ann", "event": "Signed Up", "messageId": "m3",   # resent: duplicate
         "timestamp": "2024-01-05T10:02:00.500Z"},
        {"type": "screen", "anonymousId": "anon-9", "name": "Home", "messageId": "m4",
         "timestamp": "2024-01-05T11:00:00+01:00"},
    ]
    source = write_lines(tmp_path / "segment.jsonl", records)
    assert detect_format(str(source)) == "segment"
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.format, summary.read, summary.imported, summary.duplicates) == ("segment", 5, 3, 1)
    rows, traits, keys, _ = load(tmp_path / "p.journey")
    assert sorted(rows) == sorted([("ann", "Page Viewed: Pricing", T0), ("ann", "Signed Up", T0 + 120_500),
                                   ("anon-9", "Screen Viewed: Home", T0)])
    assert traits.iloc[keys.index("ann")]["traits.plan"] == "pro"


def test_amplitude_zip_of_gzipped_json_lines(tmp_path):
    hour1 = [{"event_type": "Open App", "user_id": "u1", "device_id": "d1", "event_time": "2024-01-05 10:00:00.123000",
              "$insert_id": "i1", "session_id": 1704448800000, "event_properties": {"screen": "home"},
              "user_properties": {"plan": "free"}},
             {"event_type": "Open App", "user_id": None, "device_id": "d2", "event_time": "2024-01-05 10:00:01.000000",
              "$insert_id": "i2", "session_id": -1, "event_properties": {}, "user_properties": {}}]
    hour2 = [{"event_type": "Buy", "user_id": "u1", "device_id": "d1", "event_time": "2024-01-05 11:00:00.000000",
              "$insert_id": "i3", "session_id": 1704448800000, "event_properties": {"amount": 9.5},
              "user_properties": {"plan": "paid"}}]
    archive = tmp_path / "amplitude-export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("123/123_2024-01-05_10#0.json.gz", gzip.compress("\n".join(map(json.dumps, hour1)).encode()))
        zf.writestr("123/123_2024-01-05_11#0.json.gz", gzip.compress("\n".join(map(json.dumps, hour2)).encode()))
    assert detect_format(str(archive)) == "amplitude"
    summary = import_file(tmp_path / "p.journey", archive)
    assert (summary.imported, summary.users) == (3, 2)
    rows, traits, keys, log = load(tmp_path / "p.journey")
    assert sorted(rows) == sorted([("u1", "Open App", T0 + 123), ("d2", "Open App", T0 + 1000),
                                   ("u1", "Buy", T0 + 3_600_000)])
    assert traits.iloc[keys.index("u1")]["user_properties.plan"] == "paid"
    # u1's two events share Amplitude's session id although an hour apart
    assert len(set(log.session[log.user == keys.index("u1")])) == 1


def test_mixpanel_seconds_and_milliseconds(tmp_path):
    records = [{"event": "Viewed", "properties": {"distinct_id": "m1", "time": 1704448800, "$insert_id": "a",
                                                 "plan": "x"}},
               {"event": "Clicked", "properties": {"distinct_id": "m1", "time": 1704448800500, "$insert_id": "b"}}]
    source = write_lines(tmp_path / "mixpanel.json.gz", records, compress=True)
    assert detect_format(str(source)) == "mixpanel"
    import_file(tmp_path / "p.journey", source)
    rows, *_ = load(tmp_path / "p.journey")
    assert rows == [("m1", "Viewed", T0), ("m1", "Clicked", T0 + 500)]


def test_ga4_bigquery_export(tmp_path):
    records = [{"event_name": "page_view", "event_timestamp": "1704448800000000", "user_pseudo_id": "p1",
                "event_params": [{"key": "ga_session_id", "value": {"int_value": 77}},
                                 {"key": "page_title", "value": {"string_value": "Home"}}],
                "user_properties": [{"key": "tier", "value": {"string_value": "gold"}}]},
               {"event_name": "purchase", "event_timestamp": 1704448860000000, "user_id": "known",
                "user_pseudo_id": "p2", "event_params": [{"key": "value", "value": {"double_value": 12.5}}]}]
    source = write_lines(tmp_path / "ga4.jsonl", records)
    assert detect_format(str(source)) == "ga4"
    import_file(tmp_path / "p.journey", source)
    rows, traits, keys, _ = load(tmp_path / "p.journey")
    assert sorted(rows) == [("known", "purchase", T0 + 60_000), ("p1", "page_view", T0)]
    assert traits.iloc[keys.index("p1")]["user_properties.tier"] == "gold"
    props = [e["properties"] for e in stored_events(tmp_path / "p.journey")]
    assert props[0]["event_params.page_title"] == "Home" and props[1]["event_params.value"] == 12.5


def test_posthog_export(tmp_path):
    records = [{"uuid": "e1", "event": "$pageview", "distinct_id": "ph1", "timestamp": "2024-01-05T10:00:00Z",
                "properties": {"$session_id": "s1", "$set": {"company": "Acme"}, "$current_url": "/"}},
               {"uuid": "e2", "event": "signed_up", "distinct_id": "ph1", "timestamp": "2024-01-05T12:00:00+02:00",
                "properties": {"$session_id": "s1"}}]
    source = tmp_path / "posthog.json"
    source.write_text(json.dumps(records))
    assert detect_format(str(source)) == "posthog"
    import_file(tmp_path / "p.journey", source)
    rows, traits, keys, log = load(tmp_path / "p.journey")
    assert rows == [("ph1", "$pageview", T0), ("ph1", "signed_up", T0)]
    assert traits.iloc[0]["$set.company"] == "Acme" and len(set(log.session)) == 1


XES = """<?xml version="1.0" encoding="utf-8" ?>
<log xes.version="1849-2016" xmlns="http://www.xes-standard.org/">
  <trace>
    <string key="concept:name" value="Case 1" />
    <string key="customer" value="Value 7" />
    <event>
      <string key="concept:name" value="Assign seriousness" />
      <string key="org:resource" value="Value 1" />
      <date key="time:timestamp" value="2012-10-09T14:50:17+00:00" />
    </event>
    <event>
      <string key="concept:name" value="Take in charge ticket" />
      <date key="time:timestamp" value="2012-10-09T16:51:01+02:00" />
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="Case 2" />
    <event>
      <string key="concept:name" value="Resolve ticket" />
      <date key="time:timestamp" value="2012-10-10T09:00:00.000+00:00" />
    </event>
  </trace>
</log>
"""


def test_xes_gz_traces_events_and_attributes(tmp_path):
    source = tmp_path / "helpdesk.xes.gz"
    source.write_bytes(gzip.compress(XES.encode()))
    assert detect_format(str(source)) == "xes"
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.format, summary.imported, summary.users) == ("xes", 3, 2)
    rows, traits, keys, _ = load(tmp_path / "p.journey")
    # 2012-10-09T14:50:17Z = 1349794217000; 16:51:01+02:00 = 14:51:01Z
    assert rows == [("Case 1", "Assign seriousness", 1349794217000),
                    ("Case 1", "Take in charge ticket", 1349794261000),
                    ("Case 2", "Resolve ticket", 1349859600000)]
    assert traits.iloc[keys.index("Case 1")]["customer"] == "Value 7"


def test_xlsx_first_or_named_sheet(tmp_path):
    from datetime import datetime

    from openpyxl import Workbook
    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["nothing here"])
    sheet = book.create_sheet("Events")
    sheet.append(["customer_id", "action", "occurred_at"])
    sheet.append(["c1", "open", datetime(2024, 1, 5, 10, 0, 0)])
    sheet.append(["c1", "close", "2024-01-05T10:30:00Z"])
    path = tmp_path / "events.xlsx"
    book.save(path)
    with pytest.raises(InputError, match="no sheet named 'Nope'.*Notes, Events"):
        import_file(tmp_path / "p.journey", path, ImportOptions(sheet="Nope"))
    summary = import_file(tmp_path / "p.journey", path, ImportOptions(sheet="Events"))
    assert summary.mapping["user"] == "customer_id" and summary.mapping["time"] == "occurred_at"
    rows, *_ = load(tmp_path / "p.journey")
    assert rows == [("c1", "open", T0), ("c1", "close", T0 + 1_800_000)]


def test_parquet(tmp_path):
    import pandas as pd
    frame = pd.DataFrame({"user_id": ["a", "b"], "event": ["x", "y"],
                          "timestamp": pd.to_datetime([T0, T0 + 1000], unit="ms", utc=True)})
    path = tmp_path / "events.parquet"
    frame.to_parquet(path)
    assert import_file(tmp_path / "p.journey", path).imported == 2
    rows, *_ = load(tmp_path / "p.journey")
    assert rows == [("a", "x", T0), ("b", "y", T0 + 1000)]


def test_generic_json_lines_with_a_broken_line(tmp_path):
    source = tmp_path / "events.jsonl"
    source.write_text('{"user": "a", "event": "x", "ts": "2024-01-05T10:00:00Z", "meta": {"k": 1}}\n'
                      '{"user": "a", "event": "y", "ts": \n'
                      '{"user": "b", "event": "x", "ts": "2024-01-05T10:00:01Z"}\n')
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.imported, summary.rejected) == (2, 1)
    with Project.open(tmp_path / "p.journey") as p:
        rejected = p.rejected_rows()
    props = stored_events(tmp_path / "p.journey")[0]["properties"]
    assert rejected["line"].tolist() == [2] and "JSON" in rejected["reason"][0]
    assert props == {"meta.k": 1}


@pytest.mark.parametrize("name, content, message", [
    ("broken.xlsx", b"PK\x03\x04 this is not really a workbook", "Excel"),
    ("broken.json", b'[{"user": "a", "event": "x"', "not valid JSON"),
    ("notxes.xes", b"<?xml version='1.0'?><html><body/></html>", "not an XES log"),
    ("random.bin", bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)), "binary"),
])
def test_broken_structured_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        import_file(tmp_path / "p.journey", path)
    assert message in str(err.value) and name in str(err.value)
    assert not (tmp_path / "p.journey").exists()
