"""Object-centric event logs (OCEL 1.0 and 2.0, JSON or XML): flattened on one object type.

In an OCEL log an event concerns several objects (an order, its items, a delivery). A path needs
one owner, so the user chooses an object type: every event becomes one row per related object of
that type (the object is the user). Without a choice the reader refuses with the types it found,
so the message says what to choose. Event attributes become properties; the ids of the event's
other related objects are kept per type (``objects.item``, JSON text); the chosen objects'
attributes become user traits.

Shapes (from the OCEL standard, ocel-standard.org):
- 2.0: ``{"objectTypes": [...], "eventTypes": [...], "objects": [{"id", "type", "attributes"}],
  "events": [{"id", "type", "time", "attributes": [{"name", "value"}], "relationships": [{"objectId"}]}]}``
- 1.0: ``{"ocel:global-log": ..., "ocel:events": {id: {"ocel:activity", "ocel:timestamp",
  "ocel:omap": [ids], "ocel:vmap": {...}}}, "ocel:objects": {id: {"ocel:type", "ocel:ovmap": {...}}}}``
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict

import numpy as np
import pandas as pd

from journey_explorer.domain import InputError
from journey_explorer.io.base import (
    EVENT,
    INSERT_ID,
    SESSION,
    TIME,
    USER,
    VENDOR_MAPPING,
    InMemoryReader,
)
from journey_explorer.io.opening import open_binary

CANONICAL = [USER, EVENT, TIME, SESSION, INSERT_ID]


def looks_like_ocel(head: str) -> bool:
    """OCEL JSON names its top-level parts; checked on the start of the file."""
    return '"ocel:events"' in head or '"ocel:global-log"' in head or (
        '"objectTypes"' in head and '"eventTypes"' in head)


def looks_like_ocel_xml(head: str) -> bool:
    """An XML <log> without XES traces but with OCEL's parts (object types, omap lists)."""
    return "<log" in head[:2000] and "<trace" not in head and (
        "<object-types" in head or 'key="omap"' in head or "<objects" in head or "ocel" in head[:4000].lower())


def _load(path: str) -> tuple[list[dict], dict[str, dict]]:
    """(events, objects) of an OCEL JSON or XML file; see ``_events_and_objects``."""
    with open_binary(path) as stream:
        raw = stream.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("the OCEL file is not UTF-8 text (OCEL SQLite is not read: export the log as "
                         "OCEL JSON or XML)", file=path) from None
    if text.lstrip().startswith("<"):
        return _xml_events_and_objects(text, path)
    try:
        document = json.loads(text)
    except RecursionError:
        raise InputError("the JSON is nested too deeply to read (about 1,000 levels)", file=path) from None
    except ValueError as exc:
        raise InputError(f"not valid JSON ({getattr(exc, 'msg', exc)})", file=path,
                         line=getattr(exc, "lineno", None)) from None
    if not isinstance(document, dict):
        raise InputError("not an OCEL log (the JSON is not an object)", file=path)
    return _events_and_objects(document)


def _xml_events_and_objects(text: str, path: str) -> tuple[list[dict], dict[str, dict]]:
    """OCEL 1.0 XML (typed <string key=...> children, omap/vmap lists) or OCEL 2.0 XML (<event id
    type time> with <attributes> and <objects><relationship object-id>)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(f"not valid XML ({exc})", file=path, line=exc.position[0]) from None
    events_element, objects_element = root.find("events"), root.find("objects")
    if events_element is None:
        raise InputError("this XML is neither XES nor OCEL (no <trace> and no <events>)", file=path)
    if any(e.get("id") is not None for e in events_element):
        types = _declared_types(root)
        events = [{"id": e.get("id"), "type": e.get("type"), "time": e.get("time"),
                   "attributes": _xml2_attributes(e, types.get(("event", e.get("type")), {})),
                   "objects": [r.get("object-id") for r in e.iterfind("objects/relationship")]}
                  for e in events_element]
        objects = {o.get("id"): {"type": o.get("type"),
                                 "attributes": _xml2_attributes(o, types.get(("object", o.get("type")), {}))}
                   for o in (objects_element if objects_element is not None else [])}
        return events, objects
    events = []
    for element in events_element:
        fields = _xml1_fields(element)
        events.append({"id": fields.get("id"), "type": fields.get("activity"), "time": fields.get("timestamp"),
                       "attributes": _without_values(fields.get("vmap")),
                       "objects": [str(v) for v in (fields.get("omap") or {}).get("__values__", [])]})
    objects = {}
    for element in (objects_element if objects_element is not None else []):
        fields = _xml1_fields(element)
        objects[str(fields.get("id"))] = {"type": fields.get("type"), "attributes": _without_values(fields.get("ovmap"))}
    return events, objects


def _xml1_fields(element) -> dict:
    """OCEL 1.0 XML children: typed values by key ("ocel:" prefix dropped); a <list> becomes a dict
    of its keyed values plus "__values__", every value in order (omap's object ids)."""
    fields = {}
    for child in element:
        key = str(child.get("key", "")).removeprefix("ocel:")
        if child.tag == "list":
            inner = [(str(c.get("key", "")).removeprefix("ocel:"), _xml1_value(c)) for c in child]
            fields[key] = {**dict(inner), "__values__": [v for _, v in inner]}
        else:
            fields[key] = _xml1_value(child)
    return fields


def _without_values(fields: dict | None) -> dict:
    return {k: v for k, v in (fields or {}).items() if k != "__values__"}


def _xml1_value(element):
    value = element.get("value")
    try:
        if element.tag == "int":
            return int(value)
        if element.tag == "float":
            return float(value)
    except (TypeError, ValueError):
        pass
    if element.tag == "boolean":
        return str(value).lower() == "true"
    return value


def _declared_types(root) -> dict[tuple[str, str], dict[str, str]]:
    """OCEL 2.0 attribute types declared per (event|object, type name)."""
    declared = {}
    for scope, path in (("object", "object-types/object-type"), ("event", "event-types/event-type")):
        for element in root.iterfind(path):
            declared[(scope, element.get("name"))] = {a.get("name"): a.get("type")
                                                      for a in element.iterfind("attributes/attribute")}
    return declared


def _xml2_attributes(element, types: dict[str, str]) -> dict:
    values = {}
    for attribute in element.iterfind("attributes/attribute"):
        name, text = attribute.get("name"), attribute.text
        kind = types.get(name)
        try:
            values[name] = int(text) if kind == "integer" else float(text) if kind == "float" else text
        except (TypeError, ValueError):
            values[name] = text
    return values


def _events_and_objects(document: dict) -> tuple[list[dict], dict[str, dict]]:
    """Both versions as (events: id, type, time, attributes, object ids), (objects: id -> type, attributes)."""
    if "ocel:events" in document:
        objects = {str(oid): {"type": o.get("ocel:type"), "attributes": o.get("ocel:ovmap") or {}}
                   for oid, o in (document.get("ocel:objects") or {}).items() if isinstance(o, dict)}
        events = [{"id": str(eid), "type": e.get("ocel:activity"), "time": e.get("ocel:timestamp"),
                   "attributes": e.get("ocel:vmap") or {}, "objects": [str(o) for o in e.get("ocel:omap") or []]}
                  for eid, e in (document.get("ocel:events") or {}).items() if isinstance(e, dict)]
        return events, objects
    objects = {str(o.get("id")): {"type": o.get("type"), "attributes": _attribute_list(o.get("attributes"))}
               for o in document.get("objects") or [] if isinstance(o, dict)}
    events = [{"id": str(e.get("id")), "type": e.get("type"), "time": e.get("time"),
               "attributes": _attribute_list(e.get("attributes")),
               "objects": [str(r.get("objectId")) for r in e.get("relationships") or [] if isinstance(r, dict)]}
              for e in document.get("events") or [] if isinstance(e, dict)]
    return events, objects


def _attribute_list(attributes) -> dict:
    """OCEL 2.0 attributes [{"name", "value"[, "time"]}] as a dict (the latest value of an object's
    time-varying attribute wins, as listed)."""
    if isinstance(attributes, dict):
        return attributes
    return {a.get("name"): a.get("value") for a in attributes or [] if isinstance(a, dict) and a.get("name")}


def object_type_counts(events: list[dict], objects: dict[str, dict]) -> Counter:
    """Objects per type that take part in at least one event."""
    seen = dict.fromkeys(oid for event in events for oid in event["objects"])
    counts = Counter(objects[oid]["type"] for oid in seen if oid in objects)
    return Counter(dict(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))))   # a stable order


def ocel_object_types(path: str) -> list[tuple[str, int]]:
    """(object type, objects taking part in events), most objects first: the choices to offer."""
    events, objects = _load(path)
    return object_type_counts(events, objects).most_common()


class OcelReader(InMemoryReader):
    """An OCEL JSON log flattened on ``object_type``."""

    fixed_mapping = VENDOR_MAPPING

    def __init__(self, path: str, object_type: str | None):
        self.path, self.format = path, "ocel"
        events, objects = _load(path)
        if not events:
            raise InputError("this OCEL log has no events", file=path)
        counts = object_type_counts(events, objects)
        self.object_types = [t for t, _ in counts.most_common()]
        if not object_type or object_type not in counts:
            listing = ", ".join(f"{t} ({n:,} objects)" for t, n in counts.most_common())
            lead = (f"no object type '{object_type}' in this log" if object_type else
                    "this is an object-centric event log (OCEL): each event concerns several objects")
            raise InputError(f"{lead}; choose with {{object_type}} the type whose life is a path "
                             f"(types: {listing or 'none linked to events'})", file=path)
        self.object_type = object_type
        self._frame, self._lines, self._traits = _flatten(events, objects, object_type)
        self.records_not_events = len(events) - len(set(self._frame[INSERT_ID])) if len(self._frame) else len(events)
        self.notes = [f"OCEL flattened on '{object_type}': {len(self._frame):,} rows from {len(events):,} events; "
                      f"{self.records_not_events:,} events concern no {object_type} and were left out."]
        # insert_id carried the event id only to count events; rows of one event for different objects
        # are not duplicates of each other, so it goes into a property instead.
        self._frame["ocel:eid"] = self._frame[INSERT_ID]
        self._frame[INSERT_ID] = None


def _flatten(events: list[dict], objects: dict[str, dict], object_type: str):
    rows, lines = [], []
    for number, event in enumerate(events, start=1):
        related = defaultdict(list)
        for oid in event["objects"]:
            related[(objects.get(oid) or {}).get("type")].append(oid)
        owners = related.pop(object_type, [])
        others = {f"objects.{t}": json.dumps(ids, ensure_ascii=False) for t, ids in related.items() if t}
        attributes = {k: v for k, v in event["attributes"].items() if v is not None}
        for owner in dict.fromkeys(owners):
            rows.append({USER: owner, EVENT: event["type"], TIME: event["time"], SESSION: None,
                         INSERT_ID: event["id"], **attributes, **others})
            lines.append(number)
    columns = list(dict.fromkeys(CANONICAL + [k for row in rows for k in row]))
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    traits = {oid: {k: v for k, v in o["attributes"].items() if v is not None}
              for oid, o in objects.items() if o["type"] == object_type and o["attributes"]}
    return frame, np.array(lines, dtype=np.int64), traits
