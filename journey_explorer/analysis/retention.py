"""Retention: cohort triangle, overall curve, and whether (and where) the curve flattens.

A user's start is their first ``--start`` event (default: their first event); their cohort is the
calendar period of that start. Period k after the start is [start + k·P, start + (k+1)·P) with P = 1,
7 or 30 days. Mode ``on``: retained in period k when a ``--return`` event (default: any event)
happens in that period. Mode ``on-or-after``: retained when one happens in period k or later.
Period 0 is the cohort itself (100 %). A user counts for period k only when the data covers that
whole period after their start, so young cohorts never pull the curve down.

Flattening: the curve flattens at the first period from which every later period-to-period decline
stays below 10 % (relative), looking only at periods with at least 30 eligible users; the plateau is
the mean retention from there on.

``--breakdown PROPERTY``: the curve again per group of the property's first-touch value (its top 5
values, Other, "(none)"), in ``Result.breakdown`` (group, period, eligible, retained, share).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from journey_explorer.analysis.arrays import first_time_of
from journey_explorer.analysis.common import add_breakdown_argument
from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.analysis.records import json_records
from journey_explorer.domain import JourneyError

PERIOD_MS = {"day": 86_400_000, "week": 7 * 86_400_000, "month": 30 * 86_400_000}
FLAT_DECLINE = 0.10
MIN_ELIGIBLE = 30


@dataclass(frozen=True)
class Spec:
    start_event: str | None = None
    return_event: str | None = None
    period: str = "week"
    mode: str = "on"
    max_periods: int = 12
    breakdown: str | None = None


@dataclass
class Result:
    spec: Spec
    cohorts: pd.DataFrame       # cohort, size, then one retained-share column per period
    curve: pd.DataFrame         # period, eligible, retained, share
    flattens_at: int | None
    plateau: float | None
    readout: str
    breakdown: pd.DataFrame | None = None    # group, users, period, eligible, retained, share

    def to_json_dict(self) -> dict:
        return {"period": self.spec.period, "mode": self.spec.mode, "start": self.spec.start_event,
                "return": self.spec.return_event, "curve": json_records(self.curve),
                "cohorts": json_records(self.cohorts), "flattens_at": self.flattens_at,
                "plateau": self.plateau, "readout": self.readout, "breakdown_property": self.spec.breakdown,
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
    if spec.period not in PERIOD_MS or spec.mode not in ("on", "on-or-after"):
        raise JourneyError("--period must be day, week or month and --mode on or on-or-after")
    length = PERIOD_MS[spec.period]
    start = _starts(log, spec)
    has_start = start != np.iinfo(np.int64).max
    users = np.flatnonzero(has_start)
    if not len(users):
        raise JourneyError("no user has the start event")
    end = int(log.ts.max())
    eligible_periods = (end - start[users]) // length          # periods fully observed: 0..n-1
    if spec.return_event:
        returns = log.event == log.event_code(spec.return_event)
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
    cohorts = _cohort_table(_cohort_codes(start[users], spec.period), spec.period, retained, observable)
    flattens_at, plateau = _flattening(curve)
    return Result(spec=spec, cohorts=cohorts, curve=curve, flattens_at=flattens_at, plateau=plateau,
                  readout=_readout(curve, flattens_at, plateau, spec.period),
                  breakdown=_breakdown_curves(log, spec, users, retained, observable) if spec.breakdown else None)


def _breakdown_curves(log: EventLog, spec: Spec, users: np.ndarray, retained: np.ndarray,
                      observable: np.ndarray) -> pd.DataFrame:
    """The retention curve per group of the breakdown property (rows: users with a start)."""
    from journey_explorer.analysis import properties
    split = properties.breakdown(log, spec.breakdown)
    group = split.group[users]
    frames = []
    for index, label in enumerate(split.labels):
        mask = group == index
        if mask.any():
            frames.append(_curve(retained[mask], observable[mask]).assign(group=label, users=int(mask.sum())))
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


def _curve(retained: np.ndarray, observable: np.ndarray) -> pd.DataFrame:
    eligible = observable.sum(axis=0)
    kept = (retained & observable).sum(axis=0)
    share = np.where(eligible > 0, kept / np.maximum(eligible, 1), np.nan)
    return pd.DataFrame({"period": np.arange(len(eligible)), "eligible": eligible, "retained": kept,
                         "share": np.round(share, 4)})


def _cohort_table(codes: np.ndarray, period: str, retained: np.ndarray, observable: np.ndarray) -> pd.DataFrame:
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
    return pd.DataFrame(rows)


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


def _flattening(curve: pd.DataFrame) -> tuple[int | None, float | None]:
    usable = curve[(curve["eligible"] >= MIN_ELIGIBLE) & (curve["period"] >= 1)]
    shares = usable["share"].to_numpy()
    periods = usable["period"].to_numpy()
    if len(shares) < 3:
        return None, None
    declines = 1 - shares[1:] / np.maximum(shares[:-1], 1e-12)
    for i in range(len(declines) - 1):       # need at least two later steps to call it flat
        if np.all(declines[i:] < FLAT_DECLINE):
            return int(periods[i]), round(float(shares[i:].mean()), 4)
    return None, None


def _readout(curve: pd.DataFrame, flattens_at: int | None, plateau: float | None, period: str) -> str:
    if flattens_at is not None:
        verdict = ("a core of users keeps coming back (a product/market-fit signal)" if plateau >= 0.10
                   else "but the plateau is low: few users stay")
        return f"Retention flattens from {period} {flattens_at} at about {plateau:.0%} of users: {verdict}."
    usable = curve[(curve["eligible"] >= MIN_ELIGIBLE) & (curve["period"] >= 1)]
    if len(usable) < 3:
        return f"Too little history to judge retention (fewer than 3 {period}s with {MIN_ELIGIBLE}+ users)."
    last = usable.iloc[-1]
    return (f"Retention has not flattened: it is still falling at {period} {int(last['period'])} "
            f"({last['share']:.0%} of users).")


def add_arguments(parser) -> None:
    parser.add_argument("--start", dest="start_event", help="the event that starts a user's clock (default: first event)")
    parser.add_argument("--return", dest="return_event", help="the event that counts as coming back (default: any)")
    parser.add_argument("--period", choices=tuple(PERIOD_MS), default="week")
    parser.add_argument("--mode", choices=("on", "on-or-after"), default="on")
    add_breakdown_argument(parser)


def spec_from_args(args, log: EventLog) -> Spec:
    return Spec(start_event=args.start_event, return_event=args.return_event, period=args.period, mode=args.mode,
                breakdown=getattr(args, "breakdown", None))
