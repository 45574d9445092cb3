"""Segments: which paths are in "plan=Pro", "did Export >= 3 within 7d" or a saved segment's name.

Joins the two vocabularies a segment text may use, properties (``properties``) and behavioural
cohorts (``cohorts``), so neither has to import the other.
"""
from __future__ import annotations

import numpy as np

from journey_explorer.analysis import cohorts
from journey_explorer.analysis.properties import MATCH_RULES, Condition, path_owner, property_names
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog


def segment_paths(log: EventLog, segment, by: str = "user", within: np.ndarray | None = None,
                  match: str = "first") -> np.ndarray:
    """Boolean per path (user code, or session index when ``by="session"``): paths in every part
    of ``segment`` (texts such as "plan=Pro", "did Export >= 3 within 7d", a saved segment's name).
    ``within`` limits the events looked at (the time range)."""
    if match not in MATCH_RULES:
        raise JourneyError("Properties match on the first touch or on any event")
    owner, size = path_owner(log, by)
    ok = np.ones(size, dtype=bool)
    for text in segment:
        part = cohorts.parse_segment(text, log.saved_segments, known=property_names(log))
        ok &= part.paths(log, owner, size, within, match)
    return ok


def segment_events(log: EventLog, segment, by: str = "user", within: np.ndarray | None = None,
                   match: str = "first") -> np.ndarray:
    """Boolean per event: the event belongs to a path in the segment."""
    owner, _ = path_owner(log, by)
    return segment_paths(log, segment, by, within, match)[owner]


def properties_needed(segment=(), breakdown: str | None = None,
                      saved: dict | None = None) -> set[str]:
    """The property names a view's segment and breakdown read (as written: ``plan`` may be stored as
    ``case:plan``), so a loader can read only those columns. Behavioural cohorts need none; a view
    listing every property (the catalog, compare's "who") needs them all and does not use this."""
    names = {breakdown} if breakdown else set()
    for text in segment:
        part = cohorts.parse_segment(text, saved or {})
        if isinstance(part, Condition):
            names.add(part.key)
        elif isinstance(part, cohorts.SavedSegment):
            names |= properties_needed(part.definition.get("segment", ()))
    return names


def segment_sizes(log: EventLog, by: str = "user") -> list[dict]:
    """Every saved segment with the number of paths in it (for the saved-segments list)."""
    rows = []
    for name, saved in log.saved_segments.items():
        try:
            paths = int(segment_paths(log, [name], by=by).sum())
            problem = None
        except JourneyError as exc:       # e.g. a property no longer in the project
            paths, problem = None, str(exc)
        rows.append({"name": name, "definition": dict(saved), "paths": paths, "problem": problem})
    return rows
