"""Two-group statistics shared by compare, drivers and the property comparison ("who").

For each name (an event, a transition, a property value): how many of group A's and B's paths have
it, a 2x2 test (Fisher's exact when an expected count is below 5, else chi-square with continuity
correction), Benjamini-Hochberg q-values across the rows, and ``passes`` = significant with support.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

MIN_SUPPORT = 20         # users (both groups) a row needs before its difference is reported


def two_by_two_tests(a_has: np.ndarray, a_size: int, b_has: np.ndarray, b_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Odds ratios and p-values for 2x2 tables [has, has not] x [A, B]."""
    odds, pvalues = np.empty(len(a_has)), np.empty(len(a_has))
    for i, (x, y) in enumerate(zip(a_has, b_has)):
        table = np.array([[x, a_size - x], [y, b_size - y]], dtype=float)
        cells = table + 0.5 if (table == 0).any() else table
        odds[i] = (cells[0, 0] * cells[1, 1]) / (cells[0, 1] * cells[1, 0])
        expected = table.sum(1)[:, None] * table.sum(0)[None, :] / max(table.sum(), 1)
        if (table.sum(0) == 0).any() or (table.sum(1) == 0).any():
            pvalues[i] = 1.0
        elif (expected < 5).any():
            pvalues[i] = stats.fisher_exact(table)[1]
        else:
            pvalues[i] = stats.chi2_contingency(table, correction=True)[1]
    return odds, np.clip(pvalues, 0, 1)


def benjamini_hochberg(pvalues: np.ndarray) -> np.ndarray:
    """q-values (monotone, capped at 1).

    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    if not len(pvalues):
        return pvalues
    order = np.argsort(pvalues)
    ranked = pvalues[order] * len(pvalues) / np.arange(1, len(pvalues) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = np.minimum(q, 1.0)
    return out


def effect_table(names: list[str], a_has, a_size, b_has, b_size, label: str) -> pd.DataFrame:
    """One row per name with users in A and B, shares, difference, odds ratio, p and q values, ``passes``."""
    keep = (a_has + b_has) > 0
    a_has, b_has = a_has[keep], b_has[keep]
    odds, p = two_by_two_tests(a_has, a_size, b_has, b_size)
    a_share, b_share = a_has / max(a_size, 1), b_has / max(b_size, 1)
    frame = pd.DataFrame({label: np.array(names, dtype=object)[keep], "users_a": a_has, "users_b": b_has,
                          "share_a": np.round(a_share, 4), "share_b": np.round(b_share, 4),
                          "difference": np.round(a_share - b_share, 4), "odds_ratio": np.round(odds, 3),
                          "p_value": p})
    return rank_effects(frame)


def rank_effects(frame: pd.DataFrame) -> pd.DataFrame:
    """q-values over the rows given, ``passes`` (q < 0.05 and ``MIN_SUPPORT`` users), passing rows first,
    then by absolute difference."""
    frame = frame.assign(q_value=benjamini_hochberg(frame["p_value"].to_numpy(float)))
    frame["passes"] = (frame["q_value"] < 0.05) & (frame["users_a"] + frame["users_b"] >= MIN_SUPPORT)
    frame["_size"] = frame["difference"].abs()
    frame = frame.sort_values(["passes", "_size"], ascending=False).drop(columns="_size")
    return frame.reset_index(drop=True)
