"""Find the one window in a series of counts where the rate differs most from the rest, and test it.

Every series the "what changed" analysis looks at is a proportion per period: ``x`` successes out
of ``n`` trials (conversions out of paths at a step, an event out of all events, paths doing an
event out of active paths). Event *rates* are Poisson counts; compared given the total number of
events in each period they are binomial, so one test covers all kinds.

For a series of T periods, every window [s, e) of consecutive periods (with at least
``min_start`` periods before it, so there is a baseline) is scored by a likelihood-ratio
statistic: one rate inside the window and one outside, against one rate for the whole series.
A window that reaches the end of the series is a step change that has not recovered.

Real series vary more from period to period than binomial noise (campaigns, weekdays, a few heavy
users), so the statistic is divided by the series' own dispersion (Pearson chi-square per degree
of freedom under the two-rate model, at least 1) and compared with an F(1, T - 2) distribution
(quasi-likelihood). The best window's p-value is multiplied by the number of windows scanned
(Bonferroni); the analysis then controls the false discovery rate across all series
(Benjamini-Hochberg, ``effects.benjamini_hochberg``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journey_explorer.analysis.pvalues import f_sf_one
from journey_explorer.progress import report

CHUNK = 256        # series scanned at once (bounds memory: CHUNK x windows floats per array)


@dataclass(frozen=True)
class Support:
    """What a window needs before it can be a finding (no change from a handful of paths)."""

    min_periods: int = 6             # periods with data in the series: no trend from two weeks
    min_start: int = 4               # periods before the window: the baseline (a month of weeks)
    min_trials: int = 30             # trials inside the window, and in the baseline before it
    min_impact: float = 10.0         # |x inside - n inside x before rate|, in the series' units
    min_odds_ratio: float = 1.5      # inside vs before, either direction
    edge_periods: int = 2            # a step, not a drift: the odds ratio holds across the start too


@dataclass
class ScanResult:
    """Per series: the best window [start, end) (-1 where none qualifies) and its statistics."""

    start: np.ndarray
    end: np.ndarray
    statistic: np.ndarray     # likelihood-ratio statistic divided by the dispersion
    dispersion: np.ndarray
    p_value: np.ndarray       # Bonferroni over the windows scanned; 1 where no window qualifies
    windows: int              # how many windows each series was scanned over
    tested: np.ndarray        # bool: the series had enough periods to be tested at all


def windows(periods: int, min_start: int) -> tuple[np.ndarray, np.ndarray]:
    """All windows [s, e) with min_start <= s < e <= periods.

    >>> s, e = windows(4, 2)
    >>> list(zip(s.tolist(), e.tolist()))
    [(2, 3), (2, 4), (3, 4)]
    """
    s, e = np.triu_indices(periods + 1, k=1)
    keep = s >= min_start
    return s[keep].astype(np.int64), e[keep].astype(np.int64)


def log_likelihood(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Binomial log-likelihood at the maximum (p = x / n), without the constant; 0 where n = 0.

    >>> float(log_likelihood(np.array([5.0]), np.array([10.0]))[0]).__round__(4)
    -6.9315
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, x / np.where(n > 0, n, 1), 0.0)
        return x_log_y(x, p) + x_log_y(n - x, 1 - p)


def x_log_y(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * log(y), 0 where x = 0 (``scipy.special.xlogy``: importing scipy costs ~0.3 s at start-up).

    >>> x_log_y(np.array([0.0, 2.0]), np.array([0.0, np.e])).tolist()
    [0.0, 2.0]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y))


def pearson(x: np.ndarray, n: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Pearson chi-square of periods around their pooled rate, from sums: x = sum x_t, n = sum n_t,
    q = sum x_t^2 / n_t. (sum (x_t - n_t p)^2 / (n_t p (1 - p)) = (q - x^2 / n) / (p (1 - p)).)

    >>> round(float(pearson(np.array([10.0]), np.array([40.0]), np.array([2 ** 2 / 20 + 8 ** 2 / 20]))[0]), 6)
    4.8
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        value = (q - x * x / n) / (p * (1 - p))
    return np.where((n > 0) & (p > 0) & (p < 1), np.maximum(value, 0.0), 0.0)


def scan(x: np.ndarray, n: np.ndarray, support: Support, impact_scale: np.ndarray | None = None,
         progress=None) -> ScanResult:
    """Scan every series (rows of ``x`` and ``n``, shape (series, periods)) for its best window.

    ``impact_scale`` divides a series' impact (e.g. events per path, to count an event-rate change
    in paths); 1 by default. ``progress(fraction)`` hears after each chunk of series (and may raise
    ``progress.Cancelled``).
    """
    series, periods = x.shape
    starts, ends = windows(periods, support.min_start)
    scale = np.ones(series) if impact_scale is None else impact_scale
    out = ScanResult(start=np.full(series, -1), end=np.full(series, -1), statistic=np.zeros(series),
                     dispersion=np.ones(series), p_value=np.ones(series), windows=len(starts),
                     tested=np.zeros(series, dtype=bool))
    if not len(starts):
        return out
    for first in range(0, series, CHUNK):
        report(progress, first / series)
        rows = slice(first, first + CHUNK)
        _scan_chunk(x[rows].astype(float), n[rows].astype(float), starts, ends, support, scale[rows], out, first)
    return out


def _scan_chunk(x, n, starts, ends, support: Support, scale, out: ScanResult, offset: int) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(n > 0, x * x / np.where(n > 0, n, 1), 0.0)
    zero = np.zeros((len(x), 1))
    cx, cn, cq = (np.concatenate([zero, np.cumsum(a, axis=1)], axis=1) for a in (x, n, q))
    total_x, total_n, total_q = cx[:, -1:], cn[:, -1:], cq[:, -1:]
    xw, nw, qw = (c[:, ends] - c[:, starts] for c in (cx, cn, cq))         # inside the window
    xo, no, qo = total_x - xw, total_n - nw, total_q - qw                  # outside it
    xb, nb = cx[:, starts], cn[:, starts]                                  # the baseline before it
    g = 2 * (log_likelihood(xw, nw) + log_likelihood(xo, no) - log_likelihood(total_x, total_n))
    observed = (n > 0).sum(axis=1)
    df = np.maximum(observed - 2, 1)[:, None]
    dispersion = np.maximum(1.0, (pearson(xw, nw, qw) + pearson(xo, no, qo)) / df)
    statistic = np.maximum(g, 0) / dispersion
    with np.errstate(divide="ignore", invalid="ignore"):
        before_rate = xb / nb
        impact = np.abs(xw - nw * before_rate) / scale[:, None]
        log_odds = _log_odds_ratio(xw, nw, xb, nb)
        edge = _edge_log_odds(cx, cn, starts, ends, support.edge_periods)
    threshold = np.log(support.min_odds_ratio)
    eligible = ((nw >= support.min_trials) & (nb >= support.min_trials) & (impact >= support.min_impact)
                & (np.abs(log_odds) >= threshold) & (np.abs(edge) >= threshold) & (np.sign(edge) == np.sign(log_odds)))
    tested = observed >= support.min_periods
    eligible &= tested[:, None]
    score = np.where(eligible, statistic, -1.0)
    best = score.argmax(axis=1)
    rows = np.arange(len(x))
    found = score[rows, best] >= 0
    index = offset + rows
    out.tested[index] = tested
    out.start[index] = np.where(found, starts[best], -1)
    out.end[index] = np.where(found, ends[best], -1)
    out.statistic[index] = np.where(found, statistic[rows, best], 0.0)
    out.dispersion[index] = np.where(found, dispersion[rows, best], 1.0)
    p = f_sf_one(statistic[rows, best], df[:, 0]) * len(starts)
    out.p_value[index] = np.where(found, np.minimum(p, 1.0), 1.0)


def _log_odds_ratio(x1, n1, x0, n0):
    """log of (x1 / (n1 - x1)) / (x0 / (n0 - x0)), each cell + 0.5 so that zeros stay finite."""
    return np.log((x1 + 0.5) / (n1 - x1 + 0.5)) - np.log((x0 + 0.5) / (n0 - x0 + 0.5))


def _edge_log_odds(cx, cn, starts, ends, periods: int):
    """The change across the window's start: its first ``periods`` against the ``periods`` just before.
    A drift (a share creeping from 21 % to 40 % over ten weeks) passes the whole-window test but
    not this one; an outage or a release does."""
    before = np.maximum(starts - periods, 0)
    inside = np.minimum(starts + periods, ends)
    return _log_odds_ratio(cx[:, inside] - cx[:, starts], cn[:, inside] - cn[:, starts],
                           cx[:, starts] - cx[:, before], cn[:, starts] - cn[:, before])


def best_window_near(x: np.ndarray, n: np.ndarray, start: int, end: int, slack: int,
                     keep_end: bool = False) -> tuple[int, int]:
    """The window [s, e) with s within ``slack`` of ``start`` and e within ``slack`` of ``end``
    (``end`` itself with ``keep_end``) where one rate inside and one outside fit best (largest
    likelihood ratio): a weekly window placed on the day it began and ended.

    >>> x = np.array([5, 5, 5, 1, 1, 1, 1, 5, 5, 5]); n = np.full(10, 10)
    >>> best_window_near(x, n, 2, 8, slack=2)
    (3, 7)
    """
    periods = len(x)
    starts = np.arange(max(start - slack, 1), min(start + slack, periods - 1) + 1)
    ends = np.array([end]) if keep_end else np.arange(max(end - slack, 1), min(end + slack, periods) + 1)
    s, e = np.meshgrid(starts, ends, indexing="ij")
    s, e = s.ravel(), e.ravel()
    valid = e > s
    s, e = s[valid], e[valid]
    cx, cn = np.concatenate([[0], np.cumsum(x)]), np.concatenate([[0], np.cumsum(n)])
    xw, nw = cx[e] - cx[s], cn[e] - cn[s]
    g = log_likelihood(xw, nw) + log_likelihood(cx[-1] - xw, cn[-1] - nw)
    best = int(np.argmax(g))
    return trim_empty(n, int(s[best]), int(e[best]), keep_end)


def trim_empty(n: np.ndarray, start: int, end: int, keep_end: bool = False) -> tuple[int, int]:
    """A window without the periods at its edges that have no trials (they fit either side equally):
    it starts, and unless ``keep_end`` ends, with data.

    >>> trim_empty(np.array([3, 0, 0, 4, 5, 0, 2]), 1, 6)
    (3, 5)
    """
    while start < end - 1 and n[start] == 0:
        start += 1
    while not keep_end and end > start + 1 and n[end - 1] == 0:
        end -= 1
    return start, end
