"""Categorical properties per path, for "who" and "where" breakdowns of the insight analyses.

One stated rule: a path takes the *first* value its events carry ("first touch"; for a per-session
path that is the session's value), and a user property its user's value. Only properties with a few
distinct values (``MAX_VALUES``) and text values are used: ids, dates and numbers (CSAT, revenue)
would each make every value its own group; and only event properties most paths carry
(``MIN_COVERAGE``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.arrays import path_bounds
from journey_explorer.eventlog import MISSING, EventLog

if TYPE_CHECKING:
    pass

MAX_VALUES = 20
MIN_COVERAGE = 0.8   # share of paths that must carry a property: one only some events carry (an error
                     # code) describes what happened on the path, not who took it


def path_properties(log: EventLog, max_values: int = MAX_VALUES) -> dict[str, np.ndarray]:
    """Property name -> value per user code (object array; None where the path has none)."""
    import pandas as pd
    out: dict[str, np.ndarray] = {}
    props = log.properties()
    for name in props.columns:
        column = props[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        values = column.astype(object).where(column.notna(), None).to_numpy()
        if 1 < pd.Series(values).nunique() <= max_values:
            out[str(name)] = values
    starts, _ = path_bounds(log)
    for name, column in log.event_properties.items():
        if str(name) in out or not 1 < len(column.values) <= max_values:
            continue
        if not all(isinstance(v, str) for v in column.values):
            continue
        values = _first_touch(log, column.codes, column.values)
        paths = log.user[starts]
        if np.mean([v is not None for v in values[paths]]) >= MIN_COVERAGE:
            out[str(name)] = values
    return out


def _first_touch(log: EventLog, codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per user code, the first non-missing value along the path."""
    present = np.flatnonzero(codes != MISSING)
    users = log.user[present]
    first = np.ones(len(present), dtype=bool)
    first[1:] = users[1:] != users[:-1]
    out = np.full(log.n_users, None, dtype=object)
    out[users[first]] = values[codes[present[first]]]
    return out


def without_outcomes(properties: dict[str, np.ndarray], successful_user: np.ndarray,
                     paths: np.ndarray) -> dict[str, np.ndarray]:
    """Leave out properties that merely restate the outcome: every value held by at least 10 paths is
    held only by successful or only by failing paths (a ``plan`` of "Trial" vs a paid plan, recorded
    after the fact, is the goal under another name, not who the users are).

    >>> ok = np.array([True, False] * 10)
    >>> props = {"plan": np.array(["paid", "trial"] * 10, dtype=object), "os": np.array(["a"] * 20, dtype=object)}
    >>> list(without_outcomes(props, ok, np.arange(20)))
    ['os']
    """
    import pandas as pd
    out = {}
    for name, values in properties.items():
        frame = pd.DataFrame({"value": values[paths], "ok": successful_user[paths]}).dropna()
        rates = frame.groupby("value")["ok"].agg(["mean", "size"])
        common = rates[rates["size"] >= 10]
        if len(common) and common["mean"].isin([0.0, 1.0]).all() and common["mean"].nunique() > 1:
            continue
        out[name] = values
    return out
