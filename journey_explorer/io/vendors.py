"""Vendor exports recognised by their fields and mapped with no questions asked.

Each normaliser turns the vendor's records into canonical rows ``(user, event, time, session,
insert_id, properties_json)`` plus user traits. Field names follow the vendors' documented export
shapes: Segment's Spec (track/page/screen/identify), Amplitude's Export API, Mixpanel's raw export,
GA4's BigQuery export, PostHog's event export.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Normalised:
    rows: list[tuple] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)        # record index of each row
    traits: dict[str, dict] = field(default_factory=dict)
    time_format: str | None = None

    def add(self, index: int, user, event, time, session=None, insert_id=None, properties=None) -> None:
        self.rows.append((_text(user), _text(event), time, _text(session), _text(insert_id),
                          json.dumps(properties, ensure_ascii=False, default=str) if properties else None))
        self.kept.append(index)

    def trait(self, user, values: dict | None) -> None:
        if user is not None and values:
            self.traits.setdefault(str(user), {}).update(flatten(values))


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def flatten(values: dict, prefix: str = "") -> dict[str, Any]:
    """Nested objects as "a.b" keys; lists as JSON text.

    >>> flatten({"a": {"b": 1}, "c": [1, 2]})
    {'a.b': 1, 'c': '[1, 2]'}
    """
    flat: dict[str, Any] = {}
    for key, value in (values or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = json.dumps(value, ensure_ascii=False, default=str)
        elif value is not None:
            flat[name] = value
    return flat


# --- detection -----------------------------------------------------------------------------------

SEGMENT_TYPES = {"track", "page", "screen", "identify", "group", "alias"}


def _looks_like(record: dict) -> str | None:
    properties = record.get("properties")
    if record.get("type") in SEGMENT_TYPES and ("userId" in record or "anonymousId" in record):
        return "segment"
    if "event_type" in record and "event_time" in record:
        return "amplitude"
    if "event_name" in record and "event_timestamp" in record:
        return "ga4"
    if "event" in record and "distinct_id" in record and "timestamp" in record:
        return "posthog"
    if "event" in record and isinstance(properties, dict) and "distinct_id" in properties \
            and "time" in properties:
        return "mixpanel"
    return None


def detect(records: list[dict]) -> str | None:
    """The vendor most of the sample records look like, if any."""
    votes = Counter(_looks_like(r) for r in records)
    vendor, count = votes.most_common(1)[0] if votes else (None, 0)
    return vendor if vendor and count >= max(1, len(records) // 2) else None


# --- Segment -------------------------------------------------------------------------------------


def segment(records: list[dict]) -> Normalised:
    """track -> its event; page/screen -> "Page Viewed: name" / "Screen Viewed: name"; identify ->
    traits. An anonymousId is stitched to the userId any message links it to (identify/alias/track)."""
    out = Normalised()
    links = {r["anonymousId"]: r["userId"] for r in records
             if r.get("anonymousId") and r.get("userId")}
    links.update({r["previousId"]: r["userId"] for r in records
                  if r.get("type") == "alias" and r.get("previousId") and r.get("userId")})
    for index, record in enumerate(records):
        user = record.get("userId") or links.get(record.get("anonymousId")) or record.get("anonymousId")
        kind = record.get("type")
        if kind == "identify":
            out.trait(user, record.get("traits") or (record.get("context") or {}).get("traits"))
            continue
        event = _segment_event_name(record)
        if event is None:
            continue
        properties = flatten(record.get("properties") or {})
        context = flatten(record.get("context") or {}, "context.")
        properties.update({k: v for k, v in context.items() if not k.startswith("context.traits.")})
        time = record.get("timestamp") or record.get("originalTimestamp") or record.get("sentAt") \
            or record.get("receivedAt")
        out.add(index, user, event, time, None, record.get("messageId"), properties)
    return out


def _segment_event_name(record: dict) -> str | None:
    kind = record.get("type")
    if kind == "track":
        return record.get("event")
    if kind in ("page", "screen"):
        name = record.get("name") or (record.get("properties") or {}).get("name")
        label = "Page Viewed" if kind == "page" else "Screen Viewed"
        return f"{label}: {name}" if name else label
    return None


# --- Amplitude -----------------------------------------------------------------------------------


def amplitude(records: list[dict]) -> Normalised:
    """event_type; user_id, else device_id; event_time is UTC ("2024-01-05 10:00:00.123000")."""
    out = Normalised()
    for index, record in enumerate(records):
        user = record.get("user_id") or record.get("device_id")
        session = record.get("session_id")
        session = None if session in (None, -1, "-1") else session
        time = record.get("event_time")
        if isinstance(time, str) and time and not time.endswith("Z") and "+" not in time[10:]:
            time = time.replace(" ", "T") + "Z"      # documented as UTC; never re-zoned
        out.add(index, user, record.get("event_type"), time, session, record.get("$insert_id"),
                flatten(record.get("event_properties") or {}))
        out.trait(user, record.get("user_properties"))
    return out


# --- Mixpanel ------------------------------------------------------------------------------------


def mixpanel(records: list[dict]) -> Normalised:
    """event; properties.distinct_id; properties.time in seconds or ms (by magnitude)."""
    out = Normalised()
    for index, record in enumerate(records):
        properties = dict(record.get("properties") or {})
        user = properties.pop("distinct_id", None)
        time = properties.pop("time", None)
        insert_id = properties.pop("$insert_id", None)
        session = properties.get("$session_id")
        out.add(index, user, record.get("event"), time, session, insert_id, flatten(properties))
    return out


# --- GA4 -----------------------------------------------------------------------------------------


def _ga4_value(value: dict | None) -> Any:
    value = value or {}
    for key in ("string_value", "int_value", "double_value", "float_value"):
        if value.get(key) is not None:
            return value[key]
    return None


def _ga4_params(params: list | None) -> dict[str, Any]:
    return {p.get("key"): _ga4_value(p.get("value")) for p in params or [] if p.get("key")}


def ga4(records: list[dict]) -> Normalised:
    """event_name; user_id, else user_pseudo_id; event_timestamp in µs; event_params flattened;
    the ga_session_id parameter is the session; user_properties are traits."""
    out = Normalised(time_format="epoch_us")
    for index, record in enumerate(records):
        user = record.get("user_id") or record.get("user_pseudo_id")
        params = _ga4_params(record.get("event_params"))
        session = params.get("ga_session_id")
        session = f"{user}:{session}" if session is not None else None
        extra = {k: v for k, v in record.items() if isinstance(v, dict) and k in ("device", "geo", "traffic_source")}
        properties = {**params, **flatten(extra)}
        out.add(index, user, record.get("event_name"), record.get("event_timestamp"), session, None, properties)
        out.trait(user, _ga4_params(record.get("user_properties")))
    return out


# --- PostHog -------------------------------------------------------------------------------------


def posthog(records: list[dict]) -> Normalised:
    """event; distinct_id; timestamp ISO; properties.$session_id; uuid; properties.$set -> traits."""
    out = Normalised()
    for index, record in enumerate(records):
        properties = dict(record.get("properties") or {})
        user = record.get("distinct_id")
        out.trait(user, properties.pop("$set", None))
        properties.pop("$set_once", None)
        out.add(index, user, record.get("event"), record.get("timestamp"), properties.get("$session_id"),
                record.get("uuid"), flatten(properties))
    return out


NORMALISERS: dict[str, Callable[[list[dict]], Normalised]] = {
    "segment": segment, "amplitude": amplitude, "mixpanel": mixpanel, "ga4": ga4, "posthog": posthog,
}

__all__ = ["NORMALISERS", "detect", "flatten", "Normalised", "np"]
