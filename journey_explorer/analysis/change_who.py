"""Who a change hit: the property value (country, app version, channel…) where a change is concentrated.

A change found by ``changes`` is a rate that moved in a window of time. For a story's lead change
that can be counted per event — a transition P(next = B | A), an event's rate per 1,000 events, or
a funnel step A → B per path — the same rate is counted before the window and during it, once for
the paths holding each property value ("first touch", see ``pathprops``) and once for all others.
The value where the change is concentrated is the one whose own change exceeds the others' change
the most, in the direction of the overall change: a one-sided z-test of the difference of the two
differences, Benjamini-Hochberg over every value tried. It is named only when significant and when
its change is at least ``CONCENTRATED`` times the others' (an outage in one country, not a change
everywhere that is a little bigger in one place).

``release_with`` asks a second question of the same rate, per event: did a property value arrive with
the change and carry it (an app version first seen the week the conversion fell, on the events that
fell while the other versions' did not)? That names the release to roll back, where the first touch
names only the platform.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from journey_explorer.analysis.effects import benjamini_hochberg
from journey_explorer.analysis.pathprops import path_properties
from journey_explorer.eventlog import EventLog

END = "(path ended)"          # change_series.END: the path ending counts as "next"
MIN_TRIALS = 20               # per side and period, for a value to be tried
CONCENTRATED = 2.0            # the value's change must be this many times the others' change
ALPHA = 0.05
DAY_MS = 86_400_000
RELEASE_DAYS = 7              # a release value is first seen at most a week from a change's start...
RELEASE_NEW_SHARE = 0.05      # ...and its share of the trials before under 5% of its share during
RELEASE_ALPHA = 0.01
RELEASE_MAX_VALUES = 200      # event properties with more values are ids, not releases


COUNTABLE = ("funnel", "transition", "rate")


def story_who(log: EventLog, story: dict, properties: dict[str, np.ndarray],
              first_step: str | None = None) -> dict | None:
    """For a story of ``changes``: its first change that can be counted per event, and where it was
    concentrated. Returns None when no change of the story can be counted or no property was tried;
    else {"change": index in the story, "found": the value (see ``who_changed``) or None,
    "properties": the property names tried}. A funnel step counts only when it is the funnel's first
    (``first_step``): a later step's paths are those that took the earlier steps in order, which the
    per-path first A -> B here does not reproduce."""
    index = countable_change(story, first_step)
    if index is None:
        return None
    change = story["changes"][index]
    found, tried = who_changed(log, change["kind"], change["source"], change["target"], *_windows(story), properties)
    return {"change": index, "found": found, "properties": tried} if tried else None


def countable_change(story: dict, first_step: str | None = None) -> int | None:
    """The index of a story's first change that can be counted per event (see ``story_who``), or None."""
    for index, change in enumerate(story["changes"]):
        if change["kind"] in COUNTABLE and (change["kind"] != "funnel" or change["source"] == first_step):
            return index
    return None


def story_release(log: EventLog, story: dict, index: int) -> dict | None:
    """``release_with`` for change ``index`` of a story of ``changes`` (over its before and during weeks)."""
    change = story["changes"][index]
    return release_with(log, change["kind"], change["source"], change["target"], *_windows(story))


def _windows(story: dict) -> tuple[tuple[int, int], tuple[int, int]]:
    """A story's before and during weeks as [start, end) in UTC ms."""
    evidence = story["evidence"]
    return tuple((day_ms(evidence[side]["since"]), day_ms(evidence[side]["until"])) for side in ("before", "during"))


def who_changed(log: EventLog, kind: str, source: str, target: str | None, before: tuple[int, int],
                during: tuple[int, int], properties: dict[str, np.ndarray] | None = None
                ) -> tuple[dict | None, list[str]]:
    """(The property value where this change is concentrated or None, the property names tried);
    ``before``/``during`` are [start, end) in UTC ms. The value's keys: property, value, before,
    during (its rates), others_before, others_during, trials_during, excess, p_value, q_value."""
    trials = _trials(log, kind, source, target)
    if trials is None:
        return None, []
    position, success = trials
    when = log.ts[position]
    in_before = (when >= before[0]) & (when < before[1])
    in_during = (when >= during[0]) & (when < during[1])
    overall = _rate(success, in_during) - _rate(success, in_before)
    if not np.isfinite(overall) or overall == 0:
        return None, []
    properties = path_properties(log) if properties is None else properties
    candidates = []
    for name, per_path in properties.items():
        codes, values = pd.factorize(pd.Series(per_path, dtype=object), use_na_sentinel=True)
        event_code = codes[log.user[position]]
        for code, value in enumerate(values):
            candidate = against_others(success, event_code == code, in_before, in_during, overall)
            if candidate is not None:
                candidates.append({"property": name, "value": value, **candidate})
    tried = list(dict.fromkeys(c["property"] for c in candidates))
    if not candidates:
        return None, tried
    q = benjamini_hochberg(np.array([c["p_value"] for c in candidates]))
    for candidate, value in zip(candidates, q):
        candidate["q_value"] = float(value)
    found = [c for c in candidates if c["q_value"] < ALPHA
             and abs(c["during"] - c["before"]) >= CONCENTRATED * abs(c["others_during"] - c["others_before"])]
    if not found:
        return None, tried
    return max(found, key=lambda c: c["excess"]), tried


def release_with(log: EventLog, kind: str, source: str, target: str | None, before: tuple[int, int],
                 during: tuple[int, int]) -> dict | None:
    """The event property value that arrived with a change and carries it — an app version, a build, a
    page variant — or None. A value qualifies when (1) it was first seen within ``RELEASE_DAYS`` of the
    change's start and its share of the trials before it is under ``RELEASE_NEW_SHARE`` of its share
    during it, and (2) its trials
    during the change moved at least as far as the change did, while the other trials of the same weeks
    (when there are ``MIN_TRIALS``) moved at most 1/``CONCENTRATED`` as far and differ from it
    significantly (one-sided z-test, p < ``RELEASE_ALPHA``; with too few others, the trials before the
    change are the reference). The one carrying most trials wins.
    Keys: property, value, first_seen (ms), rate, others_rate, before_rate, share (of the trials during)."""
    trials = _trials(log, kind, source, target)
    if trials is None:
        return None
    position, success = trials
    when = log.ts[position]
    in_before = (when >= before[0]) & (when < before[1])
    in_during = (when >= during[0]) & (when < during[1])
    before_rate, during_rate = _rate(success, in_before), _rate(success, in_during)
    moved = during_rate - before_rate
    if not np.isfinite(moved) or moved == 0 or in_during.sum() < MIN_TRIALS:
        return None
    # Only the trials of the two periods, and per property one count of its values on each side:
    # the per-value tests run for the few values that are new and were first seen near the start.
    kept = in_before | in_during
    position, success, in_before, in_during = position[kept], success[kept], in_before[kept], in_during[kept]
    n_before, n_during = max(int(in_before.sum()), 1), int(in_during.sum())
    found = []
    for name, column in log.event_properties.items():
        size = len(column.values)
        if not 1 < size <= RELEASE_MAX_VALUES:
            continue
        held = column.codes[position]
        carried = held >= 0
        during_n = np.bincount(held[carried & in_during], minlength=size)
        before_n = np.bincount(held[carried & in_before], minlength=size)
        # New: its share of the trials before is under RELEASE_NEW_SHARE of its share during (absent
        # before, on a third of the trials since), not merely a small value all along.
        new = (during_n >= MIN_TRIALS) & (before_n / n_before <= RELEASE_NEW_SHARE * during_n / n_during)
        for code in np.flatnonzero(new):
            first_seen = int(log.ts[column.codes == code].min())
            if abs(first_seen - during[0]) > RELEASE_DAYS * DAY_MS:
                continue
            candidate = _release_candidate(success, held == code, in_before, in_during, before_rate, moved)
            if candidate is not None:
                found.append({"property": str(name), "value": column.values[code], "first_seen": first_seen,
                              "before_rate": round(before_rate, 4), **candidate})
    return max(found, key=lambda c: c["share"]) if found else None


def _release_candidate(success, carried, in_before, in_during, before_rate: float, moved: float) -> dict | None:
    mine, others = carried & in_during, ~carried & in_during
    n_mine, n_others = int(mine.sum()), int(others.sum())
    if n_mine < MIN_TRIALS:
        return None
    rate = float(success[mine].mean())
    direction = np.sign(moved)
    if (rate - before_rate) * direction < abs(moved):
        return None                                          # it does not carry the change
    others_rate = float(success[others].mean()) if n_others else math.nan
    if n_others >= MIN_TRIALS:
        if abs(others_rate - before_rate) * CONCENTRATED > abs(rate - before_rate):
            return None                                      # the others moved too: not this value's doing
        reference, n_reference = others_rate, n_others
    else:                # everyone moved to it at once (a web release): tested against the weeks before
        reference, n_reference = before_rate, int(in_before.sum())
    if n_reference < MIN_TRIALS:
        return None
    z = (rate - reference) * direction / math.sqrt(_variance(rate, n_mine) + _variance(reference, n_reference))
    if _upper_tail(z) >= RELEASE_ALPHA:
        return None
    return {"rate": round(rate, 4), "others_rate": round(others_rate, 4) if n_others else None,
            "share": round(n_mine / max(int(in_during.sum()), 1), 4)}


def _trials(log: EventLog, kind: str, source: str, target: str | None):
    """(event positions that are trials, whether each succeeded) for a change's rate, or None when
    the kind cannot be counted per event (a share of active paths, new paths) or an event is gone."""
    names = {name: code for code, name in enumerate(log.event_names)}
    if source not in names or (target not in (None, END) and target not in names):
        return None
    a = names[source]
    if kind == "rate":
        return np.arange(len(log)), log.event == a
    if kind == "transition":
        position = np.flatnonzero(log.event == a)
        last = np.ones(len(log), dtype=bool)
        last[:-1] = log.user[1:] != log.user[:-1]
        if target == END:
            return position, last[position]
        following = np.minimum(position + 1, len(log) - 1)
        return position, ~last[position] & (log.event[following] == names[target])
    if kind == "funnel":
        return _funnel_trials(log, a, names[target])
    return None


def _funnel_trials(log: EventLog, a: int, b: int):
    """Per path: its first A (the trial, dated when it happened) and whether a B came after it."""
    is_a = log.event == a
    position = np.flatnonzero(is_a)
    first = np.ones(len(position), dtype=bool)
    first[1:] = log.user[position[1:]] != log.user[position[:-1]]
    position = position[first]
    last_b = np.full(log.n_users, -1, dtype=np.int64)
    b_positions = np.flatnonzero(log.event == b)
    np.maximum.at(last_b, log.user[b_positions], b_positions)
    return position, last_b[log.user[position]] > position


def _rate(success: np.ndarray, mask: np.ndarray) -> float:
    n = int(mask.sum())
    return float(success[mask].sum() / n) if n else math.nan


def against_others(success, mine, in_before, in_during, overall: float) -> dict | None:
    """The value's change against the others' change, tested one-sided in the overall direction."""
    groups = [mine & in_before, mine & in_during, ~mine & in_before, ~mine & in_during]
    counts = [int(g.sum()) for g in groups]
    if min(counts) < MIN_TRIALS:
        return None
    rates = [float(success[g].sum()) / n for g, n in zip(groups, counts)]
    own, others = rates[1] - rates[0], rates[3] - rates[2]
    excess = (own - others) * np.sign(overall)
    z = excess / math.sqrt(sum(_variance(p, n) for p, n in zip(rates, counts)))
    p_value = _upper_tail(z)
    return {"before": round(rates[0], 4), "during": round(rates[1], 4), "others_before": round(rates[2], 4),
            "others_during": round(rates[3], 4), "trials_during": counts[1], "excess": float(excess),
            "p_value": float(p_value)}


def _variance(rate: float, n: int) -> float:
    """The sampling variance of a rate of ``n`` trials, never zero: a 0 % or 100 % cell counts as 1 in 4n."""
    return max(rate * (1 - rate), 0.25 / n) / n


def _upper_tail(z: float) -> float:
    """One-sided p-value of a standard normal z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def day_ms(day: str) -> int:
    """An ISO date's midnight UTC in ms.

    >>> day_ms("1970-01-02")
    86400000
    """
    return int(pd.Timestamp(day, tz="UTC").value // 1_000_000)
