"""Vendor exports recognised by their fields and mapped with no questions asked.

Each normaliser turns the vendor's records into rows with the canonical columns of ``io.base``
(user, event, time, session, insert id) plus one column per property, and user traits apart.
An event's own properties keep the bare names the vendor's tool shows (``plan``, ``$os``: Segment,
Mixpanel, PostHog; they read "utm_source = affiliate" on a slide, not "properties.utm_source");
other nested objects are flattened with dotted names that keep their container (``context.ip``,
``event_properties.plan``, ``traits.email``), so a user can name (and drop) exactly the field the
vendor's docs name; values keep their JSON type (numbers stay numbers, lists become JSON text).

Field names follow the vendors' documented export shapes: Segment's Spec (track/page/screen/
identify/alias), Amplitude's Export API, Mixpanel's raw export, GA4's BigQuery export, PostHog's
event export.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from journey_explorer.io.base import EVENT, INSERT_ID, SESSION, TIME, USER
from journey_explorer.io.timestamps import check_timezone

CANONICAL = (USER, EVENT, TIME, SESSION, INSERT_ID)
_CANONICAL_NAMES = frozenset(CANONICAL)
BARE_PROPERTIES = ("segment", "mixpanel", "posthog")     # formats whose event properties are named bare
QUARTER_HOUR_MS = 15 * 60 * 1000


@dataclass
class Normalised:
    rows: list[dict] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)        # record index of each row
    traits: dict[str, dict] = field(default_factory=dict)
    time_format: str | None = None
    not_events: int = 0                                  # records read that carry no event (identify)
    notes: list[str] = field(default_factory=list)       # what the reader decided, for the summary

    def add(self, index: int, user, event, time, session=None, insert_id=None, properties=None) -> None:
        row = {USER: _text(user), EVENT: _text(event), TIME: time, SESSION: _text(session),
               INSERT_ID: _text(insert_id)}
        properties = properties or {}
        if _CANONICAL_NAMES.isdisjoint(properties):        # the usual case: one C call, the same order
            row.update(properties)
        else:
            for name, value in properties.items():
                row[f"source.{name}" if name in CANONICAL else name] = value
        self.rows.append(row)
        self.kept.append(index)

    def trait(self, user, values: dict | None, prefix: str = "") -> None:
        if user is not None and values:
            self.traits.setdefault(str(user), {}).update(flatten(values, prefix))

    def frame(self) -> pd.DataFrame:
        """The rows as one object-typed frame: canonical columns first, then properties in the order
        they first appear (values keep their Python type)."""
        columns = list(CANONICAL)
        seen = set(columns)
        for row in self.rows:
            for name in row:
                if name not in seen:
                    seen.add(name)
                    columns.append(name)
        return pd.DataFrame(self.rows, columns=columns, dtype=object)


def _as_dict(value) -> dict:
    """A copy of an object field; anything else (missing, a list, a string) as an empty one."""
    return dict(value) if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def flatten(values: dict | None, prefix: str = "") -> dict[str, Any]:
    """Nested objects as "a.b" keys; lists as JSON text; None left out.

    >>> flatten({"a": {"b": 1}, "c": [1, 2]}, "traits.")
    {'traits.a.b': 1, 'traits.c': '[1, 2]'}
    """
    flat: dict[str, Any] = {}
    if values is not None and not isinstance(values, dict):      # e.g. "properties": "..." or [...]
        text = values if isinstance(values, (str, int, float, bool)) else json.dumps(values, default=str)
        return {prefix.rstrip(".") or "value": text}
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
NOT_EVENTS = {"identify", "group", "alias"}      # they carry traits and identities


def _looks_like(record: dict) -> str | None:
    properties = record.get("properties")
    kind = record.get("type")
    if isinstance(kind, str) and kind in SEGMENT_TYPES and ("userId" in record or "anonymousId" in record):
        return "segment"
    if "event_type" in record and "event_time" in record:
        return "amplitude"
    if "event_name" in record and "event_timestamp" in record:
        return "ga4"
    if "event" in record and "timestamp" in record and (
            "distinct_id" in record or (isinstance(properties, dict) and "distinct_id" in properties)):
        return "posthog"          # exports carry distinct_id at the top; the capture API in properties
    if "event" in record and isinstance(properties, dict) and "distinct_id" in properties \
            and "time" in properties:
        return "mixpanel"
    return None


def detect(records: list[dict]) -> str | None:
    """The vendor most of the sample records look like, if any."""
    votes = Counter(_looks_like(r) for r in records if isinstance(r, dict))
    vendor, count = votes.most_common(1)[0] if votes else (None, 0)
    return vendor if vendor and count >= max(1, len(records) // 2) else None


# --- identity stitching --------------------------------------------------------------------------


def resolve_links(links: dict[str, str]) -> dict[str, str]:
    """Follow chains of "this id is that user" to their end (cycles stop where they close).

    >>> resolve_links({"anon": "old", "old": "new"})
    {'anon': 'new', 'old': 'new'}
    """
    resolved = {}
    for start in links:
        seen, current = {start}, links[start]
        while current in links and links[current] not in seen:
            seen.add(current)
            current = links[current]
        resolved[start] = current
    return {k: v for k, v in resolved.items() if k != v}


# --- Segment -------------------------------------------------------------------------------------


def segment(records: list[dict], timezone: str = "UTC") -> Normalised:
    """track -> its event; page/screen -> "Page Viewed: name" / "Screen Viewed: name"; identify ->
    traits (``traits.*``); alias/identify/group carry no event but are counted as read.

    Identity, as for any file with both ids (``io.identity``): an anonymousId seen with exactly one
    userId (on any message) is that user's device, and its events join the user, before and after; an
    anonymousId seen with several userIds is a shared device: its events without a userId stay its own
    path and the users are never merged. An alias (previousId -> userId) is an explicit merge."""
    out = Normalised()
    users_of_device: dict[str, set[str]] = {}
    aliases: dict[str, str] = {}
    for record in records:
        user_id = _text(record.get("userId"))
        if not user_id:
            continue
        device = _text(record.get("anonymousId"))
        if device and device != user_id:
            users_of_device.setdefault(device, set()).add(user_id)
        previous = _text(record.get("previousId")) if record.get("type") == "alias" else None
        if previous and previous != user_id:
            aliases.setdefault(previous, user_id)
    shared = {device for device, users in users_of_device.items() if len(users) > 1}
    links = {device: next(iter(users)) for device, users in users_of_device.items() if device not in shared}
    links = resolve_links({**links, **aliases})
    merged = set()
    for index, record in enumerate(records):
        raw_user = _text(record.get("userId")) or _text(record.get("anonymousId"))
        user = links.get(raw_user, raw_user)
        if raw_user != user:
            merged.add(raw_user)
        kind = record.get("type") if isinstance(record.get("type"), str) else None
        if kind == "identify":
            out.trait(user, record.get("traits") or _as_dict(record.get("context")).get("traits"), "traits.")
        if kind in NOT_EVENTS:
            out.not_events += 1
            continue
        event = _segment_event_name(record)        # None (a track without its event) is rejected
        properties = flatten(record.get("properties"))      # bare, as Segment shows them; context keeps its prefix
        properties.update(flatten(record.get("context"), "context."))
        time = record.get("timestamp") or record.get("originalTimestamp") or record.get("sentAt") \
            or record.get("receivedAt")
        out.add(index, user, event, time, None, record.get("messageId"), properties)
    if links:
        out.notes.append(f"Merged {len(links):,} identities (anonymousId/previousId -> userId by identify, "
                         f"alias or a message carrying both); {len(merged):,} of them had events.")
    if shared:
        out.notes.append(f"{len(shared):,} anonymousId value{'s' if len(shared) != 1 else ''} seen with several "
                         "userIds (shared devices) keep their events without a userId apart.")
    if out.not_events:
        out.notes.append(f"{out.not_events:,} identify/alias/group records carry traits or identities, not events.")
    return out


def _segment_event_name(record: dict) -> str | None:
    kind = record.get("type") if isinstance(record.get("type"), str) else None
    if kind == "track":
        return record.get("event")
    if kind in ("page", "screen"):
        name = record.get("name") or _as_dict(record.get("properties")).get("name")
        label = "Page Viewed" if kind == "page" else "Screen Viewed"
        return f"{label}: {name}" if name else label
    return None


# --- Amplitude -----------------------------------------------------------------------------------

# Top-level fields that are bookkeeping of Amplitude's pipeline, not facts about the event.
AMPLITUDE_BOOKKEEPING = {"event_type", "event_time", "user_id", "device_id", "session_id", "$insert_id",
                         "event_properties", "user_properties", "client_upload_time", "server_upload_time",
                         "server_received_time", "processed_time", "sample_rate", "amplitude_event_type",
                         "is_attribution_event", "data", "$schema", "uuid"}


def amplitude(records: list[dict], timezone: str = "UTC") -> Normalised:
    """event_type; event_time is UTC ("2024-01-05 10:00:00.123000"); event_properties and the
    descriptive top-level fields (country, platform, os_name, device_*, ...) are properties;
    user_properties are traits.

    Identity: user_id; else the user_id Amplitude's amplitude_id (its merged user) carries on
    another event; else the user_id seen with the same device_id; else device_id; else amplitude_id.
    """
    out = Normalised()
    by_amplitude_id, by_device = {}, {}
    for record in records:
        user_id = _text(record.get("user_id"))
        if user_id:
            by_amplitude_id.setdefault(_text(record.get("amplitude_id")), user_id)
            by_device.setdefault(_text(record.get("device_id")), user_id)
    by_amplitude_id.pop(None, None)
    by_device.pop(None, None)
    stitched = 0
    for index, record in enumerate(records):
        user = _text(record.get("user_id"))
        if not user:
            user = (by_amplitude_id.get(_text(record.get("amplitude_id")))
                    or by_device.get(_text(record.get("device_id"))))
            stitched += user is not None
            user = user or _text(record.get("device_id")) or _text(record.get("amplitude_id"))
        session = record.get("session_id")
        session = None if session in (None, -1, "-1") else session
        time = record.get("event_time")
        if isinstance(time, str) and time and not time.endswith("Z") and "+" not in time[10:]:
            time = time.replace(" ", "T") + "Z"      # documented as UTC; never re-zoned
        properties = {k: v for k, v in record.items()
                      if k not in AMPLITUDE_BOOKKEEPING and not isinstance(v, (dict, list)) and v is not None}
        properties.update(flatten({k: v for k, v in record.items()
                                   if k not in AMPLITUDE_BOOKKEEPING and isinstance(v, (dict, list))}))
        properties.update(flatten(record.get("event_properties"), "event_properties."))
        out.add(index, user, record.get("event_type"), time, session, record.get("$insert_id"), properties)
        out.trait(user, record.get("user_properties"), "user_properties.")
    if stitched:
        out.notes.append(f"Stitched {stitched:,} events without a user_id to the user_id of their "
                         "amplitude_id or device_id.")
    return out


# --- Mixpanel ------------------------------------------------------------------------------------


def mixpanel(records: list[dict], timezone: str = "UTC") -> Normalised:
    """event; properties.distinct_id; properties.time in seconds or ms (by magnitude).

    Mixpanel's raw export writes ``time`` in the project's timezone (a local wall clock counted as
    if it were UTC). ``timezone`` (when not UTC) converts it; otherwise the offset is measured
    against ``mp_processing_time_ms`` (true UTC) when the records carry it.
    """
    out = Normalised(time_format="epoch_ms")
    local_ms = np.array([_epoch_ms(_as_dict(r.get("properties")).get("time")) for r in records], dtype=float)
    processed = np.array([_number(_as_dict(r.get("properties")).get("mp_processing_time_ms")) for r in records],
                         dtype=float)
    utc_ms = _mixpanel_utc(local_ms, processed, timezone, out.notes)
    by_device = _mixpanel_device_users(records)
    stitched = 0
    for index, record in enumerate(records):
        properties = _as_dict(record.get("properties"))
        user = properties.pop("distinct_id", None)
        device = _text(properties.get("$device_id"))
        if not _text(properties.get("$user_id")) and device in by_device:
            user, stitched = by_device[device], stitched + 1
        properties.pop("time", None)
        insert_id = properties.pop("$insert_id", None)
        session = properties.get("$session_id")
        time = None if np.isnan(utc_ms[index]) else int(utc_ms[index])
        raw_time = _as_dict(record.get("properties")).get("time")
        out.add(index, user, record.get("event"), time if time is not None else raw_time, session, insert_id,
                flatten(properties))        # bare names, as Mixpanel shows them ("utm_source", "$os")
    if stitched:
        out.notes.append(f"Stitched {stitched:,} events from before login to their user ($device_id -> $user_id).")
    return out


def _mixpanel_device_users(records: list[dict]) -> dict[str, str]:
    """Simplified ID merge: events before login carry distinct_id "$device:<id>" and the same
    $device_id as the events after login, which carry $user_id (the first user of a device wins)."""
    by_device: dict[str, str] = {}
    for record in records:
        properties = _as_dict(record.get("properties"))
        device, user = _text(properties.get("$device_id")), _text(properties.get("$user_id"))
        if device and user:
            by_device.setdefault(device, user)
    return by_device


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _epoch_ms(value) -> float:
    """Seconds or milliseconds (told apart by magnitude) as ms; NaN when not a number."""
    number = _number(value)
    return number * 1000 if abs(number) < 1e11 else number


def measured_offset_ms(local_ms: np.ndarray, processed_ms: np.ndarray) -> int | None:
    """The timezone offset of local times, from when the same events were processed (UTC).

    Processing comes seconds to minutes after the event, so local - processed rounded to the
    nearest quarter hour is the offset; the most common value is taken when at least half the
    records agree, else None.

    >>> measured_offset_ms(np.array([19800_000.0 + 5_000]), np.array([6_000.0]))
    19800000
    """
    both = ~np.isnan(local_ms) & ~np.isnan(processed_ms)
    if not both.any():
        return None
    quarters = np.round((local_ms[both] - processed_ms[both]) / QUARTER_HOUR_MS).astype(np.int64)
    values, counts = np.unique(quarters, return_counts=True)
    best = int(np.argmax(counts))
    if counts[best] < both.sum() / 2 or abs(values[best]) > 14 * 4:
        return None
    return int(values[best]) * QUARTER_HOUR_MS


def _offset_text(offset_ms: int) -> str:
    sign = "+" if offset_ms >= 0 else "-"
    minutes = abs(offset_ms) // 60_000
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _mixpanel_utc(local_ms: np.ndarray, processed: np.ndarray, timezone: str, notes: list[str]) -> np.ndarray:
    offset = measured_offset_ms(local_ms, processed)
    if timezone != "UTC":
        check_timezone(timezone)
        ok = ~np.isnan(local_ms)
        wall = pd.Series(pd.to_datetime(local_ms[ok].astype(np.int64), unit="ms"))
        utc = wall.dt.tz_localize(timezone, ambiguous=np.zeros(len(wall), dtype=bool),
                                  nonexistent="shift_forward").dt.tz_convert("UTC").dt.tz_localize(None)
        out = local_ms.copy()
        out[ok] = utc.to_numpy().astype("datetime64[ms]").view(np.int64)
        notes.append(f"Mixpanel times read as local times in {timezone} ({{timezone}}).")
        if offset is not None:
            given = int(np.median((local_ms[ok] - out[ok]))) if ok.any() else 0
            if abs(given - offset) >= QUARTER_HOUR_MS:
                notes.append(f"Note: mp_processing_time_ms suggests {_offset_text(offset)}, "
                             f"not {timezone}'s {_offset_text(given)}.")
        return out
    if offset:
        notes.append(f"Mixpanel times are in the project's timezone: measured {_offset_text(offset)} from "
                     "mp_processing_time_ms and converted to UTC (give {timezone} to choose the zone).")
        return local_ms - offset
    if offset == 0:
        notes.append("Mixpanel times checked against mp_processing_time_ms: already UTC.")
    else:
        notes.append("Mixpanel raw-export times are in the project's timezone, which the file does not say: "
                     "read as UTC (give {timezone} with the project's zone).")
    return local_ms


# --- GA4 -----------------------------------------------------------------------------------------


def _ga4_value(value: dict | None) -> Any:
    """The one filled value field; BigQuery's JSON writes INT64 as text, which becomes a number."""
    if not isinstance(value, dict):
        return value
    for key in ("string_value", "int_value", "double_value", "float_value"):
        found = value.get(key)
        if found is None:
            continue
        if key == "int_value" and isinstance(found, str):
            try:
                return int(found)
            except ValueError:
                return found
        if key in ("double_value", "float_value") and isinstance(found, str):
            number = _number(found)
            return found if np.isnan(number) else number
        return found
    return None


def _ga4_params(params: list | None, prefix: str) -> dict[str, Any]:
    return {f"{prefix}{p.get('key')}": _ga4_value(p.get("value")) for p in params or []
            if isinstance(p, dict) and p.get("key")}


GA4_CONTEXT = ("device", "geo", "traffic_source", "app_info", "collected_traffic_source", "ecommerce")


def ga4(records: list[dict], timezone: str = "UTC") -> Normalised:
    """event_name; user_id, else user_pseudo_id; event_timestamp in µs; event_params as
    ``event_params.*`` (typed); the ga_session_id parameter is the session; user_properties are
    traits (``user_properties.*``)."""
    out = Normalised(time_format="epoch_us")
    for index, record in enumerate(records):
        user = record.get("user_id") or record.get("user_pseudo_id")
        params = _ga4_params(record.get("event_params"), "event_params.")
        session = params.get("event_params.ga_session_id")
        session = f"{user}:{session}" if session is not None else None
        extra = {k: v for k, v in record.items() if isinstance(v, dict) and k in GA4_CONTEXT}
        properties = {**params, **flatten(extra)}
        if record.get("platform") is not None:
            properties["platform"] = record["platform"]
        if record.get("items"):                     # ecommerce items of the event, as JSON text
            properties["items"] = json.dumps(record["items"], ensure_ascii=False, default=str)
        out.add(index, user, record.get("event_name"), record.get("event_timestamp"), session, None, properties)
        out.trait(user, _ga4_params(record.get("user_properties"), "user_properties."))
    return out


# --- PostHog -------------------------------------------------------------------------------------


def posthog(records: list[dict], timezone: str = "UTC") -> Normalised:
    """event; distinct_id; timestamp ISO; properties.$session_id; uuid; properties.$set -> traits."""
    out = Normalised()
    for index, record in enumerate(records):
        properties = _as_dict(record.get("properties"))
        user = record.get("distinct_id") or properties.pop("distinct_id", None)
        out.trait(user, properties.pop("$set", None) or record.get("$set"), "$set.")
        out.trait(user, record.get("person_properties"), "person_properties.")     # batch exports
        properties.pop("$set_once", None)
        out.add(index, user, record.get("event"), record.get("timestamp"), properties.get("$session_id"),
                record.get("uuid"), flatten(properties))      # bare names, as PostHog shows them
    return out


NORMALISERS: dict[str, Callable[..., Normalised]] = {
    "segment": segment, "amplitude": amplitude, "mixpanel": mixpanel, "ga4": ga4, "posthog": posthog,
}

__all__ = ["NORMALISERS", "detect", "flatten", "Normalised", "measured_offset_ms", "resolve_links"]
