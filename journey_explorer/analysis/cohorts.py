"""Behavioural cohorts and saved segments: segments defined by what paths did, or by a name.

Segment texts (what the segment box and ``--segment`` take), all combined with AND:
- a property condition: ``plan=Pro``, ``platform in ios,android`` (see ``properties``);
- a behavioural cohort: ``did EVENT``, ``did not EVENT``, ``did EVENT >= K``,
  ``did EVENT >= K within D`` (``D`` like 7d, 12h): at least K ``EVENT`` events within D of the
  path's first event ("first seen"); ``did not`` takes exactly the other paths;
- the name of a saved segment (``Project.save_segment(name, definition)``): a definition
  ``{"segment": [texts...], "match": "first"|"any"}`` (made by ``definition``) or a user list
  ``{"users": [ids...]}`` (the Sankey's "save these users").

Like property values, behaviour is read from the events analysed (the time range applied), per path.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from journey_explorer.analysis.properties import SegmentSyntaxError, _user_of_owner, parse_condition, property_names
from journey_explorer.domain import UnknownEvent
from journey_explorer.eventlog import EventLog

_COHORT = re.compile(
    r"^\s*did\s+(?P<negate>not\s+)?(?P<event>.+?)"
    r"(?:\s*(?:>=|at\s+least)\s*(?P<k>\d+)(?:\s*times?)?)?"
    r"(?:\s+within\s+(?P<within>\d+(?:\.\d+)?\s*[smhdw]?))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Cohort:
    """Paths with at least ``min_count`` ``event`` events within ``within_ms`` of their first event
    (any time when None); ``negate``: the other paths."""

    event: str
    min_count: int = 1
    within_ms: int | None = None
    negate: bool = False

    def paths(self, log: EventLog, owner: np.ndarray, size: int, within: np.ndarray | None,
              match: str = "first") -> np.ndarray:
        if self.event not in log.event_names:
            raise UnknownEvent(self.event, log.event_names)
        # Paths are runs of equal owners; "first seen" is the first event looked at in each run.
        index = np.arange(len(log)) if within is None else np.flatnonzero(within)
        holder = owner[index] if within is not None else owner
        first_seen = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
        if len(index):
            starts = np.flatnonzero(np.concatenate([[True], holder[1:] != holder[:-1]]))
            first_seen[holder[starts]] = log.ts[index[starts]]
        is_event = log.event == log.event_code(self.event)
        hits = np.flatnonzero(is_event) if within is None else index[is_event[index]]
        if self.within_ms is not None:
            hits = hits[log.ts[hits] - first_seen[owner[hits]] <= self.within_ms]
        found = np.bincount(owner[hits], minlength=size) >= self.min_count
        return ~found if self.negate else found

    def __str__(self) -> str:
        text = f"did {'not ' if self.negate else ''}{self.event}"
        if self.min_count != 1:
            text += f" >= {self.min_count}"
        if self.within_ms is not None:
            text += f" within {_duration_text(self.within_ms)}"
        return text


def _duration_text(ms: int) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms / 1000:g}s"


@dataclass(frozen=True)
class SavedSegment:
    """A segment saved in the project under ``name``."""

    name: str
    definition: Mapping = field(hash=False)

    def paths(self, log: EventLog, owner: np.ndarray, size: int, within: np.ndarray | None,
              match: str = "first") -> np.ndarray:
        if "users" in self.definition:
            users = np.isin(np.asarray(log.user_keys).astype(str), [str(u) for u in self.definition["users"]])
            return users[_user_of_owner(log, owner, size)]
        parts = self.definition.get("segment", [])
        rule = self.definition.get("match", match)
        ok = np.ones(size, dtype=bool)
        for text in parts:
            ok &= parse_segment(text, {}, known=property_names(log)).paths(log, owner, size, within, rule)
        return ok

    def __str__(self) -> str:
        return self.name


def parse_segment(text: str, saved: Mapping[str, dict] | None = None, known: list[str] | None = None):
    """A saved segment's name, a behavioural cohort ("did ...") or a property condition.

    >>> str(parse_segment("did Export >= 3 within 7d"))
    'did Export >= 3 within 7d'
    """
    stripped = text.strip()
    if saved and stripped in saved:
        return SavedSegment(stripped, saved[stripped])
    cohort = _COHORT.match(stripped)
    if cohort:
        return _cohort(cohort)
    return parse_condition(stripped, known)


def _cohort(found: re.Match) -> Cohort:
    from journey_explorer.analysis.interval import parse_duration
    count = int(found["k"]) if found["k"] else 1
    if count < 1:
        raise SegmentSyntaxError("A behavioural segment needs at least 1 event")
    within = parse_duration(found["within"]) if found["within"] else None
    return Cohort(event=found["event"].strip(), min_count=count, within_ms=within, negate=bool(found["negate"]))


def definition(segment: list[str] | tuple[str, ...], match: str = "first") -> dict:
    """What to save for a segment (checked it can be read): ``{"segment": [...], "match": ...}``."""
    parts = [part.strip() for part in segment if part.strip()]
    if not parts:
        raise SegmentSyntaxError("A saved segment needs at least one condition")
    for part in parts:
        parse_segment(part)
    return {"segment": parts, "match": match}
