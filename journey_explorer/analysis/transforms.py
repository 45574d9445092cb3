"""Event-log transforms: rename/merge, regex grouping, exclusion and collapsing repeats.

Each takes an ``EventLog`` and returns a new one; event codes are re-encoded so ``event_names``
stays sorted and unique.
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from journey_explorer.analysis.common import subset
from journey_explorer.eventlog import EventLog


def rename_events(log: EventLog, names: dict[str, str]) -> EventLog:
    """Rename events; two names renamed to the same name are merged (the "two names" problem).

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a"], "event": ["x", "X"], "time": [0, 1]}))
    >>> rename_events(log, {"x": "X"}).event_names
    ('X',)
    """
    shown = [names.get(n, n) for n in log.event_names]
    return _recode(log, shown)


def group_events(log: EventLog, rules: list[tuple[str, str]]) -> EventLog:
    """Apply regex rules in order: the first pattern that matches a name gives its group name.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a"] * 2, "event": ["product_1", "cart"], "time": [0, 1]}))
    >>> group_events(log, [("^product_", "Product Page")]).event_names
    ('Product Page', 'cart')
    """
    compiled = [(re.compile(p), g) for p, g in rules]

    def grouped(name: str) -> str:
        return next((g for pattern, g in compiled if pattern.search(name)), name)

    return _recode(log, [grouped(n) for n in log.event_names])


def _recode(log: EventLog, shown: list[str]) -> EventLog:
    names, lookup = np.unique(np.array(shown, dtype=object).astype(str), return_inverse=True)
    event = lookup[log.event].astype(np.int32) if len(log.event) else log.event
    return replace(log, event=event, event_names=tuple(str(n) for n in names))


def exclude_events(log: EventLog, names: list[str] | tuple[str, ...]) -> EventLog:
    """Drop every event with one of ``names`` (unknown names are ignored)."""
    codes = [log.event_names.index(n) for n in names if n in log.event_names]
    if not codes:
        return log
    return subset(log, ~np.isin(log.event, codes))


def collapse_repeats(log: EventLog) -> EventLog:
    """A A A B -> A B within each path (the first of each run is kept)."""
    if len(log) < 2:
        return log
    keep = np.ones(len(log), dtype=bool)
    keep[1:] = (log.event[1:] != log.event[:-1]) | (log.user[1:] != log.user[:-1])
    return subset(log, keep)
