"""Changes in one segment only: the funnel's steps scanned per value of the few first-touch properties.

A price rise for drivers aged 18-24 (a fifth of the offers) cuts their step offer → upload from 30%
to 11% while the other ages stay flat: the whole log's step moves by odds of ~1.2, under the scan's
1.5 and inside its week-to-week noise, so the whole-log scan cannot see it. Here each funnel step is
also counted per value of every property with a handful of values (at most ``MAX_VALUES``, first
touch as in ``pathprops``), for the values holding at least ``MIN_SHARE`` of the step's paths, and
each of those series is scanned as the whole log's are (``change_scan``: the same support, the best
window's p-value Bonferroni over its windows). The false discovery rate is controlled over every
value x step series scanned (Benjamini-Hochberg). A window found is a change in that segment only
when the step's other paths moved in the same weeks by at most 1/``change_who.CONCENTRATED`` as much
and the difference of the two changes is significant (``change_who.against_others``: one-sided
z-test). Per step the strongest such value is kept.

A segment is who the path was when it reached the step: an event property counts for a trial only
when the path carried it by then (a specialty chosen after login says nothing of who logged in), and
a property that restates the goal is left out (a paid ``plan`` known only for payers: every value held
by 10 paths is held only by paths that reached the goal or only by paths that did not, as
``pathprops.without_outcomes`` tells, counted here on the factorized codes).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journey_explorer.analysis import change_scan, change_who
from journey_explorer.analysis.change_series import StepTrials
from journey_explorer.analysis.effects import benjamini_hochberg
from journey_explorer.eventlog import MISSING, EventLog

MAX_VALUES = 8          # a property with more values is not a handful of segments (ids, cities, pages)
MIN_SHARE = 0.05        # of a step's paths: a smaller value is too few paths to be a segment
OUTCOME_MIN_PATHS = 10  # values held by this many paths tell whether a property restates the goal


@dataclass(frozen=True)
class SegmentChange:
    """A window [start, end) (periods) where one funnel step moved for one property value only."""

    source: str
    target: str
    property: str
    value: str
    start: int
    end: int
    statistic: float
    p_value: float          # the value's scan: Bonferroni over its windows
    q_value: float          # Benjamini-Hochberg over every value x step series scanned
    found: dict             # the value against the others, as ``change_who.who_changed`` names it
    x: np.ndarray           # the value's conversions per period
    n: np.ndarray           # ...out of its paths reaching the step


@dataclass
class _Series:
    """Per value x step: the counts per period, and what each row is."""

    rows: list[tuple[int, str, int]]       # (step index, property, value code)
    values: dict[str, np.ndarray]          # property -> its values (by code)
    codes: dict[str, np.ndarray]           # property -> per path (user code), its value's code (-1: none)
    x: np.ndarray
    n: np.ndarray


def known_from(log: EventLog, properties: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per event property of ``properties`` (a user property is known all along): per path (user code)
    the row of its first event carrying it (the log's length when none does)."""
    users = set(map(str, log.user_property_names()))
    out = {}
    for name, column in log.event_properties.items():
        if str(name) not in properties or str(name) in users:
            continue
        carried = np.flatnonzero(column.codes != MISSING)
        path = log.user[carried]
        first = np.ones(len(carried), dtype=bool)          # the log is sorted by path: each path's first row
        first[1:] = path[1:] != path[:-1]
        out[str(name)] = np.full(log.n_users, len(log), dtype=np.int64)
        out[str(name)][path[first]] = carried[first]
    return out


def segment_series(trials: list[StepTrials], properties: dict[str, np.ndarray], periods: int,
                   known: dict[str, np.ndarray] | None = None, reached: np.ndarray | None = None) -> _Series:
    """The funnel steps' counts per period for each value of the properties with at most ``MAX_VALUES``
    values that holds ``MIN_SHARE`` of a step's paths; ``known``: see ``known_from``; ``reached``: per
    path, whether it reached the goal (a property that restates it is left out)."""
    import pandas as pd
    known = known or {}
    rows, xs, ns, values, codes = [], [], [], {}, {}
    for name, per_path in properties.items():
        code, uniques = pd.factorize(pd.Series(per_path, dtype=object), use_na_sentinel=True)
        if not 1 < len(uniques) <= MAX_VALUES or (reached is not None and restates_outcome(code, reached)):
            continue
        values[name], codes[name] = np.asarray(uniques, dtype=object), code
        for k, step in enumerate(trials):
            held = _held(step, code, known.get(name))
            key = np.where(held >= 0, held * periods + step.period, -1)
            n = np.bincount(key[key >= 0], minlength=len(uniques) * periods).reshape(len(uniques), periods)
            converted = key[step.converted]
            x = np.bincount(converted[converted >= 0], minlength=len(uniques) * periods).reshape(len(uniques), periods)
            for value in np.flatnonzero(n.sum(axis=1) >= MIN_SHARE * len(step.path)):
                rows.append((k, name, int(value)))
                xs.append(x[value])
                ns.append(n[value])
    empty = np.zeros((0, periods), dtype=np.int64)
    return _Series(rows, values, codes, np.vstack(xs) if xs else empty, np.vstack(ns) if ns else empty)


def restates_outcome(code: np.ndarray, reached: np.ndarray) -> bool:
    """Whether every value held by ``OUTCOME_MIN_PATHS`` paths is held only by paths that reached the
    goal or only by paths that did not, and both kinds are there (``code``: per path, -1 for none).

    >>> restates_outcome(np.array([0, 0, 1, 1] * 5), np.array([True, True, False, False] * 5))
    True
    >>> restates_outcome(np.array([0, 1] * 10), np.array([True, False, False, True] * 5))
    False
    """
    held = code >= 0
    paths = np.bincount(code[held])
    hits = np.bincount(code[held], weights=reached[held], minlength=len(paths))
    common = paths >= OUTCOME_MIN_PATHS
    rates = hits[common] / paths[common]
    return bool(len(rates) and np.isin(rates, (0.0, 1.0)).all() and len(np.unique(rates)) > 1)


def _held(step: StepTrials, code: np.ndarray, known: np.ndarray | None) -> np.ndarray:
    """Per trial of a step, the code of the value its path held when it reached the step (-1: none, or
    not carried yet; ``known``: the path's first row carrying it, see ``known_from``)."""
    held = code[step.path]
    return held if known is None else np.where(known[step.path] <= step.position, held, -1)


def scan(trials: list[StepTrials], properties: dict[str, np.ndarray], periods: int, support: change_scan.Support,
         fdr: float, known: dict[str, np.ndarray] | None = None, reached: np.ndarray | None = None
         ) -> list[SegmentChange]:
    """The funnel steps that changed in one property value only, at most one (the strongest) per step
    (``known``, ``reached``: see ``segment_series``)."""
    known = known or {}
    counted = segment_series(trials, properties, periods, known, reached)
    if not counted.rows:
        return []
    scanned = change_scan.scan(counted.x, counted.n, support)
    q_value = np.ones(len(counted.rows))
    if scanned.tested.any():
        q_value[scanned.tested] = benjamini_hochberg(scanned.p_value[scanned.tested])
    best: dict[int, SegmentChange] = {}
    for row in np.flatnonzero((scanned.start >= 0) & (q_value <= fdr)):
        k, name, value = counted.rows[row]
        s, e = int(scanned.start[row]), int(scanned.end[row])
        mine = _held(trials[k], counted.codes[name], known.get(name)) == value
        found = _against_others(trials[k], mine, s, e, fdr)
        if found is None:
            continue
        change = SegmentChange(trials[k].source, trials[k].target, name, counted.values[name][value], s, e,
                               float(scanned.statistic[row]), float(scanned.p_value[row]), float(q_value[row]),
                               {"property": name, "value": counted.values[name][value], **found,
                                "q_value": float(q_value[row])}, counted.x[row], counted.n[row])
        if k not in best or change.statistic > best[k].statistic:
            best[k] = change
    return [best[k] for k in sorted(best)]


def _against_others(step: StepTrials, mine: np.ndarray, start: int, end: int, alpha: float) -> dict | None:
    """The value's trials (``mine``) against the step's others, before [0, start) and during [start,
    end): their rates and the test of the difference, when the value's change is concentrated (else
    None)."""
    in_before, in_during = step.period < start, (step.period >= start) & (step.period < end)
    own = _rate(step.converted, mine & in_during) - _rate(step.converted, mine & in_before)
    if not np.isfinite(own) or own == 0:
        return None
    found = change_who.against_others(step.converted, mine, in_before, in_during, own)
    if found is None or found["p_value"] >= alpha:
        return None
    others = found["others_during"] - found["others_before"]
    return found if abs(found["during"] - found["before"]) >= change_who.CONCENTRATED * abs(others) else None


def _rate(success: np.ndarray, mask: np.ndarray) -> float:
    count = int(mask.sum())
    return float(success[mask].sum() / count) if count else float("nan")
