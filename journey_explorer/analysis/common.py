"""Options every analysis shares (time range, segment, per user or per session) and the module protocol.

Each analysis module (``graph``, ``flows``, ``stuck``, ``compare``, ``funnel``, ``retention``,
``lifecycle``, ``interval``, ``northstar``) exposes the same things, so the CLI, the GUI and the
exporters drive them all alike:

- ``Spec``: a frozen dataclass of the analysis' own options;
- ``run(log, spec, progress=None) -> Result``: pure; ``progress(fraction)`` may raise to cancel;
- ``Result.to_json_dict()`` (the CLI's JSON document) and ``Result.to_frame()`` (its table).

How a Spec is read from a command line is the CLI's business (``journey_explorer.cli.arguments``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from journey_explorer.analysis.arrays import median, running_count
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog, TakenProperties


@dataclass(frozen=True)
class CommonFilter:
    """``since``/``until``: ISO dates or datetimes (UTC, until is exclusive); ``segment``: conditions
    that must all hold ("plan=Pro", "platform in ios,android", "did Export >= 3 within 7d", a saved
    segment's name; see ``properties`` and ``cohorts``); ``by``: paths per "user" or per "session";
    ``match``: a path's property value is its first one ("first", first touch) or any of its
    events' values ("any")."""

    since: str | None = None
    until: str | None = None
    segment: tuple[str, ...] = ()
    by: str = "user"
    match: str = "first"


def users_matching(log: EventLog, conditions: tuple[str, ...] | list[str], match: str = "first") -> np.ndarray:
    """Boolean mask over the log's path (user) codes: paths in every segment condition."""
    from journey_explorer.analysis.segments import segment_paths
    return segment_paths(log, tuple(conditions), by="user", match=match)


def to_ms(text: str) -> int:
    """An ISO date/datetime as UTC milliseconds."""
    import pandas as pd
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise JourneyError(f"'{text}' is not a date (use YYYY-MM-DD or an ISO datetime)") from None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value // 1_000_000)


def subset(log: EventLog, keep: np.ndarray) -> EventLog:
    """The log restricted to events where ``keep`` is True (codes and names unchanged)."""
    return replace(log, user=log.user[keep], event=log.event[keep], ts=log.ts[keep],
                   session=log.session[keep],
                   event_properties=TakenProperties(log.event_properties, keep) if log.event_properties else {})


def apply_filter(log: EventLog, flt: CommonFilter) -> EventLog:
    """Apply time range and segment; with ``by="session"`` every session becomes its own path.

    In a per-session log, ``user`` holds session indices and ``user_keys`` reads "user#n" so that
    every analysis can treat a path uniformly. User properties follow their sessions.
    """
    if flt.by not in ("user", "session"):
        raise JourneyError(f"Paths are per user or per session, not per '{flt.by}'")
    keep = np.ones(len(log), dtype=bool)
    if flt.since:
        keep &= log.ts >= to_ms(flt.since)
    if flt.until:
        keep &= log.ts < to_ms(flt.until)
    if flt.segment:
        # Segments read the events in the time range, per path (user or session): see ``properties``.
        from journey_explorer.analysis.segments import segment_events
        ranged = bool(flt.since or flt.until)
        keep &= segment_events(log, flt.segment, by=flt.by, within=keep if ranged else None, match=flt.match)
    if flt.by == "user":
        return subset(log, keep) if not keep.all() else log
    # Sessions keep the number they have in the whole history ("u7#3"), whatever the filter leaves.
    number = _session_number(log)
    if keep.all():
        return sessions_as_paths(log, number)
    return sessions_as_paths(subset(log, keep), number[keep])


def _session_number(log: EventLog) -> np.ndarray:
    """Per event, the 0-based number of its session within its user's history."""
    if len(log) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = log.path_starts()
    first_session = log.session[np.flatnonzero(starts)]
    return log.session - first_session[running_count(starts) - 1]


def median_path_duration_ms(log: EventLog) -> float:
    """The median path's time from its first event to its last (0 for an empty log)."""
    starts = np.flatnonzero(log.path_starts())
    if not len(starts):
        return 0.0
    ends = np.r_[starts[1:], len(log)] - 1
    return median(log.ts[ends] - log.ts[starts])


def one_visit_per_path(log: EventLog) -> bool:
    """Every path is one visit: the cases of a process log, or sessions as paths (``sessions_as_paths``)."""
    if not len(log):
        return False
    inside = log.user[1:] == log.user[:-1]
    return bool(np.all(log.session[1:][inside] == log.session[:-1][inside]))


def session_owners(log: EventLog) -> np.ndarray | None:
    """In a per-session log (``sessions_as_paths``): per session, the index of its user (0, 1, ... in
    the order users come). None in a per-user log."""
    owner = log.path_owner
    if owner is None or not len(owner):
        return None
    starts_user = np.r_[True, owner[1:] != owner[:-1]]
    return np.cumsum(starts_user) - 1


def sessions_as_paths(log: EventLog, session_number: np.ndarray | None = None) -> EventLog:
    """Re-key the log so that each session is a path of its own; ``session_number`` (per event)
    numbers sessions within their user, by default in the order they appear in this log."""
    if len(log) == 0:
        return log
    session_codes, first = np.unique(log.session, return_index=True)
    new_user = np.searchsorted(session_codes, log.session).astype(np.int32)
    owner = log.user[first]
    if session_number is None:
        number_within_user = np.arange(len(owner)) - np.searchsorted(owner, owner)
    else:
        number_within_user = session_number[first]
    keys = np.array([f"{log.user_keys[u]}#{n + 1}" for u, n in zip(owner, number_within_user)],
                    dtype=object)
    return replace(log, user=new_user, session=new_user.astype(np.int64), user_keys=keys,
                   user_properties=log.take_users(owner), path_owner=owner, path_noun="session")

