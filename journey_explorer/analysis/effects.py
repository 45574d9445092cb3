"""Two-group statistics shared by compare, drivers and the property comparison ("who").

For each name (an event, a transition, a property value): how many of group A's and B's paths have
it, a 2x2 test (Fisher's exact when an expected count is below 5, else chi-square with continuity
correction), Benjamini-Hochberg q-values across the rows, and ``passes`` = significant with support.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.pvalues import hypergeom_pmf

if TYPE_CHECKING:
    import pandas as pd

MIN_SUPPORT = 20         # users (both groups) a row needs before its difference is reported


def two_by_two_tests(a_has: np.ndarray, a_size: int, b_has: np.ndarray, b_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Odds ratios and p-values for 2x2 tables [has, has not] x [A, B], all rows at once.

    Chi-square with Yates' continuity correction (as ``scipy.stats.chi2_contingency``) in numpy;
    Fisher's exact test only for the rows with an expected count below 5 (``fisher_two_sided``).

    >>> odds, p = two_by_two_tests(np.array([30, 2]), 100, np.array([10, 3]), 100)
    >>> odds.round(3).tolist(), p.round(6).tolist()
    ([3.857, 0.66], [0.000783, 1.0])
    """
    x, y = np.asarray(a_has, dtype=float), np.asarray(b_has, dtype=float)
    table = np.stack([x, a_size - x, y, b_size - y], axis=1)            # rows: [[x, a-x], [y, b-y]] flat
    cells = np.where((table == 0).any(axis=1, keepdims=True), table + 0.5, table)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (cells[:, 0] * cells[:, 3]) / (cells[:, 1] * cells[:, 2])
    rows = np.stack([np.full_like(x, a_size), np.full_like(x, a_size), np.full_like(x, b_size),
                     np.full_like(x, b_size)], axis=1)
    columns = np.stack([x + y, (a_size + b_size) - (x + y)] * 2, axis=1)
    expected = rows * columns / max(a_size + b_size, 1)
    degenerate = (a_size == 0) | (b_size == 0) | (columns == 0).any(axis=1)
    fisher = ~degenerate & (expected < 5).any(axis=1)
    pvalues = np.ones(len(x))
    chi = ~degenerate & ~fisher
    pvalues[chi] = _yates_chi_square(table[chi], expected[chi])
    if fisher.any():
        pvalues[fisher] = fisher_two_sided(table[fisher].astype(np.int64))
    return odds, np.clip(pvalues, 0, 1)


FISHER_TIE = 1e-14       # scipy's tolerance: a table as likely as the observed one counts as extreme


def fisher_two_sided(tables: np.ndarray) -> np.ndarray:
    """Two-sided Fisher exact p-values of (rows, 4) tables [x, a-x, y, b-y], all at once.

    The p-value is the probability, under the hypergeometric law of x given the margins, of the
    tables no more likely than the observed one (as ``scipy.stats.fisher_exact``, whose tie
    tolerance it shares), over every table's whole support (``pvalues.hypergeom_pmf``, without
    scipy.stats' ~1 s import): rows reach here only when an expected count is below 5, so supports
    are short.

    >>> fisher_two_sided(np.array([[8, 2, 1, 5], [3, 1, 1, 3]])).round(6).tolist()   # Lady tasting tea
    [0.034965, 0.485714]
    """
    x, first, second = tables[:, 0], tables[:, 0] + tables[:, 1], tables[:, 2] + tables[:, 3]
    has = tables[:, 0] + tables[:, 2]
    low, high = np.maximum(0, has - second), np.minimum(has, first)
    sizes = high - low + 1
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    row = np.repeat(np.arange(len(tables)), sizes)
    k = low[row] + np.arange(int(sizes.sum())) - starts[row]
    pmf = np.array([hypergeom_pmf(*args) for args in zip(k.tolist(), first[row].tolist(), second[row].tolist(),
                                                            has[row].tolist())], dtype=float)
    observed = pmf[starts + x - low]
    extreme = pmf <= (observed * (1 + FISHER_TIE))[row]
    pvalues = np.bincount(row, weights=np.where(extreme, pmf, 0.0), minlength=len(tables))
    most_likely = np.maximum.reduceat(pmf, starts)
    pvalues[np.abs(observed - most_likely) / np.maximum(observed, most_likely) <= FISHER_TIE] = 1.0
    return np.minimum(pvalues, 1.0)


def _yates_chi_square(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """p-values of the continuity-corrected chi-square test (1 degree of freedom), row by row,
    computed like ``scipy.stats.chi2_contingency(table, correction=True)``."""
    difference = expected - observed
    corrected = observed + np.minimum(0.5, np.abs(difference)) * np.sign(difference)
    statistic = ((corrected - expected) ** 2 / expected).sum(axis=1)
    return np.array([math.erfc(math.sqrt(value / 2)) for value in statistic.tolist()])     # chi2(1).sf


def benjamini_hochberg(pvalues: np.ndarray) -> np.ndarray:
    """q-values (monotone, capped at 1); a missing p-value (NaN) gets q = 1 and does not count as a
    test (one NaN used to make every q-value NaN).

    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.04, 0.04]
    >>> benjamini_hochberg(np.array([0.01, np.nan, 0.03])).round(3).tolist()
    [0.02, 1.0, 0.03]
    """
    pvalues = np.asarray(pvalues, dtype=float)
    if not len(pvalues):
        return pvalues
    known = ~np.isnan(pvalues)
    out = np.ones(len(pvalues))
    tested = pvalues[known]
    if not len(tested):
        return out
    order = np.argsort(tested)
    ranked = tested[order] * len(tested) / np.arange(1, len(tested) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    within = np.empty_like(q)
    within[order] = np.minimum(q, 1.0)
    out[known] = within
    return out


def effect_table(names: list[str], a_has, a_size, b_has, b_size, label: str) -> pd.DataFrame:
    """One row per name with users in A and B, shares, difference, odds ratio, p and q values, ``passes``."""
    import pandas as pd
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
