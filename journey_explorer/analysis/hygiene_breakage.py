"""Broken tracking: what a consultant tells the client's developers to fix, with counts and dates.

- **stops / starts**: from some day on (or until some day) an event is ~absent (at most 5 % of the
  count expected at its usual share of the events of paths of the same age, ``hygiene_volume``),
  where at least ``MIN_EXPECTED`` were expected. The log's own start and end are not alarms: there
  the expected count is small too. Both at once (seen only in a stretch in the middle) is a
  **burst** — errors of an outage, a campaign — told apart and not counted as tracking to fix; so is
  a start or stop on the day a burst starts or ends (the same incident). So is a stop or start the
  **flow** explains (``flow_expected``): the events that lead into it stopped too (the open cases of
  an extract draining out), or its usual lag after them has not passed yet (reminders weeks after
  the first invoices). So is a start that came with an event property value first seen the same
  days and carried by nearly all of the new event (``launched_with``: an experiment arm's extra
  screen, a release's new feature). **gaps**: days in the middle with none of it, as many expected.
- **double firing**: the same event for the same user several times within one second; **twin
  firing**: two same-looking names (``hygiene_names``) for the same user within one second, most of
  the time (one action tracked twice).
- **outliers**: users or sessions with impossibly many events (robust z-score of log10 counts).
- **property stops**: an event that nearly always carried a property carries it much less often from
  some day on (``property_losses``; a release that dropped ``revenue`` from the purchase); when
  another property takes over on those events that day, one **property rename** for all of them.
- **bad times**: timestamps after "now", or far before / after the bulk of the log (a default date
  such as 1970-01-01 written for a missing one).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis import units
from journey_explorer.analysis.arrays import running_count
from journey_explorer.analysis.hygiene_volume import DAY_MS, DailyVolume, median_count, unique_counts, weighted_median
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    pass

MIN_EXPECTED = 30.0          # events expected over the silent stretch before an absence is news
ABSENT_SHARE = 0.05          # observed at most this share of expected: "stopped"
BURST_MAX_SHARE = 1 / 3      # a start-and-stop stretch this short (share of the log's days) is a burst
MIN_DOUBLE_EXTRA = 20        # extra copies of an event (beyond one per user and second)
MIN_DOUBLE_SHARE = 0.05      # ... and at least this share of its events
TWIN_SHARE = 0.5             # same-looking names in the same second this often: tracked twice
MIN_COUNTED = 50             # users / sessions needed before judging their counts
OUTLIER_Z = 5.0              # robust z of log10(count)
OUTLIER_TIMES_MEDIAN = 20    # ... and at least this many times the median count
MIN_LOG10_SCALE = 0.15       # floor of the robust scale (counts that hardly vary)
TIME_QUANTILES = (0.01, 0.99)
PROPERTY_KEPT = 0.95         # property_losses: an event that carried a property this often before...
PROPERTY_DROP = 0.15         # ...and this much less often since
HOLDER_SHARE = 0.8           # a value holding this share of the events without it is named
MAX_HOLDER_VALUES = 200
MAX_FUTURE_SHARE = 0.1       # more of the log after "now" than this: the clock, not the log, is off
LAUNCH_SHARE = 0.95          # launched_with: a new event carrying one value this often...
LAUNCH_DAYS = 2              # ...first seen within this many days of the event's start
MAX_LAUNCH_VALUES = 20       # properties with more values (ids, free text) are no arm or release
LEAD_IN_SHARE = 0.95         # flow_expected: the predecessors that come right before this share of an event


@dataclass
class Breakage:
    kind: str                 # stops | starts | burst | gap | double_firing | twin_firing | outlier_users | outlier_sessions |
    #                           property_stops | property_renamed | future | too_early | too_late
    events: tuple[str, ...]   # the event names concerned (empty for users/sessions/times of all events)
    count: int                # the events (or users / sessions) concerned
    first: str | None         # ISO dates of the first and last concerned event (or of the change)
    last: str | None
    message: str
    numbers: dict = field(default_factory=dict)

    @property
    def explained(self) -> bool:
        """Not a fault: a burst (an incident, a campaign) or half of a rename, told elsewhere."""
        return "explained_by" in self.numbers

    @property
    def key(self) -> str:
        """Stable identity for dismissals."""
        return f"{self.kind}:{'|'.join(self.events)}"

    def to_json_dict(self) -> dict:
        return {"kind": self.kind, "events": list(self.events), "count": self.count, "first": self.first,
                "last": self.last, "message": self.message, "numbers": self.numbers, "key": self.key}


def iso_date(ms: int) -> str:
    """The UTC date of a time in milliseconds.

    >>> iso_date(86_400_000)
    '1970-01-02'
    """
    import pandas as pd
    return pd.Timestamp(int(ms), unit="ms").date().isoformat()


# --- times ----------------------------------------------------------------------------------------


def time_outliers(log: EventLog, now_ms: int) -> tuple[np.ndarray, list[Breakage], list[str]]:
    """(mask of events with believable times, breakages, notes). Far out = beyond the 1st-99th
    percentile range by more than that range's own length (at least 30 days). Times after "now"
    are judged only when they are a few (``MAX_FUTURE_SHARE``): a log that lies mostly after this
    computer's clock (a demo, a wrong clock) is not broken."""
    ok = np.ones(len(log), dtype=bool)
    if len(log) == 0:
        return ok, [], []
    lo, hi = np.quantile(log.ts, TIME_QUANTILES)
    reach = max(hi - lo, 30 * DAY_MS)
    future = log.ts > now_ms
    notes = []
    if future.mean() > MAX_FUTURE_SHARE:
        notes.append(f"times after now not judged: {future.mean():.0%} of the log lies after this computer's "
                     f"clock ({iso_date(now_ms)})")
        future = np.zeros(len(log), dtype=bool)
    out = []
    checks = (("future", future, f"after now ({iso_date(now_ms)})"),
              ("too_early", log.ts < lo - reach, f"long before the rest (which starts around {iso_date(lo)})"),
              ("too_late", (log.ts > hi + reach) & ~future,
               f"long after the rest (which ends around {iso_date(hi)})"))
    for kind, mask, where in checks:
        if mask.any():
            ok &= ~mask
            out.append(_time_breakage(log, kind, mask, where))
    return ok, out, notes


def _time_breakage(log: EventLog, kind: str, mask: np.ndarray, where: str) -> Breakage:
    count, ts = int(mask.sum()), log.ts[mask]
    users = int(np.unique(log.user[mask]).size)
    names = np.array(log.event_names, dtype=object)[np.unique(log.event[mask])]
    zero = int((ts == 0).sum())
    message = (f"{count:,} event{'s' if count != 1 else ''} of {units.counted(users, log.path_noun)} "
               f"{'are' if count != 1 else 'is'} timed {where}: {iso_date(ts.min())} to {iso_date(ts.max())}")
    if zero:
        message += f"; {zero:,} at exactly 1970-01-01 00:00 (a missing time written as 0?)"
    return Breakage(kind, (), count, iso_date(ts.min()), iso_date(ts.max()), message,
                    {"users": users, "at_epoch_zero": zero, "event_names": [str(n) for n in names[:10]]})


# --- stops and starts -----------------------------------------------------------------------------


def stops_and_starts(log: EventLog, volume: DailyVolume) -> list[Breakage]:
    """Per event: the earliest day from which it is ~absent for good (stops), and the latest day until
    which it was ~absent (starts). Events that stop (start) on the same day are reported together.

    An event that both starts and stops — seen only in a short stretch in the middle (at most
    ``BURST_MAX_SHARE`` of the log's days) — is a burst, not broken tracking: errors during an outage, a
    campaign's page. It is reported as ``burst``, marked as explained (the report does not count it as
    tracking to fix; "what changed" tells it). So is an event that starts the day a burst starts and is
    gone again when it ends (a support chat opened for the outage). A longer stretch (an event renamed
    twice) stays a start and a stop; a stop on the day a burst ends is never excused by it."""
    steps = Steps.of(log)
    found_by_code = {code: {side: (day, seen, expected) for side, day, seen, expected
                            in _absence(volume.observed[code], volume.expected[code])}
                     for code in range(len(log.event_names))}
    burst_codes = [code for code, found in found_by_code.items() if _is_burst(found, volume)]
    bursts = [_burst(log, volume, code, found_by_code[code]["starts"][0], found_by_code[code]["stops"][0])
              for code in burst_codes]
    out = list(bursts)
    stops: dict[int, list[tuple]] = {}
    starts: dict[int, list[tuple]] = {}
    for code, found in found_by_code.items():
        if code in burst_codes:
            continue
        incident = _started_with(code, found, volume, bursts) if "stops" not in found else None
        if incident is not None:
            out.append(_with_incident(_absence_breakage(log, volume, "starts", found["starts"][0],
                                                        [(code, *found["starts"][1:])]), incident))
            continue
        for side, (day, seen, expected) in found.items():
            flow = flow_expected(steps, code, volume.first_day_ms + day * DAY_MS, side)
            if flow is not None and not _absent(seen, flow.due):
                out.append(_with_flow(_absence_breakage(log, volume, side, day, [(code, seen, expected)]), log, flow))
                continue
            # Errors that begin with a release are a failure (told below), not a new step.
            launch = (launched_with(log, code, volume.first_day_ms + day * DAY_MS)
                      if side == "starts" and not ERROR_WORDS.search(log.event_names[code]) else None)
            if launch is not None:
                out.append(_with_launch(_absence_breakage(log, volume, side, day, [(code, seen, expected)]), launch))
                continue
            (stops if side == "stops" else starts).setdefault(day, []).append((code, seen, expected))
    for side, by_day in (("stops", stops), ("starts", starts)):
        for day, rows in sorted(by_day.items()):
            out.append(_absence_breakage(log, volume, side, day, rows))
    return out


def launched_with(log: EventLog, code: int, start_ms: int) -> tuple[str, object, int] | None:
    """(property, value, first seen in ms) of an event property value that arrived with event
    ``code``: first seen within ``LAUNCH_DAYS`` of the event's start and carried by at least
    ``LAUNCH_SHARE`` of its events (of those carrying the property). An experiment arm whose extra
    screen starts with it, a release's new feature: a launch, not tracking added late. None otherwise.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"user": ["a", "a", "b", "b", "b"], "event": ["x", "x", "x", "y", "x"],
    ...                       "time": [0, 10, 5 * DAY_MS, 5 * DAY_MS + 1, 6 * DAY_MS],
    ...                       "arm": ["control", "control", "new", "new", "new"]})
    >>> launched_with(EventLog.from_frame(frame), 1, 5 * DAY_MS)[:2]
    ('arm', 'new')
    """
    mine = log.event == code
    for name, column in log.event_properties.items():
        if not 2 <= len(column.values) <= MAX_LAUNCH_VALUES:
            continue
        tagged = column.codes[mine]
        tagged = tagged[tagged >= 0]
        if len(tagged) == 0:
            continue
        counts = np.bincount(tagged, minlength=len(column.values))
        value = int(counts.argmax())
        if counts[value] < LAUNCH_SHARE * len(tagged):
            continue
        first_seen = int(log.ts[column.codes == value].min())
        if abs(first_seen - start_ms) <= LAUNCH_DAYS * DAY_MS:
            return name, column.values[value], first_seen
    return None


def _with_launch(breakage: Breakage, launch: tuple[str, object, int]) -> Breakage:
    name, value, first_seen = launch
    first = np.datetime64(first_seen, "ms").astype("datetime64[D]")
    breakage.message = breakage.message.rsplit(" (", 1)[0] + (
        f" (it came with {name} = {value}, first seen {first}, on {LAUNCH_SHARE:.0%}+ of its events: "
        f"a launch, not tracking)")
    breakage.numbers.update({"explained_by": "launch", "property": name, "value": str(value)})
    return breakage


def _absent(seen: float, expected: float) -> bool:
    """Is ``seen`` the near-absence of ``expected`` events that makes news (``_absence``'s test)?"""
    return expected >= MIN_EXPECTED and seen <= ABSENT_SHARE * expected


class Steps:
    """Each step within a path: the event before (``before``) and after (``after``), the time of the
    one before (``ts``) and the time between them (``lag``); and each event name's times
    (``times_of``). Made when first asked: most logs have no stop or start to explain."""

    def __init__(self, log: EventLog):
        self.log = log

    @classmethod
    def of(cls, log: EventLog) -> "Steps":
        return cls(log)

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        log = self.log
        same_path = ~log.path_starts()[1:]
        return (log.event[:-1][same_path], log.event[1:][same_path], log.ts[:-1][same_path],
                np.diff(log.ts)[same_path])

    before = property(lambda self: self._pairs[0])
    after = property(lambda self: self._pairs[1])
    ts = property(lambda self: self._pairs[2])
    lag = property(lambda self: self._pairs[3])

    @cached_property
    def _by_name(self) -> tuple[np.ndarray, np.ndarray]:
        """The events' positions grouped by name, and where each name's group starts."""
        order = np.argsort(self.log.event, kind="stable")
        return order, np.searchsorted(self.log.event[order], np.arange(len(self.log.event_names) + 1))

    def times_of(self, code: int) -> np.ndarray:
        order, bounds = self._by_name
        return self.log.ts[order[bounds[code]:bounds[code + 1]]]


@dataclass(frozen=True)
class Flow:
    """What the lead-ins of an event make due on the side where it is absent (``flow_expected``)."""
    due: float              # after their usual lags
    due_at_once: float      # were there no lag: their own occurrences on that side, times their rates
    shares: dict            # lead-in code -> its share of the event's lead-ins


def flow_expected(steps: Steps, code: int, boundary_ms: int, side: str) -> Flow | None:
    """How many of event ``code`` its lead-in events make due after ``boundary_ms`` (``side`` "stops")
    or before it ("starts"); None when nothing leads into it.

    The lead-ins are the events right before it in paths (the few before ``LEAD_IN_SHARE`` of it),
    measured on the side where it is present. Each occurrence of a lead-in ``p`` at time ``t`` brings
    it with ``p``'s rate (its share of ``p``'s occurrences followed by it), after ``p``'s usual lag:
    due after the boundary with the share of lags longer than ``boundary - t`` (all of it for ``t``
    after the boundary), before it with the share of lags up to ``boundary - t``. An event that stops
    because the cases leading into it ran out, or starts late because its lag after them has not
    passed, is due about as little as it is seen: the flow, not tracking.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": [1, 1, 2, 2, 3], "event": ["a", "b", "a", "b", "a"],
    ...                                         "time": [0, 10, 20, 30, 100]}))
    >>> flow_expected(Steps.of(log), 1, 50, "stops")       # b stops at 50: one a (at 100) would bring it
    Flow(due=1.0, due_at_once=1.0, shares={0: 1.0})
    """
    into = (steps.after == code) & (steps.before != code)
    present = into & ((steps.ts < boundary_ms) if side == "stops" else (steps.ts >= boundary_ms))
    leads, counts = np.unique(steps.before[present], return_counts=True)
    if not len(leads):
        return None
    order = np.argsort(-counts, kind="stable")
    covered = np.cumsum(counts[order]) / counts.sum()
    main = order[:int(np.searchsorted(covered, LEAD_IN_SHARE)) + 1]
    due = at_once = 0.0
    shares = {}
    lead_of, lag_of = steps.before[present], steps.lag[present]
    for lead, count in zip(leads[main].tolist(), counts[main].tolist()):
        lags = np.sort(lag_of[lead_of == lead])
        times = steps.times_of(lead)
        on_side = (times < boundary_ms) if side == "stops" else (times >= boundary_ms)
        rate = count / max(int(on_side.sum()), 1)
        by_then = np.searchsorted(lags, boundary_ms - times, side="right") / len(lags)   # share of lags up to it
        due += rate * float((1.0 - by_then).sum() if side == "stops" else by_then[times < boundary_ms].sum())
        at_once += rate * int((~on_side).sum())
        shares[lead] = count / int(counts.sum())
    return Flow(due, at_once, shares)


def _with_flow(breakage: Breakage, log: EventLog, flow: Flow) -> Breakage:
    leads = ", ".join(f"{log.event_names[code]} {share:.0%}" for code, share in list(flow.shares.items())[:3])
    stops = breakage.kind == "stops"
    if _absent(breakage.count, flow.due_at_once):        # their own occurrences would bring it: the lag explains
        why = (f"it comes a while after the events that lead into it ({leads}), and from those before that day "
               + ("its usual lag had passed" if stops else "its usual lag had not passed yet"))
    else:
        why = f"the events that lead into it ({leads}) {'stopped' if stops else 'began'} then too"
    breakage.message = breakage.message.rsplit(" (", 1)[0] + (
        f"; but {why}: they make {f'about {flow.due:,.0f}' if flow.due >= 0.5 else 'none'} of it due "
        f"{'after' if stops else 'before'} that day, as few as were seen (the flow, not tracking)")
    breakage.numbers.update({"explained_by": "flow", "due_from_lead_ins": round(flow.due, 1),
                             "lead_ins": {log.event_names[code]: round(share, 3) for code, share in flow.shares.items()}})
    return breakage


def _is_burst(found: dict, volume: DailyVolume) -> bool:
    if "starts" not in found or "stops" not in found:
        return False
    first, end = found["starts"][0], found["stops"][0]
    return first < end and end - first <= BURST_MAX_SHARE * volume.days


def _started_with(code: int, found: dict, volume: DailyVolume, bursts: list[Breakage]) -> Breakage | None:
    """The burst this event started with (within a day of its start) and ended with (at most
    ``ABSENT_SHARE`` of its events after the burst's last day), if any."""
    if "starts" not in found:
        return None
    observed = volume.observed[code]
    for burst in bursts:
        first, end = burst.numbers["first_day"], burst.numbers["end_day"]
        if abs(found["starts"][0] - first) <= 1 and observed[end:].sum() <= ABSENT_SHARE * observed.sum():
            return burst
    return None


def _with_incident(breakage: Breakage, burst: Breakage) -> Breakage:
    breakage.message = breakage.message.rsplit(" (", 1)[0] + (
        f" (it came and went with {burst.events[0]}'s burst: part of the same incident, not tracking)")
    breakage.numbers["explained_by"] = burst.key
    return breakage


def gaps(log: EventLog, volume: DailyVolume, skip=frozenset()) -> list[Breakage]:
    """Events missing for a stretch of days in the middle (seen before and after), where at least
    ``MIN_EXPECTED`` were expected: tracking broken for a while, then fixed. The longest per event;
    names in ``skip`` are left out."""
    out = []
    for code in range(len(log.event_names)):
        if log.event_names[code] in skip:
            continue
        found = longest_gap(volume.observed[code], volume.expected[code])
        if found is not None:
            first, end, expected = found
            name = log.event_names[code]
            message = (f"{name} is missing from {volume.date(first)} to {volume.date(end - 1)} ({end - first} days): "
                       f"no events where about {expected:,.0f} were expected at its usual share of the log's "
                       f"volume (tracking broken for a while?)")
            out.append(Breakage("gap", (name,), 0, volume.date(first), volume.date(end - 1), message,
                                {"days": end - first, "expected": round(expected, 1)}))
    return out


def longest_gap(observed: np.ndarray, expected: np.ndarray) -> tuple[int, int, float] | None:
    """(first day, day after, expected count) of the run of zero days, inside the event's active
    range, with the most expected events, if that is at least ``MIN_EXPECTED``.

    >>> longest_gap(np.array([4, 4, 0, 0, 0, 4]), np.full(6, 12.0))
    (2, 5, 36.0)
    >>> longest_gap(np.array([0, 4, 4, 0, 4, 0]), np.full(6, 12.0)) is None      # edges are starts/stops
    True
    """
    active = np.flatnonzero(observed)
    if len(active) < 2:
        return None
    inside = observed[active[0]:active[-1] + 1] == 0
    if not inside.any():
        return None
    edges = np.diff(np.concatenate([[0], inside.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    cumulative = np.concatenate([[0.0], np.cumsum(expected[active[0]:active[-1] + 1])])
    missing = cumulative[ends] - cumulative[starts]
    best = int(np.argmax(missing))
    if missing[best] < MIN_EXPECTED:
        return None
    return int(starts[best] + active[0]), int(ends[best] + active[0]), float(missing[best])


def _absence(observed: np.ndarray, expected: np.ndarray) -> list[tuple[str, int, int, float]]:
    """[("stops"|"starts", day, observed, expected over the silent stretch)].

    A boundary ``b`` splits the days into ``[:b]`` and ``[b:]``. The event stops at ``b`` when after
    it at most ``ABSENT_SHARE`` of the expected count was seen, with at least ``MIN_EXPECTED``
    expected; it starts at ``b`` when the same holds before it. Of the boundaries that qualify, the
    change point is where observed minus expected, summed up to ``b``, peaks (stops) or bottoms out
    (starts): the CUSUM estimate, so a few stragglers do not move the date.

    >>> _absence(np.array([5, 5, 5, 0, 0, 0]), np.full(6, 12.0))     # expected: as spread by the volume
    [('stops', 3, 0, 36.0)]
    >>> _absence(np.array([0, 0, 1, 9, 9, 9]), np.full(6, 14.0))
    [('starts', 3, 1, 42.0)]
    >>> _absence(np.array([5, 5, 5, 5, 5, 5]), np.full(6, 5.0))
    []
    """
    seen_before = np.concatenate([[0], np.cumsum(observed)])          # index b: days before b
    expected_before = np.concatenate([[0.0], np.cumsum(expected)])
    seen_after, expected_after = seen_before[-1] - seen_before, expected_before[-1] - expected_before
    drift = seen_before - expected_before
    out = []
    stops = (expected_after >= MIN_EXPECTED) & (seen_after <= ABSENT_SHARE * expected_after) & (seen_before > 0)
    if stops.any():
        b = int(np.flatnonzero(stops)[np.argmax(drift[stops])])
        out.append(("stops", b, int(seen_after[b]), float(expected_after[b])))
    starts = (expected_before >= MIN_EXPECTED) & (seen_before <= ABSENT_SHARE * expected_before) & (seen_after > 0)
    if starts.any():
        b = int(np.flatnonzero(starts)[np.argmin(drift[starts])])
        out.append(("starts", b, int(seen_before[b]), float(expected_before[b])))
    return out


# Errors, not outcomes: a cancellation or refund event that starts late is tracking added late.
ERROR_WORDS = re.compile(r"error|fail|crash|timeout|exception|denied", re.I)


def _absence_breakage(log: EventLog, volume: DailyVolume, side: str, day: int, rows: list[tuple]) -> Breakage:
    rows = sorted(rows, key=lambda r: -r[2])
    names = tuple(log.event_names[code] for code, _, _ in rows)
    date = volume.date(day)
    seen, expected = sum(r[1] for r in rows), sum(r[2] for r in rows)
    listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    failures = all(ERROR_WORDS.search(name) for name in names)
    if side == "stops":
        message = (f"{listed} {'stops' if len(names) == 1 else 'stop'} on {date}: {_events(seen)} since, "
                   f"where about {expected:,.0f} were expected at {'its' if len(names) == 1 else 'their'} usual "
                   f"share of the log's volume (tracking lost in a release, or a feature removed?)")
    else:
        # Errors that begin on a day are a new failure (What changed tells the story), not tracking to fix.
        why = "errors that began then, not tracking: see What changed" if failures else \
            "tracking added late, or a new feature?"
        message = (f"{listed} {'starts' if len(names) == 1 else 'start'} only on {date}: {_events(seen)} before, "
                   f"where about {expected:,.0f} were expected at {'its' if len(names) == 1 else 'their'} usual "
                   f"share of the log's volume ({why})")
    numbers = {"observed": seen, "expected": round(expected, 1),
               "per_event": [{"event": log.event_names[c], "observed": s, "expected": round(e, 1)} for c, s, e in rows]}
    if side != "stops" and failures:
        numbers["explained_by"] = "failure"
    return Breakage(side, names, seen, date, date, message, numbers)


def _burst(log: EventLog, volume: DailyVolume, code: int, first: int, end: int) -> Breakage:
    name = log.event_names[code]
    inside = int(volume.observed[code][first:end].sum())
    outside = int(volume.observed[code].sum()) - inside
    days = end - first
    message = (f"{name} occurs only from {volume.date(first)} to {volume.date(end - 1)} ({days} days, "
               f"{_events(inside)}; {_events(outside)} outside): a burst such as errors during an incident or "
               f"a campaign, not tracking that broke (see What changed)")
    return Breakage("burst", (name,), inside, volume.date(first), volume.date(end - 1), message,
                    {"days": days, "inside": inside, "outside": outside, "explained_by": "burst",
                     "first_day": int(first), "end_day": int(end)})


def _events(count: int) -> str:
    return f"{count:,} event{'' if count == 1 else 's'}"


# --- double firing --------------------------------------------------------------------------------


def same_second_runs(log: EventLog) -> np.ndarray:
    """Per event, the index of its run of events by one user within one (UTC) second.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a", "a", "b"], "event": ["x", "y", "x", "x"],
    ...                                         "time": [1000, 1500, 2000, 2000]}))
    >>> same_second_runs(log).tolist()
    [0, 0, 1, 2]
    """
    second = log.ts // 1000
    run_start = np.ones(len(log), dtype=bool)
    run_start[1:] = (log.user[1:] != log.user[:-1]) | (second[1:] != second[:-1])
    return running_count(run_start) - 1


def twin_firing(log: EventLog, pairs: list[tuple[int, int]]) -> list[Breakage]:
    """Pairs of same-looking names that fire *together* (one user, the same second) for most of the
    rarer name's events: one action tracked twice (two SDKs, a client and a server event), which
    a merge would count double. ``pairs``: name codes to check."""
    if not pairs or np.mean(log.ts % 60_000 == 0) > 0.9:
        return []
    run = same_second_runs(log)
    out = []
    for a, b in pairs:
        runs_a, runs_b = np.unique(run[log.event == a]), np.unique(run[log.event == b])
        rarer = min(len(runs_a), len(runs_b))
        both = len(np.intersect1d(runs_a, runs_b, assume_unique=True))
        if rarer >= MIN_DOUBLE_EXTRA and both >= TWIN_SHARE * rarer:
            out.append(_twin_breakage(log, a, b, both, rarer, run, np.intersect1d(runs_a, runs_b)))
    return out


def _twin_breakage(log: EventLog, a: int, b: int, both: int, rarer: int, run: np.ndarray,
                   shared: np.ndarray) -> Breakage:
    names = (log.event_names[a], log.event_names[b])
    ts = log.ts[np.isin(run, shared) & ((log.event == a) | (log.event == b))]
    first, last = iso_date(ts.min()), iso_date(ts.max())
    occasions = "instances" if log.path_noun == "case" else "cases"     # not "of 40 cases one case has both"
    message = (f"{names[0]} and {names[1]} fire together: in {both:,} of {rarer:,} {occasions} ({both / rarer:.0%}) "
               f"one {log.path_noun} has both within the same second, from {first} to {last}. One action tracked twice? "
               f"Keep one of them (merging would count it double)")
    return Breakage("twin_firing", names, both, first, last, message, {"together": both, "rarer": rarer,
                                                                        "share": round(both / rarer, 4)})


def double_firing(log: EventLog) -> tuple[list[Breakage], str | None]:
    """Events repeated by one user within the same second. Returns (breakages, note); the note says
    why the check was skipped (times recorded to the minute or coarser cannot show it)."""
    if len(log) == 0:
        return [], None
    if np.mean(log.ts % 60_000 == 0) > 0.9:
        return [], "double firing not checked: times are recorded to the minute or coarser"
    run = same_second_runs(log)
    n = len(log.event_names)
    crowded = np.bincount(run)[run] > 1            # only runs of 2+ events can repeat one
    keys, counts = unique_counts(run[crowded].astype(np.int64) * n + log.event[crowded])
    repeated = counts > 1
    codes = (keys % n)[repeated]
    extra = np.bincount(codes, weights=counts[repeated] - 1, minlength=n).astype(np.int64)
    worst = np.zeros(n, dtype=np.int64)
    np.maximum.at(worst, codes, counts[repeated])
    totals = np.bincount(log.event, minlength=n)
    out = []
    for code in np.flatnonzero((extra >= MIN_DOUBLE_EXTRA) & (extra >= MIN_DOUBLE_SHARE * np.maximum(totals, 1))):
        out.append(_double_breakage(log, int(code), int(extra[code]), int(totals[code]), int(worst[code]),
                                    run, keys[repeated][codes == code] // n))
    out.sort(key=lambda b: -b.count)
    return out, None


def _double_breakage(log: EventLog, code: int, extra: int, total: int, worst: int, run: np.ndarray,
                     runs: np.ndarray) -> Breakage:
    mask = (log.event == code) & np.isin(run, runs)
    users = int(np.unique(log.user[mask]).size)
    name = log.event_names[code]
    first, last = iso_date(log.ts[mask].min()), iso_date(log.ts[mask].max())
    message = (f"{name} fires several times in the same second for one {log.path_noun}: {extra:,} extra copies "
               f"({extra / total:.0%} of its {total:,} events), {units.counted(users, log.path_noun)}, "
               f"up to {worst} in one second, "
               f"from {first} to {last}")
    return Breakage("double_firing", (name,), extra, first, last, message,
                    {"extra": extra, "events": total, "share": round(extra / total, 4), "users": users,
                     "max_in_one_second": worst})


# --- properties -----------------------------------------------------------------------------------


def property_losses(log: EventLog, volume: DailyVolume, keep: np.ndarray) -> list[Breakage]:
    """Events that stopped carrying a property they nearly always had: from some day on, the share of
    an event's occurrences with the property falls from ``PROPERTY_KEPT`` or more to at least
    ``PROPERTY_DROP`` lower, with ``MIN_EXPECTED`` or more occurrences without it since (a release
    that drops ``revenue`` from the purchase event). The day is the one that best splits the
    event's days into a well-covered before and a worse-covered after (least squares of the daily
    shares, weighted by the events of each day), not in the log's last days (``_edge_days``); the
    message names, when there is one, the property value (a platform, an app version) that holds most
    of the occurrences without it. Days are ``volume``'s (``keep``: the believable times, so that a
    1970 default date does not stretch the calendar)."""
    days, n_events = volume.days, len(log.event_names)
    if days < 2 or not keep.any():
        return []
    day = np.full(len(log), -1, dtype=np.int64)
    day[keep] = log.ts[keep] // DAY_MS - volume.first_day_ms // DAY_MS
    cell = log.event.astype(np.int64) * days + day
    totals = volume.observed
    out = []
    for name, column in log.event_properties.items():
        counted = keep & (column.codes >= 0)
        present = np.bincount(cell[counted], minlength=n_events * days).reshape(n_events, days)
        for code, split in _coverage_drops(totals, present):
            out.append(_property_breakage(log, str(name), column, code, split, day))
    out = _property_renames(out)
    out.sort(key=lambda b: -b.count)
    return out


def _property_renames(losses: list[Breakage]) -> list[Breakage]:
    """Losses of one property that another took over on the same day (``renamed_to``), joined into
    one ``property_renamed`` finding: one change of the tracking plan, not one fault per event."""
    groups: dict[tuple, list[Breakage]] = {}
    for loss in losses:
        if "renamed_to" in loss.numbers:
            groups.setdefault((loss.numbers["property"], loss.numbers["renamed_to"], loss.first), []).append(loss)
    out = [loss for loss in losses if "renamed_to" not in loss.numbers]
    for (old, new, first), members in groups.items():
        events = [member.events[0] for member in sorted(members, key=lambda b: -b.count)]
        count = sum(member.count for member in members)
        listed = ", ".join(events[:5]) + (f" and {len(events) - 5} more" if len(events) > 5 else "")
        message = (f"property {old} renamed {new} on {first}: {listed} stopped carrying {old} that day and carry "
                   f"{new} instead ({count:,} events since; analyses by {old} should read both)")
        out.append(Breakage("property_renamed", (old, new), count, first, max(m.last for m in members), message,
                            {"property": old, "renamed_to": new, "events": events}))
    return out


def _coverage_drops(totals: np.ndarray, present: np.ndarray) -> list[tuple[int, int]]:
    """(event code, first day after the split) for every event whose property coverage dropped."""
    found = []
    for code in np.flatnonzero(present.sum(axis=1) >= MIN_EXPECTED):
        t, p = np.cumsum(totals[code]), np.cumsum(present[code])
        before_n, before_p = t[:-1], p[:-1]
        after_n, after_p = t[-1] - before_n, p[-1] - before_p
        with np.errstate(divide="ignore", invalid="ignore"):
            before, after = before_p / before_n, after_p / after_n
            missing_after = after_n - after_p
            ok = (before_n >= MIN_EXPECTED) & (missing_after >= MIN_EXPECTED) & (before >= PROPERTY_KEPT) & (
                before - after >= PROPERTY_DROP)
            # Between-group sum of squares of the two sides' shares: the split that best explains them.
            gain = np.where(ok, before_n * after_n / t[-1] * (before - after) ** 2, -1.0)
        # Not in the log's last days only: records still open when it was extracted lack their end.
        ok[max(len(ok) - _edge_days(len(t)), 0):] = False
        gain[~ok] = -1.0
        split = int(np.argmax(gain)) + 1
        if ok.any() and _level_since(totals[code], present[code], split):
            found.append((int(code), split))
    return found


def _level_since(totals: np.ndarray, present: np.ndarray, split: int) -> bool:
    """Whether the coverage since ``split`` stays level: its first and second halves (by events)
    within ``PROPERTY_DROP`` / 2. A release drops a property at once; records still open at the log's
    end lack it more and more towards the end (a process log's missing end dates).

    >>> _level_since(np.array([10, 10, 10, 10]), np.array([10, 10, 5, 5]), 2)
    True
    >>> _level_since(np.array([10, 10, 10, 10]), np.array([10, 10, 8, 1]), 2)
    False
    """
    t, p = totals[split:], present[split:]
    middle = int(np.searchsorted(np.cumsum(t), t.sum() / 2)) + 1
    first, second = t[:middle].sum(), t[middle:].sum()
    if not first or not second:
        return True
    return bool(abs(p[:middle].sum() / first - p[middle:].sum() / second) <= PROPERTY_DROP / 2)


def _edge_days(days: int) -> int:
    """The last days of a log where a property's drop is not judged: a tenth of them, at least a week.

    >>> _edge_days(120), _edge_days(30)
    (12, 7)
    """
    return max(7, days // 10)


def _property_breakage(log: EventLog, name: str, column, code: int, split: int, day: np.ndarray) -> Breakage:
    rows = (log.event == code) & (day >= 0)
    since = rows & (day >= split)
    carried = column.codes >= 0
    before = float(carried[rows & (day < split)].mean())
    after = float(carried[since].mean())
    missing = since & ~carried
    event = log.event_names[code]
    first = iso_date(int(log.ts[since].min()))
    last = iso_date(int(log.ts[missing].max()))
    holder = _mostly_on(log, missing, since & carried, exclude=name)
    successor = _taken_over_by(log, name, missing, rows & (day < split))
    where = f"; {holder[2]:.0%} of those on {holder[0]} = {holder[1]}" if holder else ""
    message = (f"{event} stopped carrying {name} on {first}: {before:.0%} of its events had it before, "
               f"{after:.0%} since ({int(missing.sum()):,} events without it{where})")
    numbers = {"property": name, "before": round(before, 4), "after": round(after, 4), "missing": int(missing.sum())}
    if holder:
        numbers.update({"where_property": holder[0], "where_value": holder[1], "where_share": round(holder[2], 4)})
    if successor:
        numbers["renamed_to"] = successor
    return Breakage("property_stops", (event, name), int(missing.sum()), first, last, message, numbers)


def _taken_over_by(log: EventLog, name: str, missing: np.ndarray, before: np.ndarray) -> str | None:
    """The property the ``missing`` rows (an event's rows without ``name`` since its loss) carry
    instead, that the same event's rows ``before`` the loss (nearly) never carried: a property
    renamed in the tracking plan (``pay_method`` -> ``payment_method``). None when there is none."""
    for other, column in log.event_properties.items():
        if other == name:
            continue
        carried = column.codes >= 0
        if carried[missing].mean() >= PROPERTY_KEPT and (not before.any() or carried[before].mean() <= 1 - PROPERTY_KEPT):
            return str(other)
    return None


def _mostly_on(log: EventLog, missing: np.ndarray, kept: np.ndarray, exclude: str) -> tuple[str, object, float] | None:
    """(property, value, share) of another property's value that holds at least ``HOLDER_SHARE`` of the
    ``missing`` rows and (nearly) none of the ``kept`` ones: where the property went missing."""
    best = None
    for name, column in log.event_properties.items():
        if name == exclude or not 1 < len(column.values) <= MAX_HOLDER_VALUES:
            continue
        codes = column.codes[missing]
        codes = codes[codes >= 0]
        if not len(codes):
            continue
        value = int(np.bincount(codes).argmax())
        share = float(np.mean(column.codes[missing] == value))
        kept_share = float(np.mean(column.codes[kept] == value)) if kept.any() else 0.0
        # Ties (Android and its app version 7.3 both hold them all): the narrower value, seen on fewer events.
        rank = (share, -kept_share, -int(np.count_nonzero(column.codes == value)))
        if share >= HOLDER_SHARE and kept_share <= 0.05 and (best is None or rank > best[0]):
            best = (rank, str(name), column.values[value], share)
    return best[1:] if best else None


# --- impossible counts ----------------------------------------------------------------------------


def count_outliers(log: EventLog) -> list[Breakage]:
    """Users and sessions with far more events than the rest (robust z of log10 counts above
    ``OUTLIER_Z`` and at least ``OUTLIER_TIMES_MEDIAN`` times the median)."""
    out = []
    for kind, owners, label in (("outlier_users", log.user, log.path_noun), ("outlier_sessions", log.session, "session")):
        counts = np.bincount(owners)
        counts = counts[counts > 0]
        if len(counts) < MIN_COUNTED:
            continue
        limit = outlier_limit(counts)
        flagged = np.flatnonzero(np.bincount(owners) > limit)
        if len(flagged):
            out.append(_outlier_breakage(log, kind, label, owners, flagged, counts, limit))
    return out


def outlier_limit(counts: np.ndarray) -> float:
    """The count above which a user (session) is an outlier.

    >>> round(outlier_limit(np.array([10] * 99 + [5000])))      # counts that hardly vary: 20 x the median
    200
    """
    histogram = np.bincount(counts)                 # counts take few distinct values: work on those
    present = np.flatnonzero(histogram)
    present = present[present > 0]
    logs, weights = np.log10(present), histogram[present]
    median = weighted_median(logs, weights)
    scale = max(1.4826 * weighted_median(np.abs(logs - median), weights), MIN_LOG10_SCALE)
    return float(max(10 ** (median + OUTLIER_Z * scale), OUTLIER_TIMES_MEDIAN * 10 ** median))


def _outlier_breakage(log: EventLog, kind: str, label: str, owners: np.ndarray, flagged: np.ndarray,
                      counts: np.ndarray, limit: float) -> Breakage:
    mine = np.isin(owners, flagged)
    held = int(mine.sum())
    flagged_counts = np.bincount(owners)[flagged]
    top = flagged[np.argsort(-flagged_counts)][:5]
    if kind == "outlier_users":
        names = [str(log.user_keys[u]) for u in top]
    else:
        names = [f"{log.user_keys[log.user[np.searchsorted(log.session, s)]]} (session)" for s in top]
    median = median_count(counts)
    first, last = iso_date(log.ts[mine].min()), iso_date(log.ts[mine].max())
    message = (f"{units.counted(len(flagged), label)} with impossibly many events (over {limit:,.0f}; the median "
               f"{label} has {median:,.0f}): up to {int(flagged_counts.max()):,}, holding {held:,} events "
               f"({held / len(log):.1%} of all). Top: {', '.join(names)}. Test accounts or bots?")
    return Breakage(kind, (), len(flagged), first, last, message,
                    {"limit": round(limit, 1), "median": median, "events_held": held, "top": names,
                     "max": int(flagged_counts.max())})
