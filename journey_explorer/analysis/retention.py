"""Retention: cohort triangle, overall curve, and whether (and where) the curve flattens.

A user's start is their first ``--start`` event (default: their first event); their cohort is the
calendar period of that start. Period k after the start is [start + k·P, start + (k+1)·P) with P = 1,
7 or 30 days. Mode ``on``: retained in period k when a ``--return`` event (default: any event)
happens in that period. Mode ``on-or-after``: retained when one happens in period k or later.
Events sent on a schedule rather than done by the user (a monthly renewal, ``automatic``) do
not count as coming back unless ``count_scheduled``. Period 0 is the cohort itself (100 %). A user
counts for period k only when the data covers that whole period after their start, so young
cohorts never pull the curve down.

Flattening (``read_out``), looking only at periods >= 1 with at least 30 eligible users: the curve
is flat from the earliest period f followed by at least 3 periods whose shares all stay within a
tolerance of f's share; the tolerance is the larger of the 95 % binomial margin of the difference
and min(2 percentage points, 25 % of f's share). The plateau is the eligible-weighted mean share from
f on. Not flat: "still falling", with the change over the last 3 periods.

``--breakdown PROPERTY``: the curve again per group of the property's first-touch value (its top 5
values, Other, "(none)"), in ``Result.breakdown`` (group, period, eligible, retained, share).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis import units
from journey_explorer.analysis.arrays import first_time_of
from journey_explorer.analysis.automatic import automatic_events, left_out_sentence, without_automatic
from journey_explorer.analysis.columns import Columns
from journey_explorer.analysis.pvalues import normal_sf
from journey_explorer.analysis.records import json_records
from journey_explorer.domain import ChoiceError, JourneyError
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    import pandas as pd

PERIOD_MS = {"day": 86_400_000, "week": 7 * 86_400_000, "month": 30 * 86_400_000}
MIN_ELIGIBLE = 30
FLAT_AFTER = 3               # periods after the start of a plateau that must stay level
SHIFT_MIN_COHORTS = 2        # cohort_shift: cohorts on each side of a split...
SHIFT_ALPHA = 0.001          # ...its p-value (Bonferroni over the splits tried)...
SHIFT_POINTS = 0.05          # ...and how far apart the two sides' retention must be: 5 points...
SHIFT_RATIO = 1.25           # ...and 1.25 times
FLAT_POINTS = 0.02           # ... within 2 percentage points,
FLAT_RELATIVE = 0.25         # ... or 25 % of the level when that is smaller (a low curve halving is not flat),
Z95 = 1.96                   # ... unless sampling noise (95 %) alone is larger
FLAT_RULE = (f"Level from a period when each of the {FLAT_AFTER}+ later periods stays within "
             f"{FLAT_POINTS * 100:.0f} points (or {FLAT_RELATIVE:.0%} of the level, if smaller) of it, or within "
             f"the 95% sampling margin when that is wider; periods with fewer than {MIN_ELIGIBLE} users are left out.")


@dataclass(frozen=True)
class Spec:
    start_event: str | None = None
    return_event: str | None = None
    period: str = "week"
    mode: str = "on"
    max_periods: int = 12
    breakdown: str | None = None
    count_scheduled: bool = False      # count scheduled events (a monthly renewal) as coming back


@dataclass
class Result:
    """``curve_columns`` and ``cohort_rows`` hold the curve and the cohort triangle without pandas (the
    command line's JSON does not import it: ~0.5 s); ``curve`` and ``cohorts`` are the same as
    DataFrames, built when first asked."""
    spec: Spec
    cohort_rows: list[dict]     # cohort, size, then one retained share per period (None: not whole)
    curve_columns: Columns      # period, eligible, retained, share
    flattens_at: int | None
    plateau: float | None
    readout: str
    breakdown: pd.DataFrame | None = None    # group, users, period, eligible, retained, share
    shift: dict | None = None                # ``cohort_shift``: later cohorts came back less (or more)
    scheduled: tuple = ()                    # automatic.AutomaticEvent: not counted as coming back
    _frames: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def curve(self) -> pd.DataFrame:
        if "curve" not in self._frames:
            self._frames["curve"] = self.curve_columns.to_frame()
        return self._frames["curve"]

    @property
    def cohorts(self) -> pd.DataFrame:
        if "cohorts" not in self._frames:
            import pandas as pd
            self._frames["cohorts"] = pd.DataFrame(self.cohort_rows)
        return self._frames["cohorts"]

    def to_json_dict(self) -> dict:
        return {"period": self.spec.period, "mode": self.spec.mode, "start": self.spec.start_event,
                "return": self.spec.return_event, "curve": json_records(self.curve_columns),
                "cohorts": [dict(row) for row in self.cohort_rows], "flattens_at": self.flattens_at,
                "plateau": self.plateau, "readout": self.readout, "shift": self.shift,
                "not_counted_as_returns": [event.name for event in self.scheduled],
                "breakdown_property": self.spec.breakdown,
                "breakdown": None if self.breakdown is None else json_records(self.breakdown)}

    def to_frame(self) -> pd.DataFrame:
        """The cohort triangle; with a breakdown, the curve per group."""
        return (self.breakdown if self.breakdown is not None else self.cohorts).copy()


def _starts(log: EventLog, spec: Spec) -> np.ndarray:
    if spec.start_event:
        return first_time_of(log, log.event_code(spec.start_event))
    first = np.full(log.n_users, np.iinfo(np.int64).max, dtype=np.int64)
    starts = np.flatnonzero(log.path_starts())
    first[log.user[starts]] = log.ts[starts]
    return first


def _cohort_codes(start_ms: np.ndarray, period: str) -> np.ndarray:
    """Integer calendar period of each start: days, Monday-based weeks or months since 1970 (UTC).

    >>> _cohort_codes(np.array([0, 4 * 86_400_000]), "week").tolist()   # Thu 1 Jan, Mon 5 Jan 1970
    [0, 1]
    """
    days = start_ms // 86_400_000
    if period == "day":
        return days
    if period == "week":
        return (days + 3) // 7                      # 1970-01-01 was a Thursday
    return start_ms.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)


def _cohort_label(codes: np.ndarray, period: str) -> list[str]:
    """The text of a few cohort codes (labelled only at the end, after counting on integers).

    >>> _cohort_label(np.array([0, 1]), "week"), _cohort_label(np.array([13]), "month")
    (['1969-12-29', '1970-01-05'], ['1971-02'])
    """
    if period == "month":
        return np.datetime_as_string(codes.astype("datetime64[M]")).tolist()
    days = codes * 7 - 3 if period == "week" else codes        # a week is named by its Monday
    return np.datetime_as_string(days.astype("datetime64[D]")).tolist()


def run(log: EventLog, spec: Spec = Spec(), progress=None) -> Result:
    if spec.period not in PERIOD_MS:
        raise ChoiceError("period", spec.period, tuple(PERIOD_MS))
    if spec.mode not in ("on", "on-or-after"):
        raise ChoiceError("mode", spec.mode, ("on", "on-or-after"))
    length = PERIOD_MS[spec.period]
    start = _starts(log, spec)
    has_start = start != np.iinfo(np.int64).max
    users = np.flatnonzero(has_start)
    if not len(users):
        raise JourneyError(f"no {log.path_noun} has the start event")
    end = int(log.ts.max())
    eligible_periods = (end - start[users]) // length          # periods fully observed: 0..n-1
    scheduled = [] if spec.return_event or spec.count_scheduled else automatic_events(log)
    if spec.return_event:
        returns = log.event == log.event_code(spec.return_event)
        r_user, r_ts = log.user[returns], log.ts[returns]
    elif scheduled:                                            # any event the user does
        returns = without_automatic(log, scheduled)
        r_user, r_ts = log.user[returns], log.ts[returns]
    else:                                                      # any event: no copy of the log
        r_user, r_ts = log.user, log.ts
    r_start = start[r_user]
    after = r_ts >= r_start                                    # a user without a start has the max
    if not after.all():
        r_user, r_ts, r_start = r_user[after], r_ts[after], r_start[after]
    offsets = (r_ts - r_start) // length
    retained = _retained_matrix(users, r_user, offsets, spec)
    observable = np.arange(spec.max_periods + 1)[None, :] < eligible_periods[:, None]
    observable[:, 0] = True
    retained[:, 0] = True
    curve = _curve(retained, observable)
    cohorts = _cohort_rows(_cohort_codes(start[users], spec.period), spec.period, retained, observable)
    flattens_at, plateau, readout = read_out(curve, spec.period, log.path_noun)
    shift = cohort_shift(cohorts)
    if shift:
        readout += " " + shift_sentence(shift, spec.period, log.path_noun)
    if scheduled:
        readout += " " + left_out_sentence(scheduled, log.path_noun)
    return Result(spec=spec, cohort_rows=cohorts, curve_columns=curve, flattens_at=flattens_at, plateau=plateau,
                  readout=readout, shift=shift, scheduled=tuple(scheduled),
                  breakdown=_breakdown_curves(log, spec, users, retained, observable) if spec.breakdown else None)


def _breakdown_curves(log: EventLog, spec: Spec, users: np.ndarray, retained: np.ndarray,
                      observable: np.ndarray) -> pd.DataFrame:
    """The retention curve per group of the breakdown property (rows: users with a start)."""
    import pandas as pd

    from journey_explorer.analysis import properties
    split = properties.breakdown(log, spec.breakdown)
    group = split.group[users]
    frames = []
    for index, label in enumerate(split.labels):
        mask = group == index
        if mask.any():
            frames.append(_curve(retained[mask], observable[mask]).to_frame().assign(group=label, users=int(mask.sum())))
    columns = ["group", "users", "period", "eligible", "retained", "share"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _retained_matrix(users: np.ndarray, r_user: np.ndarray, offsets: np.ndarray, spec: Spec) -> np.ndarray:
    """(users, periods) booleans: retained in that period after the start."""
    periods = spec.max_periods + 1
    if len(users) == int(users.max()) + 1:          # every user has a start: rows are user codes
        rows = r_user
    else:
        row = np.full(int(users.max()) + 1, -1, dtype=np.int64)
        row[users] = np.arange(len(users))
        rows = row[r_user]
    if spec.mode == "on":
        matrix = np.zeros(len(users) * periods, dtype=bool)
        keep = offsets <= spec.max_periods
        matrix[rows[keep] * periods + offsets[keep]] = True
        return matrix.reshape(len(users), periods)
    latest = np.full(len(users), -1, dtype=np.int64)
    np.maximum.at(latest, rows, np.minimum(offsets, spec.max_periods))
    matrix = np.arange(periods)[None, :] <= latest[:, None]
    return matrix


def _curve(retained: np.ndarray, observable: np.ndarray) -> Columns:
    eligible = observable.sum(axis=0)
    kept = (retained & observable).sum(axis=0)
    share = np.where(eligible > 0, kept / np.maximum(eligible, 1), np.nan)
    return Columns({"period": np.arange(len(eligible)), "eligible": eligible, "retained": kept,
                    "share": np.round(share, 4)})


def _cohort_rows(codes: np.ndarray, period: str, retained: np.ndarray, observable: np.ndarray) -> list[dict]:
    """One row per cohort: size and, per period, the retained share when the whole cohort is observable."""
    present, cohort = _dense(codes)
    periods = retained.shape[1]
    sizes = np.bincount(cohort, minlength=len(present))
    kept = _cell_counts(cohort, retained & observable, len(present))
    whole = _cell_counts(cohort, ~observable, len(present)) == 0
    rows = []
    for label, size, complete, counts in zip(_cohort_label(present, period), sizes, whole, kept):
        rows.append({"cohort": label, "size": int(size), **{
            f"p{k}": (round(float(counts[k] / size), 4) if complete[k] else None) for k in range(periods)}})
    return rows


def _dense(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes present (ascending) and each code's index among them, by counting, not sorting.

    >>> [a.tolist() for a in _dense(np.array([7, 5, 7, 9]))]
    [[5, 7, 9], [1, 0, 1, 2]]
    """
    lowest = int(codes.min())
    counts = np.bincount(codes - lowest)
    present = np.flatnonzero(counts)
    index = np.zeros(len(counts), dtype=np.int64)
    index[present] = np.arange(len(present))
    return present + lowest, index[codes - lowest]


def _cell_counts(group: np.ndarray, cells: np.ndarray, groups: int) -> np.ndarray:
    """(groups, columns) counts of the true cells of a (rows, columns) boolean matrix, rows in ``group``."""
    columns = cells.shape[1]
    flat = np.flatnonzero(cells.ravel())
    return np.bincount(group[flat // columns] * columns + flat % columns,
                       minlength=groups * columns).reshape(groups, columns)


def wilson_band(retained, eligible, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """95 % Wilson interval of retained/eligible per period (NaN where nobody is eligible).

    >>> low, high = wilson_band([50], [100])
    >>> round(float(low[0]), 3), round(float(high[0]), 3)
    (0.404, 0.596)
    """
    k, n = np.asarray(retained, float), np.asarray(eligible, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        margin = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - margin, centre + margin


def _level_tolerance(p_ref: float, n_ref: int, p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """How far a later share may stray from the reference share and still count as level."""
    noise = Z95 * np.sqrt(p_ref * (1 - p_ref) / n_ref + p * (1 - p) / n)
    return np.maximum(noise, min(FLAT_POINTS, FLAT_RELATIVE * p_ref))


ALMOST_NOBODY = 0.01     # shares below this from some period on: "almost nobody comes back", not a trend


def cohort_shift(cohort_rows: list[dict], period: int = 1) -> dict | None:
    """Did retention at ``period`` change between earlier and later cohorts? The split of the cohorts
    (in time order, each whole at that period) into before and since with the largest two-proportion
    z, kept when p < ``SHIFT_ALPHA`` (a Bonferroni bound over the splits tried) and material: at least
    ``SHIFT_POINTS`` apart and ``SHIFT_RATIO`` times. Returns {"since": the first later cohort,
    "first": the first cohort, "last": the last cohort, "before": share, "after": share,
    "users_before", "users_after", "p_value"} or None.

    >>> rows = [{"cohort": c, "size": 100, "p1": s} for c, s in zip("abcd", [0.4, 0.4, 0.2, 0.2])]
    >>> shift = cohort_shift(rows)
    >>> shift["since"], shift["before"], shift["after"]
    ('c', 0.4, 0.2)
    """
    key = f"p{period}"
    rows = [r for r in cohort_rows if r.get(key) is not None and r["size"] > 0]
    if len(rows) < 2 * SHIFT_MIN_COHORTS:
        return None
    sizes = np.array([r["size"] for r in rows], dtype=float)
    kept = np.round(np.array([r[key] for r in rows], dtype=float) * sizes)
    best = None
    splits = range(SHIFT_MIN_COHORTS, len(rows) - SHIFT_MIN_COHORTS + 1)
    for k in splits:
        n1, n2, x1, x2 = sizes[:k].sum(), sizes[k:].sum(), kept[:k].sum(), kept[k:].sum()
        if min(n1, n2) < MIN_ELIGIBLE:
            continue
        p1, p2, pooled = x1 / n1, x2 / n2, (x1 + x2) / (n1 + n2)
        spread = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = abs(p1 - p2) / spread if spread > 0 else 0.0
        if best is None or z > best[0]:
            best = (z, k, p1, p2, n1, n2)
    if best is None:
        return None
    z, k, before, after = best[:4]
    p_value = min(1.0, 2 * normal_sf(z) * len(splits))
    low, high = sorted((before, after))
    if p_value >= SHIFT_ALPHA or high - low < SHIFT_POINTS or high < SHIFT_RATIO * low:
        return None
    return {"since": rows[k]["cohort"], "first": rows[0]["cohort"], "last": rows[-1]["cohort"],
            "before": round(float(before), 4), "after": round(float(after), 4),
            "users_before": int(best[4]), "users_after": int(best[5]), "p_value": p_value}


def shift_headline(shift: dict, period: str, noun: str = "user") -> str:
    """e.g. "Week-1 retention fell from 50% to 15% for users starting since 2024-02-05" (``noun``: what a
    path is, ``EventLog.path_noun``)."""
    return (f"{period.capitalize()}-1 retention {_moved(shift)} from {units.percent(shift['before'], 0)} to "
            f"{units.percent(shift['after'], 0)} for {units.plural(noun)} starting since {shift['since']}")


def shift_sentence(shift: dict, period: str, noun: str = "user") -> str:
    """The words of a ``cohort_shift``, e.g. "Week-1 retention fell from 50% of the 200 users who started
    before 2024-02-05 to 15% of the 200 who started from then to the week of 2024-03-04 (the last
    whose week 1 is known)." """
    that = units.who_or_that(noun)
    return (f"{period.capitalize()}-1 retention {_moved(shift)} from {units.percent(shift['before'], 0)} of the "
            f"{units.counted(shift['users_before'], noun)} {that} started before {shift['since']} to "
            f"{units.percent(shift['after'], 0)} of the {shift['users_after']:,} {that} started from then to the "
            f"{period} of {shift['last']} (the last whose {period} 1 is known).")


def _moved(shift: dict) -> str:
    return "fell" if shift["after"] < shift["before"] else "rose"


def read_out(curve, period: str, noun: str = "user") -> tuple[int | None, float | None, str]:
    """(flattens_at, plateau, sentence) for a retention curve (period, eligible, retained, share; a
    DataFrame or ``Columns``), by the rule in the module docstring: the words and the marker come from
    the same decision."""
    all_eligible = np.asarray(curve["eligible"])
    usable = (all_eligible >= MIN_ELIGIBLE) & (np.asarray(curve["period"]) >= 1)
    if usable.sum() < FLAT_AFTER + 1:
        return None, None, (f"Too little history to judge retention (fewer than {FLAT_AFTER + 1} {period}s "
                            f"with {MIN_ELIGIBLE}+ {units.plural(noun)}).")
    periods = np.asarray(curve["period"])[usable]
    shares = (np.asarray(curve["retained"])[usable] / all_eligible[usable]).astype(float)
    eligible = all_eligible[usable].astype(float)
    for f in range(len(shares) - FLAT_AFTER):
        later = slice(f + 1, None)
        tolerance = _level_tolerance(shares[f], eligible[f], shares[later], eligible[later])
        if np.all(np.abs(shares[later] - shares[f]) <= tolerance):
            plateau = round(float(np.average(shares[f:], weights=eligible[f:])), 4)
            if plateau < 0.005:                  # "levels off at 0%" would hide that nobody stays
                return int(periods[f]), plateau, (
                    f"Retention falls to about zero by {period} {int(periods[f])}: almost {units.nobody(noun)} comes back "
                    f"after that (through {period} {int(periods[-1])}).")
            verdict = (f"a core of {units.plural(noun)} keeps coming back" if plateau >= 0.10
                       else f"the plateau is low: few {units.plural(noun)} stay")
            return int(periods[f]), plateau, (
                f"Retention levels off from {period} {int(periods[f])} at about {units.percent(plateau, 0)} "
                f"and stays level through {period} {int(periods[-1])}; {verdict}.")
    below = np.flatnonzero(shares >= ALMOST_NOBODY)
    gone = int(below[-1]) + 1 if len(below) else 0           # from here on, every share is under 1 %
    if gone <= len(shares) - 2:        # still sliding, but among the last crumbs: 0.9 % -> 0.4 % is no trend
        plateau = round(float(np.average(shares[gone:], weights=eligible[gone:])), 4)
        return int(periods[gone]), plateau, (
            f"Retention falls below {units.percent(ALMOST_NOBODY, 0)} by {period} {int(periods[gone])}: almost "
            f"{units.nobody(noun)} comes back after that (through {period} {int(periods[-1])}).")
    first, last = shares[-FLAT_AFTER - 1], shares[-1]
    return None, None, (
        f"Retention has not levelled off: {'down' if last <= first else 'up'} "
        f"{abs(first - last) * 100:.1f} points over the last {FLAT_AFTER} {period}s "
        f"({units.percent(first, 0)} → {units.percent(last, 0)} at {period} {int(periods[-1])}).")
