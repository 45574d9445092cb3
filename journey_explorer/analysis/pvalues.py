"""The few p-values the analyses need, without ``scipy.stats`` (importing it costs ~1 s of a
command-line run, about half of a whole ``stuck`` at 1M events).

Each function follows the algorithm scipy uses for the same test, so its p-values equal scipy's to
~1e-13 relatively (tests/analysis/test_pvalues.py checks against scipy on hand-checked and random
tables, with ties, zeros and large counts):

- ``normal_sf``: ``scipy.stats.norm.sf``, as scipy's ``ndtr`` (erf near 0, erfc in the tails).
- ``fisher_greater`` / ``fisher_less`` / ``fisher_two_sided_p``: ``scipy.stats.fisher_exact``. The
  hypergeometric tails are summed the way R's ``phyper`` does (the smaller tail from its largest
  term down, never 1 - a sum), each term from Loader's saddle-point binomial densities, which keep
  their relative accuracy at any count (``lgamma`` of a count near 1e5 already loses ~1e-10).
- ``mann_whitney_greater``: ``scipy.stats.mannwhitneyu(..., alternative="greater")``: average
  ranks, tie correction and continuity correction with the normal tail; scipy itself only where it
  would use its exact distribution (a sample of 8 or fewer and no ties).
"""
from __future__ import annotations

import math

import numpy as np

SQRT_HALF = math.sqrt(0.5)
LN_SQRT_2PI = 0.5 * math.log(2 * math.pi)
EPSILON = float(np.finfo(float).eps)
FISHER_TIE = 1e-14          # scipy's: a table this close to as likely as the observed one is as extreme


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z (``scipy.stats.norm.sf``, which is scipy's ``ndtr(-z)``).

    >>> round(normal_sf(1.959963984540054), 6), normal_sf(0.0)
    (0.025, 0.5)
    """
    x = -z * SQRT_HALF
    if abs(x) < SQRT_HALF:
        return 0.5 + 0.5 * math.erf(x)
    tail = 0.5 * math.erfc(abs(x))
    return 1.0 - tail if x > 0 else tail


# --- hypergeometric probabilities (R's dhyper / phyper, Loader's dbinom_raw) ----------------------


def _stirling_error(n: float) -> float:
    """log(n!) - log(sqrt(2 pi n) (n/e)^n): Stirling's formula's error, exact for small n."""
    if n <= 15:
        return 0.0 if n == 0 else math.lgamma(n + 1) - (n + 0.5) * math.log(n) + n - LN_SQRT_2PI
    nn = n * n
    if n > 500:
        return (1 / 12 - 1 / 360 / nn) / n
    if n > 80:
        return (1 / 12 - (1 / 360 - 1 / 1260 / nn) / nn) / n
    if n > 35:
        return (1 / 12 - (1 / 360 - (1 / 1260 - 1 / 1680 / nn) / nn) / nn) / n
    return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / 1188 / nn) / nn) / nn) / nn) / n


def _deviance(x: float, mean: float) -> float:
    """x log(x / mean) + mean - x, without its cancellation when x is close to the mean."""
    if abs(x - mean) < 0.1 * (x + mean):
        v = (x - mean) / (x + mean)
        total = (x - mean) * v
        term = 2 * x * v
        v *= v
        for j in range(1, 1000):
            term *= v
            step = total + term / (2 * j + 1)
            if step == total:
                return step
            total = step
        return total
    return x * math.log(x / mean) + mean - x


def _binomial_pmf(x: int, n: int, p: float, q: float) -> float:
    """P(Binomial(n, p) = x) with q = 1 - p given separately (Loader's saddle-point form)."""
    if x == 0:
        if n == 0:
            return 1.0
        return math.exp(-_deviance(n, n * q) - n * p if p < 0.1 else n * math.log(q))
    if x == n:
        return math.exp(-_deviance(n, n * p) - n * q if q < 0.1 else n * math.log(p))
    log_core = (_stirling_error(n) - _stirling_error(x) - _stirling_error(n - x)
                - _deviance(x, n * p) - _deviance(n - x, n * q))
    log_factor = math.log(2 * math.pi) + math.log(x) + math.log1p(-x / n)
    return math.exp(log_core - 0.5 * log_factor)


def hypergeom_pmf(x: int, good: int, bad: int, draws: int) -> float:
    """P(X = x) for X the good items among ``draws`` taken from ``good`` + ``bad`` without replacement.

    >>> round(hypergeom_pmf(1, 2, 3, 2), 12)     # 2 * 3 of the 10 pairs
    0.6
    """
    if x < 0 or x > good or x > draws or draws - x > bad:
        return 0.0
    if draws == 0:
        return 1.0
    total = good + bad
    p, q = draws / total, (total - draws) / total
    return (_binomial_pmf(x, good, p, q) * _binomial_pmf(draws - x, bad, p, q)
            / _binomial_pmf(draws, total, p, q))


def hypergeom_cdf(x: int, good: int, bad: int, draws: int, lower: bool = True) -> float:
    """P(X <= x) (``lower``) or P(X > x): the smaller tail summed from its largest term outwards.

    >>> round(hypergeom_cdf(0, 2, 3, 2), 12), round(hypergeom_cdf(0, 2, 3, 2, lower=False), 12)
    (0.3, 0.7)
    """
    if x * (good + bad) > draws * good:              # x is above the mean: sum the upper tail instead
        good, bad, x, lower = bad, good, draws - x - 1, not lower
    if x < 0 or x < draws - bad:
        return 0.0 if lower else 1.0
    if x >= good or x >= draws:
        return 1.0 if lower else 0.0
    tail = hypergeom_pmf(x, good, bad, draws) * _tail_sum(x, good, bad, draws)
    return tail if lower else 0.5 - tail + 0.5


def _tail_sum(x: int, good: int, bad: int, draws: int) -> float:
    """Sum over k <= x of P(X = k) / P(X = x), by the ratio of neighbouring terms, a block at a time."""
    total, term = 1.0, 1.0
    while x > 0:
        k = np.arange(x, max(x - 1024, 0), -1, dtype=float)
        terms = term * np.cumprod(k * (bad - draws + k) / (draws + 1 - k) / (good + 1 - k))
        total += float(terms.sum())
        term, x = float(terms[-1]), x - len(k)
        if term < EPSILON * total:
            break
    return total


def _fisher_margins(x1: int, n1: int, x2: int, n2: int) -> tuple[int, int, int] | None:
    """The table [[x1, n1 - x1], [x2, n2 - x2]] as scipy reads it: x1 is hypergeometric with
    (good, bad, draws) = (n1, n2, x1 + x2). None when a row or column is empty (scipy: p = 1)."""
    draws = x1 + x2
    return None if 0 in (n1, n2, draws, n1 + n2 - draws) else (n1, n2, draws)


def fisher_greater(x1: int, n1: int, x2: int, n2: int) -> float:
    """One-sided Fisher exact p-value that x1/n1 is larger than x2/n2 (``scipy.stats.fisher_exact``
    of [[x1, n1 - x1], [x2, n2 - x2]], alternative="greater").

    >>> round(fisher_greater(8, 10, 2, 10), 4)
    0.0115
    """
    margins = _fisher_margins(x1, n1, x2, n2)
    return 1.0 if margins is None else hypergeom_cdf(x1 - 1, *margins, lower=False)


def fisher_less(x1: int, n1: int, x2: int, n2: int) -> float:
    """One-sided Fisher exact p-value that x1/n1 is smaller than x2/n2 (alternative="less").

    >>> round(fisher_less(2, 10, 8, 10), 4)
    0.0115
    """
    margins = _fisher_margins(x1, n1, x2, n2)
    return 1.0 if margins is None else hypergeom_cdf(x1, *margins)


def fisher_two_sided_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher exact p-value (``scipy.stats.fisher_exact``'s default), found as scipy finds
    it: the tail beyond the observed count plus the other tail from where its tables become no
    more likely than the observed one (a binary search from the mode).

    >>> round(fisher_two_sided_p(3, 4, 1, 4), 6)     # Lady tasting tea
    0.485714
    """
    margins = _fisher_margins(x1, n1, x2, n2)
    if margins is None:
        return 1.0
    good, bad, draws = margins

    def pmf(k: int) -> float:
        return hypergeom_pmf(k, good, bad, draws)

    mode = int((draws + 1) * (good + 1) / (good + bad + 2))
    observed, most_likely = pmf(x1), pmf(mode)
    if abs(observed - most_likely) / max(observed, most_likely) <= FISHER_TIE:
        return 1.0
    limit = observed * (1 + FISHER_TIE)
    if x1 < mode:
        lower_tail = hypergeom_cdf(x1, good, bad, draws)
        if pmf(draws) > limit:
            return lower_tail
        edge = _search(lambda k: -pmf(k), -limit, mode, draws)
        return min(lower_tail + hypergeom_cdf(edge, good, bad, draws, lower=False), 1.0)
    upper_tail = hypergeom_cdf(x1 - 1, good, bad, draws, lower=False)
    if pmf(0) > limit:
        return upper_tail
    edge = _search(pmf, limit, 0, mode)
    return min(upper_tail + hypergeom_cdf(edge, good, bad, draws), 1.0)


def _search(rising, value: float, low: int, high: int) -> int:
    """scipy's binary search: k in [low, high] with rising(k) <= value < rising(k + 1)."""
    while low < high:
        middle = low + (high - low) // 2
        found = rising(middle)
        if found < value:
            low = middle + 1
        elif found > value:
            high = middle - 1
        else:
            return middle
    return low if rising(low) <= value else low - 1


# --- Mann-Whitney U -------------------------------------------------------------------------------


def mann_whitney_greater(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(U of ``x``, one-sided p-value that ``x`` tends to be larger than ``y``) as
    ``scipy.stats.mannwhitneyu(x, y, alternative="greater")`` with its default method: the normal
    approximation with tie and continuity corrections, or scipy's exact distribution for a sample
    of 8 or fewer without ties.

    >>> mann_whitney_greater(np.arange(10.0, 20.0), np.arange(10.0))[0]
    100.0
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n1, n2 = len(x), len(y)
    values = np.concatenate([x, y])
    if np.isnan(values).any():
        return float("nan"), float("nan")
    # Tied values share their average rank, so the order among them does not matter: numpy's fastest
    # sort, and the ranks summed where x's values landed (half-integers: the sum is exact in any order).
    order = np.argsort(values)
    ordered = values[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]]
    first = np.flatnonzero(new)
    ties = np.diff(np.r_[first, len(values)]).astype(float)
    average = first + (ties + 1) / 2                              # each distinct value's rank, from 1
    rank_sum = average[np.cumsum(new.astype(np.int64))[order < n1] - 1].sum()     # int64: the sum lets go of the GIL
    u = float(rank_sum - n1 * (n1 + 1) / 2)
    if (n1 <= 8 or n2 <= 8) and not (ties > 1).any():
        from scipy import stats  # only here: scipy's exact distribution of U
        return u, float(stats.mannwhitneyu(x, y, alternative="greater").pvalue)
    n = n1 + n2
    spread = np.sqrt(n1 * n2 / 12 * ((n + 1) - (ties ** 3 - ties).sum() / (n * (n - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = float((u - n1 * n2 / 2 - 0.5) / spread)
    return u, min(max(normal_sf(z), 0.0), 1.0)


# --- the F distribution with one numerator degree of freedom ----------------------------------------


def f_sf_one(statistic: np.ndarray, df: np.ndarray) -> np.ndarray:
    """P(F(1, df) > statistic) (``scipy.stats.f.sf(statistic, 1, df)``): the regularized incomplete
    beta function I_x(df / 2, 1 / 2) at x = df / (df + statistic).

    >>> f_sf_one(np.array([0.0, 4.0]), np.array([3.0, 1e6])).round(4).tolist()   # F(1, inf) = chi2(1)
    [1.0, 0.0455]
    """
    statistic, df = np.broadcast_arrays(np.maximum(np.asarray(statistic, dtype=float), 0.0),
                                        np.asarray(df, dtype=float))
    return regularized_beta(df / 2, np.full(statistic.shape, 0.5), df / (df + statistic))


def regularized_beta(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """I_x(a, b), elementwise: the continued fraction (modified Lentz) on the side of x where it
    converges fast, I_x(a, b) = 1 - I_(1-x)(b, a) on the other (Numerical Recipes' betai).

    >>> float(regularized_beta(np.array([2.0]), np.array([3.0]), np.array([0.4]))[0]).__round__(12)   # 0.5248
    0.5248
    """
    a, b, x = (np.array(v, dtype=float) for v in np.broadcast_arrays(a, b, x))
    with np.errstate(divide="ignore", invalid="ignore"):
        front = np.exp(_log_gamma(a + b) - _log_gamma(a) - _log_gamma(b) + a * np.log(x) + b * np.log1p(-x))
        out = np.full(x.shape, np.nan)
        direct = x < (a + 1) / (a + b + 2)
        out[direct] = front[direct] * _beta_fraction(a[direct], b[direct], x[direct]) / a[direct]
        other = ~direct & ~np.isnan(x)
        out[other] = 1 - front[other] * _beta_fraction(b[other], a[other], 1 - x[other]) / b[other]
    return out


def _log_gamma(values: np.ndarray) -> np.ndarray:
    """math.lgamma elementwise, once per distinct value (degrees of freedom repeat)."""
    distinct, inverse = np.unique(values, return_inverse=True)
    return np.array([math.lgamma(v) if v > 0 else math.nan for v in distinct.tolist()])[inverse.reshape(values.shape)]


def _beta_fraction(a: np.ndarray, b: np.ndarray, x: np.ndarray, steps: int = 300) -> np.ndarray:
    """The continued fraction of the incomplete beta function (Numerical Recipes' betacf), all
    elements at once; an element leaves the loop once its factor is 1 to machine precision."""
    tiny = 1e-300

    def floor(v):
        return np.where(np.abs(v) < tiny, tiny, v)

    a, b, x = a.ravel(), b.ravel(), x.ravel()
    c = np.ones_like(x)
    d = 1 / floor(1 - (a + b) * x / (a + 1))
    h = d.copy()
    active = np.arange(len(x))
    for m in range(1, steps + 1):
        if not len(active):
            break
        aa, bb, xx, cc, dd = a[active], b[active], x[active], c[active], d[active]
        factor = np.ones(len(active))
        for numerator in (m * (bb - m) * xx / ((aa + 2 * m - 1) * (aa + 2 * m)),
                          -(aa + m) * (aa + bb + m) * xx / ((aa + 2 * m) * (aa + 2 * m + 1))):
            dd = 1 / floor(1 + numerator * dd)
            cc = floor(1 + numerator / cc)
            factor = dd * cc
            h[active] *= factor
        c[active], d[active] = cc, dd
        active = active[~(np.abs(factor - 1) < EPSILON)]
    return h.reshape(np.shape(x))
