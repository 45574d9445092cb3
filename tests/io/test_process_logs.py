"""Process logs: lifecycle transitions (XES and CSV), OCEL flattening, Snowplow enriched TSV."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from journey_explorer.domain import ImportOptions, InputError
from journey_explorer.io import lifecycle
from journey_explorer.io.snowplow import COLUMNS as SNOWPLOW_COLUMNS
from journey_explorer.io.sources import detect_format, open_source
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project
from tests.store.stored import stored_events


def stored(project):
    """(user, event, properties) per event, in path order, read through the event log as analyses see it."""
    with Project.open(project) as p:
        log = p.load_event_log(properties="all")
    columns = log.event_properties
    return [(str(log.user_keys[log.user[i]]), log.event_names[log.event[i]],
             {name: column.value_at(i) for name, column in columns.items() if column.value_at(i) is not None})
            for i in range(len(log))]


# --- lifecycle -----------------------------------------------------------------------------------

# BPIC-2012-like: SCHEDULE / START / COMPLETE of the same work item, plus complete-only activities.
BPIC_ROWS = [
    ("173688", "A_SUBMITTED", "COMPLETE", "2011-10-01T00:38:44.546+02:00"),
    ("173688", "W_Completeren aanvraag", "SCHEDULE", "2011-10-01T00:39:38.875+02:00"),
    ("173688", "W_Completeren aanvraag", "START", "2011-10-01T11:36:46.437+02:00"),
    ("173688", "W_Completeren aanvraag", "COMPLETE", "2011-10-01T11:45:13.917+02:00"),
    ("173688", "W_Nabellen offertes", "SCHEDULE", "2011-10-01T11:45:14.000+02:00"),
    ("173688", "W_Nabellen offertes", "START", "2011-10-01T12:00:00.000+02:00"),
    ("173688", "W_Nabellen offertes", "START", "2011-10-01T12:10:00.000+02:00"),
    ("173688", "W_Nabellen offertes", "COMPLETE", "2011-10-01T12:30:00.000+02:00"),
    ("173688", "W_Nabellen offertes", "COMPLETE", "2011-10-01T12:40:00.000+02:00"),
    ("173691", "A_SUBMITTED", "COMPLETE", "2011-10-01T08:08:58.256+02:00"),
    ("173691", "W_Completeren aanvraag", "START", "2011-10-01T08:10:00.000+02:00"),
]


def bpic_xes(path):
    traces = {}
    for case, activity, transition, time in BPIC_ROWS:
        traces.setdefault(case, []).append(
            f'<event><string key="concept:name" value="{activity}"/>'
            f'<string key="lifecycle:transition" value="{transition}"/>'
            f'<date key="time:timestamp" value="{time}"/><int key="org:resource" value="112"/></event>')
    body = "".join(f'<trace><string key="concept:name" value="{case}"/>'
                   f'<float key="AMOUNT_REQ" value="20000"/>{"".join(events)}</trace>'
                   for case, events in traces.items())
    path.write_bytes(gzip.compress(f'<?xml version="1.0"?><log xes.version="1.0">{body}</log>'.encode()))
    return path


def bpic_csv(path):
    pd.DataFrame(BPIC_ROWS, columns=["case:concept:name", "concept:name", "lifecycle:transition",
                                     "time:timestamp"]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("write", [bpic_xes, bpic_csv])
def test_complete_only_is_the_default_when_starts_and_completes_exist(tmp_path, write):
    source = write(tmp_path / ("log.xes.gz" if write is bpic_xes else "log.csv"))
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.read, summary.imported, summary.skipped) == (11, 5, 6)
    rows = stored(tmp_path / "p.journey")
    assert [e for u, e, _ in rows if u == "173688"] == ["A_SUBMITTED", "W_Completeren aanvraag",
                                                        "W_Nabellen offertes", "W_Nabellen offertes"]
    durations = [p.get("duration_s") for _, _, p in rows]
    # 11:36:46.437 -> 11:45:13.917; two parallel calls: earliest open start first
    assert durations == [None, pytest.approx(507.48), 1800.0, 1800.0, None]
    assert any("left out 6" in note for note in summary.notes)


def test_split_names_each_transition(tmp_path):
    source = bpic_xes(tmp_path / "log.xes.gz")
    summary = import_file(tmp_path / "p.journey", source, ImportOptions(lifecycle="split"))
    assert summary.imported == 11 and summary.skipped == 0
    names = [e for _, e, _ in stored(tmp_path / "p.journey")]
    assert names[:4] == ["A_SUBMITTED (complete)", "W_Completeren aanvraag (schedule)",
                         "W_Completeren aanvraag (start)", "W_Completeren aanvraag (complete)"]


def test_all_keeps_rows_untouched_and_xes_values_typed(tmp_path):
    source = bpic_xes(tmp_path / "log.xes.gz")
    summary = import_file(tmp_path / "p.journey", source, ImportOptions(lifecycle="all"))
    assert summary.imported == 11
    rows = stored(tmp_path / "p.journey")
    assert rows[0][1] == "A_SUBMITTED" and "duration_s" not in rows[3][2]
    assert rows[0][2]["org:resource"] == 112


def test_complete_only_log_is_left_as_it_is(tmp_path):
    source = tmp_path / "log.csv"
    pd.DataFrame([("c1", "A", "complete", "2024-01-01T10:00:00Z"), ("c1", "B", "complete", "2024-01-01T11:00:00Z")],
                 columns=["case:concept:name", "concept:name", "lifecycle:transition", "time:timestamp"]) \
        .to_csv(source, index=False)
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.imported, summary.skipped, summary.notes) == (2, 0, [])


def test_unknown_lifecycle_mode_is_refused(tmp_path):
    source = bpic_csv(tmp_path / "log.csv")
    with pytest.raises(InputError, match="lifecycle mode 'finished'"):
        open_source(str(source), ImportOptions(lifecycle="finished"))


def test_durations_pair_per_key_and_ignore_unparsed_times():
    keys = [("u", "A"), ("u", "B"), ("u", "A"), ("u", "B"), ("v", "A")]
    kinds = pd.Series(["start", "start", "complete", "complete", "complete"])
    ms = np.array([0, 1000, 4000, 0, 9000])
    ok = np.array([True, True, True, False, True])
    assert np.isnan(lifecycle.durations(keys, kinds, ms, ok)[[0, 1, 3, 4]]).all()
    assert lifecycle.durations(keys, kinds, ms, ok)[2] == 4.0


def test_lifecycle_column_by_standard_names():
    assert lifecycle.lifecycle_column(["case", "Lifecycle:Transition"]) == "Lifecycle:Transition"
    assert lifecycle.lifecycle_column(["case", "transition_state"]) is None


# --- OCEL ----------------------------------------------------------------------------------------

OCEL2 = {
    "objectTypes": [{"name": "order", "attributes": []}, {"name": "item", "attributes": []}],
    "eventTypes": [{"name": "place order", "attributes": []}, {"name": "pick item", "attributes": []}],
    "objects": [{"id": "o1", "type": "order", "attributes": [{"name": "region", "time": "2024-01-01T00:00:00Z",
                                                              "value": "EU"}]},
                {"id": "o2", "type": "order"}, {"id": "i1", "type": "item"}, {"id": "i2", "type": "item"}],
    "events": [
        {"id": "e1", "type": "place order", "time": "2024-01-05T10:00:00Z",
         "attributes": [{"name": "resource", "value": "Alice"}],
         "relationships": [{"objectId": "o1", "qualifier": "order"}, {"objectId": "i1", "qualifier": "item"},
                           {"objectId": "i2", "qualifier": "item"}]},
        {"id": "e2", "type": "pick item", "time": "2024-01-05T11:00:00Z",
         "relationships": [{"objectId": "i1", "qualifier": "item"}]},
        {"id": "e3", "type": "place order", "time": "2024-01-05T12:00:00Z",
         "relationships": [{"objectId": "o2", "qualifier": "order"}, {"objectId": "i2", "qualifier": "item"}]},
    ],
}

OCEL1 = {
    "ocel:global-log": {"ocel:attribute-names": ["resource"], "ocel:object-types": ["order", "item"]},
    "ocel:events": {
        "e1": {"ocel:activity": "place order", "ocel:timestamp": "2024-01-05T10:00:00Z",
               "ocel:omap": ["o1", "i1", "i2"], "ocel:vmap": {"resource": "Alice"}},
        "e2": {"ocel:activity": "pick item", "ocel:timestamp": "2024-01-05T11:00:00Z", "ocel:omap": ["i1"],
               "ocel:vmap": {}},
        "e3": {"ocel:activity": "place order", "ocel:timestamp": "2024-01-05T12:00:00Z",
               "ocel:omap": ["o2", "i2"], "ocel:vmap": {}}},
    "ocel:objects": {"o1": {"ocel:type": "order", "ocel:ovmap": {"region": "EU"}},
                     "o2": {"ocel:type": "order", "ocel:ovmap": {}},
                     "i1": {"ocel:type": "item", "ocel:ovmap": {}}, "i2": {"ocel:type": "item", "ocel:ovmap": {}}},
}


@pytest.mark.parametrize("document", [OCEL2, OCEL1], ids=["ocel2", "ocel1"])
def test_ocel_without_object_type_says_which_to_choose(tmp_path, document):
    source = tmp_path / "log.jsonocel"
    source.write_text(json.dumps(document, indent=2))
    assert detect_format(str(source)) == "ocel"
    with pytest.raises(InputError, match=r"'Object type \(OCEL\)' the type .*item \(2 objects\), order \(2 objects\)"):
        import_file(tmp_path / "p.journey", source)
    assert not (tmp_path / "p.journey").exists()


@pytest.mark.parametrize("document", [OCEL2, OCEL1], ids=["ocel2", "ocel1"])
def test_ocel_flattened_on_items(tmp_path, document):
    source = tmp_path / "log.json"
    source.write_text(json.dumps(document))
    summary = import_file(tmp_path / "p.journey", source, ImportOptions(object_type="item"))
    assert (summary.imported, summary.users) == (4, 2)
    rows = stored(tmp_path / "p.journey")
    assert [(u, e) for u, e, _ in rows] == [("i1", "place order"), ("i1", "pick item"), ("i2", "place order"),
                                           ("i2", "place order")]      # path order: by item, then time
    assert rows[0][2]["resource"] == "Alice" and json.loads(rows[0][2]["objects.order"]) == ["o1"]


def test_ocel_flattened_on_orders_keeps_their_attributes_as_traits(tmp_path):
    source = tmp_path / "log.json"
    source.write_text(json.dumps(OCEL2))
    summary = import_file(tmp_path / "p.journey", source, ImportOptions(object_type="order"))
    assert (summary.read, summary.imported, summary.skipped) == (3, 2, 1)
    with Project.open(tmp_path / "p.journey") as p:
        traits = dict(p.conn.execute("SELECT key, properties FROM users").fetchall())
    assert json.loads(traits["o1"]) == {"region": "EU"}


def test_ocel_unknown_object_type(tmp_path):
    source = tmp_path / "log.json"
    source.write_text(json.dumps(OCEL2))
    with pytest.raises(InputError, match="no object type 'customer'"):
        import_file(tmp_path / "p.journey", source, ImportOptions(object_type="customer"))


# --- Snowplow ------------------------------------------------------------------------------------


def snowplow_line(**fields) -> str:
    record = dict.fromkeys(SNOWPLOW_COLUMNS, "")
    record.update(app_id="shop", platform="web", etl_tstamp="2024-01-05 10:00:05.000",
                  v_collector="ssc-2.9.0", v_etl="snowplow-enrich-3.8.0", name_tracker="sp")
    record.update(fields)
    return "\t".join(record[c] for c in SNOWPLOW_COLUMNS)


def test_snowplow_enriched_tsv_gets_its_documented_names(tmp_path):
    lines = [
        snowplow_line(collector_tstamp="2024-01-05 10:00:00.100", derived_tstamp="2024-01-05 10:00:00.000",
                      event="page_view", event_id="e-1", domain_userid="cookie-1", domain_sessionid="s-1",
                      event_name="page_view", page_url="https://shop.example/", br_viewwidth="1280",
                      contexts='{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[]}'),
        snowplow_line(collector_tstamp="2024-01-05 10:01:00.000", event="struct", event_id="e-2",
                      domain_userid="cookie-1", user_id="ann", domain_sessionid="s-1", event_name="event",
                      se_category="cart", se_action="add", se_value="19.99"),
        "too\tfew\tfields",
    ]
    source = tmp_path / "enriched.tsv"
    source.write_text("\n".join(lines) + "\n")
    assert detect_format(str(source)) == "snowplow"
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.format, summary.read, summary.imported, summary.rejected) == ("snowplow", 3, 2, 1)
    rows = stored(tmp_path / "p.journey")
    assert [(u, e) for u, e, _ in rows] == [("cookie-1", "page_view"), ("ann", "event")]
    assert rows[0][2]["page_url"] == "https://shop.example/" and rows[0][2]["br_viewwidth"] == 1280
    assert rows[1][2]["se_value"] == 19.99 and rows[1][2]["se_action"] == "add"
    ts = [e["ts"] for e in stored_events(tmp_path / "p.journey")]
    assert ts == [1704448800000, 1704448860000]          # derived_tstamp first, UTC


def test_snowplow_shaped_file_with_the_wrong_width_is_refused_clearly(tmp_path):
    short = "\t".join(snowplow_line(collector_tstamp="2024-01-05 10:00:00.000", event_id="e-1",
                                    domain_userid="c").split("\t")[:128])
    source = tmp_path / "old.tsv"
    source.write_text(short + "\n" + short + "\n")
    assert detect_format(str(source)) == "snowplow"
    with pytest.raises(InputError, match="131 fields.*found 128"):
        import_file(tmp_path / "p.journey", source)


def test_an_ordinary_tsv_is_not_snowplow(tmp_path):
    source = tmp_path / "plain.tsv"
    source.write_text("user\tevent\ttime\nu1\tview\t2024-01-05 10:00:00\n")
    assert detect_format(str(source)) == "csv"


OCEL1_XML = """<?xml version='1.0' encoding='UTF-8'?>
<log>
  <global scope="log">
    <list key="object-types"><string key="object-type" value="order"/><string key="object-type" value="item"/></list>
  </global>
  <events>
    <event><string key="id" value="e1"/><string key="activity" value="place order"/>
      <date key="timestamp" value="2024-01-05T10:00:00"/>
      <list key="omap"><string key="object-id" value="o1"/><string key="object-id" value="i1"/>
        <string key="object-id" value="i2"/></list>
      <list key="vmap"><string key="resource" value="Alice"/><float key="amount" value="9.5"/></list></event>
    <event><string key="id" value="e2"/><string key="activity" value="pick item"/>
      <date key="timestamp" value="2024-01-05T11:00:00"/>
      <list key="omap"><string key="object-id" value="i1"/></list><list key="vmap"/></event>
    <event><string key="id" value="e3"/><string key="activity" value="place order"/>
      <date key="timestamp" value="2024-01-05T12:00:00"/>
      <list key="omap"><string key="object-id" value="o2"/><string key="object-id" value="i2"/></list></event>
  </events>
  <objects>
    <object><string key="id" value="o1"/><string key="type" value="order"/>
      <list key="ovmap"><string key="region" value="EU"/></list></object>
    <object><string key="id" value="o2"/><string key="type" value="order"/></object>
    <object><string key="id" value="i1"/><string key="type" value="item"/></object>
    <object><string key="id" value="i2"/><string key="type" value="item"/></object>
  </objects>
</log>
"""

OCEL2_XML = """<?xml version='1.0' encoding='UTF-8'?>
<log>
  <object-types>
    <object-type name="order"><attributes><attribute name="region" type="string"/></attributes></object-type>
    <object-type name="item"><attributes/></object-type>
  </object-types>
  <event-types>
    <event-type name="place order"><attributes><attribute name="resource" type="string"/>
      <attribute name="amount" type="float"/></attributes></event-type>
    <event-type name="pick item"><attributes/></event-type>
  </event-types>
  <objects>
    <object id="o1" type="order"><attributes><attribute name="region" time="1970-01-01T00:00:00">EU</attribute>
      </attributes></object>
    <object id="o2" type="order"/>
    <object id="i1" type="item"/>
    <object id="i2" type="item"/>
  </objects>
  <events>
    <event id="e1" type="place order" time="2024-01-05T10:00:00Z">
      <attributes><attribute name="resource">Alice</attribute><attribute name="amount">9.5</attribute></attributes>
      <objects><relationship object-id="o1" qualifier="order"/><relationship object-id="i1" qualifier="item"/>
        <relationship object-id="i2" qualifier="item"/></objects>
    </event>
    <event id="e2" type="pick item" time="2024-01-05T11:00:00Z">
      <objects><relationship object-id="i1" qualifier="item"/></objects>
    </event>
    <event id="e3" type="place order" time="2024-01-05T12:00:00Z">
      <objects><relationship object-id="o2" qualifier="order"/><relationship object-id="i2" qualifier="item"/></objects>
    </event>
  </events>
</log>
"""


@pytest.mark.parametrize("text", [OCEL1_XML, OCEL2_XML], ids=["ocel1-xml", "ocel2-xml"])
def test_ocel_xml_flattened_on_items(tmp_path, text):
    source = tmp_path / "log.xml"
    source.write_text(text)
    assert detect_format(str(source)) == "ocel"
    with pytest.raises(InputError, match="'Object type \\(OCEL\\)' the type .*item \\(2 objects\\), order \\(2 objects\\)"):
        import_file(tmp_path / "p.journey", source)
    summary = import_file(tmp_path / "p.journey", source, ImportOptions(object_type="item"))
    assert (summary.imported, summary.users) == (4, 2)
    rows = stored(tmp_path / "p.journey")
    assert [(u, e) for u, e, _ in rows] == [("i1", "place order"), ("i1", "pick item"), ("i2", "place order"),
                                           ("i2", "place order")]      # path order: by item, then time
    assert rows[0][2]["resource"] == "Alice" and rows[0][2]["amount"] == 9.5
    orders = import_file(tmp_path / "q.journey", source, ImportOptions(object_type="order"))
    assert orders.imported == 2
    with Project.open(tmp_path / "q.journey") as p:
        traits = dict(p.conn.execute("SELECT key, properties FROM users").fetchall())
    assert json.loads(traits["o1"]) == {"region": "EU"}


def test_xml_that_is_neither_xes_nor_ocel(tmp_path):
    source = tmp_path / "log.xmlocel"
    source.write_text("<?xml version='1.0'?><log><objects/></log>")
    with pytest.raises(InputError, match="neither XES nor OCEL"):
        import_file(tmp_path / "p.journey", source, ImportOptions(object_type="order"))


def test_snowplow_with_the_documented_header_pasted_on_top(tmp_path):
    line = snowplow_line(collector_tstamp="2024-01-05 10:00:00.000", event="page_view", event_id="e-1",
                         domain_userid="c1", event_name="page_view")
    source = tmp_path / "with-header.tsv"
    source.write_text("\t".join(SNOWPLOW_COLUMNS) + "\r\n" + line + "\r\n")
    assert detect_format(str(source)) == "snowplow"
    summary = import_file(tmp_path / "p.journey", source)
    assert (summary.read, summary.imported, summary.rejected) == (1, 1, 0)
