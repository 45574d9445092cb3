"""Lifecycle: per calendar period, new, returning, resurrected and dormant users.

The usual growth-accounting definition (as in Mixpanel's and Amplitude's lifecycle charts), with a
user active in a period when they have any event in it:
- new: active, and this is their first active period;
- returning: active now and in the previous period;
- resurrected: active now, not in the previous period, but active at some earlier period;
- dormant: active in the previous period but not now (reported as a negative count).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.analysis.records import json_records
from journey_explorer.domain import JourneyError

PERIODS = {"day": "D", "week": "W-SUN", "month": "M"}


@dataclass(frozen=True)
class Spec:
    period: str = "week"


@dataclass
class Result:
    spec: Spec
    table: pd.DataFrame     # period, new, returning, resurrected, dormant (negative), active, quick_ratio

    def to_json_dict(self) -> dict:
        return {"period": self.spec.period, "definition": __doc__.split("\n\n")[1].strip(),
                "periods": json_records(self.table)}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def period_ordinals(ts: np.ndarray, period: str) -> np.ndarray:
    """Calendar period (pandas ordinal) of each UTC millisecond timestamp."""
    return pd.to_datetime(ts, unit="ms", utc=True).tz_localize(None).to_period(PERIODS[period]).asi8


def period_index(ts: np.ndarray, period: str) -> tuple[np.ndarray, pd.PeriodIndex]:
    """Period number of each timestamp (0 = the first period of ``ts``), and the periods they stand for."""
    ordinals = period_ordinals(ts, period)
    if not len(ordinals):
        return ordinals, pd.PeriodIndex([], freq=PERIODS[period])
    first, last = ordinals.min(), ordinals.max()
    labels = pd.period_range(start=pd.Period(ordinal=first, freq=PERIODS[period]),
                             end=pd.Period(ordinal=last, freq=PERIODS[period]))
    return ordinals - first, labels


def run(log: EventLog, spec: Spec = Spec(), progress=None) -> Result:
    if spec.period not in PERIODS:
        raise JourneyError("--period must be day, week or month")
    if len(log) == 0:
        raise JourneyError("no events in the selection")
    number, labels = period_index(log.ts, spec.period)
    pairs = np.unique(log.user.astype(np.int64) * (len(labels) + 1) + number)
    user, period = pairs // (len(labels) + 1), pairs % (len(labels) + 1)
    same_user_before = np.append(False, user[1:] == user[:-1])
    gap = np.append(0, np.diff(period))
    new = ~same_user_before
    returning = same_user_before & (gap == 1)
    resurrected = same_user_before & (gap > 1)
    same_user_after = np.append(user[1:] == user[:-1], False)
    next_gap = np.append(np.diff(period), 0)
    goes_dormant = (~same_user_after | (next_gap > 1)) & (period + 1 < len(labels))
    size = len(labels)
    table = pd.DataFrame({
        "period": [str(p.start_time.date()) for p in labels],
        "new": np.bincount(period[new], minlength=size),
        "returning": np.bincount(period[returning], minlength=size),
        "resurrected": np.bincount(period[resurrected], minlength=size),
        "dormant": -np.bincount(period[goes_dormant] + 1, minlength=size + 1)[:size],
        "active": np.bincount(period, minlength=size)})
    with np.errstate(divide="ignore", invalid="ignore"):
        quick = (table["new"] + table["resurrected"]) / -table["dormant"]
    table["quick_ratio"] = np.round(quick.where(table["dormant"] < 0), 3)
    return Result(spec=spec, table=table)


def add_arguments(parser) -> None:
    parser.add_argument("--period", choices=tuple(PERIODS), default="week")


def spec_from_args(args, log: EventLog) -> Spec:
    return Spec(period=args.period)
