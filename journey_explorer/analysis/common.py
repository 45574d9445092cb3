"""Options every analysis shares (time range, segment, per user or per session) and the module protocol.

Each analysis module (``graph``, ``flows``, ``stuck``, ``compare``, ``funnel``, ``retention``,
``lifecycle``, ``interval``, ``northstar``) exposes the same four things, so the CLI, the GUI and the
exporters drive them all alike:

- ``Spec``: a dataclass of the analysis' own options;
- ``add_arguments(parser)``: its CLI flags (the common ones are added by the CLI);
- ``spec_from_args(args, log) -> Spec``;
- ``run(log, spec, progress=None) -> Result``: pure; ``progress(fraction)`` may raise to cancel;
- ``Result.to_json_dict()`` (the ``--json`` document) and ``Result.to_frame()`` (the ``--csv`` table).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.domain import JourneyError


@dataclass(frozen=True)
class CommonFilter:
    """``since``/``until``: ISO dates or datetimes (UTC, until is exclusive); ``segment``: "prop=value"
    conditions on user properties, all of which must hold; ``by``: paths per "user" or per "session"."""

    since: str | None = None
    until: str | None = None
    segment: tuple[str, ...] = ()
    by: str = "user"


def parse_condition(text: str) -> tuple[str, str]:
    """Split "plan=Pro" into ("plan", "Pro").

    >>> parse_condition("plan = Pro")
    ('plan', 'Pro')
    """
    if "=" not in text:
        raise JourneyError(f"Segment '{text}' must look like property=value")
    prop, value = text.split("=", 1)
    return prop.strip(), value.strip()


def users_matching(log: EventLog, conditions: tuple[str, ...] | list[str]) -> np.ndarray:
    """Boolean mask over user codes: users whose properties satisfy every "prop=value" condition."""
    mask = np.ones(log.n_users, dtype=bool)
    for text in conditions:
        prop, value = parse_condition(text)
        properties = log.properties()
        if prop not in properties.columns:
            known = ", ".join(map(str, properties.columns)) or "none"
            raise JourneyError(f"Unknown user property '{prop}' (known: {known})")
        column = properties[prop]
        mask &= column.astype(str).str.strip().eq(value).to_numpy()
    return mask


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
                   event_properties={name: column.take(keep) for name, column in log.event_properties.items()})


def apply_filter(log: EventLog, flt: CommonFilter) -> EventLog:
    """Apply time range and segment; with ``by="session"`` every session becomes its own path.

    In a per-session log, ``user`` holds session indices and ``user_keys`` reads "user#n" so that
    every analysis can treat a path uniformly. User properties follow their sessions.
    """
    keep = np.ones(len(log), dtype=bool)
    if flt.since:
        keep &= log.ts >= to_ms(flt.since)
    if flt.until:
        keep &= log.ts < to_ms(flt.until)
    if flt.segment:
        keep &= users_matching(log, flt.segment)[log.user]
    out = subset(log, keep) if not keep.all() else log
    if flt.by == "session":
        out = sessions_as_paths(out)
    elif flt.by != "user":
        raise JourneyError(f"--by must be 'user' or 'session', not '{flt.by}'")
    return out


def sessions_as_paths(log: EventLog) -> EventLog:
    """Re-key the log so that each session is a path of its own."""
    if len(log) == 0:
        return log
    session_codes, first = np.unique(log.session, return_index=True)
    new_user = np.searchsorted(session_codes, log.session).astype(np.int32)
    owner = log.user[first]
    number_within_user = np.arange(len(owner)) - np.searchsorted(owner, owner)
    keys = np.array([f"{log.user_keys[u]}#{n + 1}" for u, n in zip(owner, number_within_user)],
                    dtype=object)
    props = (log.user_properties.iloc[owner].reset_index(drop=True)
             if log.user_properties is not None else None)
    return replace(log, user=new_user, session=new_user.astype(np.int64), user_keys=keys,
                   user_properties=props)


def add_common_arguments(parser) -> None:
    """The CLI flags every analysis command takes."""
    parser.add_argument("--since", help="only events at or after this UTC date/time")
    parser.add_argument("--until", help="only events before this UTC date/time")
    parser.add_argument("--segment", action="append", default=[],
                        help='only users whose property matches, e.g. "plan=Pro" (repeatable)')
    parser.add_argument("--by", choices=("user", "session"), default="user",
                        help="treat each user's whole history, or each session, as one path")


def filter_from_args(args) -> CommonFilter:
    return CommonFilter(since=args.since, until=args.until, segment=tuple(args.segment), by=args.by)
