"""The p-values computed without scipy.stats (analysis.pvalues) against exact fractions and scipy."""
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from journey_explorer.analysis import pvalues


def exact_tail(x1: int, n1: int, x2: int, n2: int, greater: bool) -> float:
    """P(X >= x1) or P(X <= x1), X hypergeometric with the table's margins, as an exact fraction."""
    draws = x1 + x2
    support = range(max(0, draws - n2), min(n1, draws) + 1)
    ways = sum(math.comb(n1, k) * math.comb(n2, draws - k) for k in support if (k >= x1 if greater else k <= x1))
    return float(Fraction(ways, math.comb(n1 + n2, draws)))


def scipy_fisher(x1, n1, x2, n2, alternative):
    return float(stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative=alternative)[1])


def test_fisher_hand_checked():
    # 8 of 10 against 2 of 10: P(X >= 8) = (C(10,8)C(10,2) + C(10,9)C(10,1) + C(10,10)) / C(20,10)
    assert pvalues.fisher_greater(8, 10, 2, 10) == pytest.approx((45 * 45 + 10 * 10 + 1) / 184756, rel=1e-14)
    assert pvalues.fisher_less(2, 10, 8, 10) == pytest.approx((45 * 45 + 10 * 10 + 1) / 184756, rel=1e-14)
    assert pvalues.fisher_two_sided_p(3, 4, 1, 4) == pytest.approx(34 / 70, rel=1e-14)    # Lady tasting tea
    assert pvalues.fisher_two_sided_p(2, 4, 2, 4) == 1.0                                     # the most likely table
    for empty in [(0, 0, 3, 5), (0, 4, 0, 5), (4, 4, 5, 5)]:                                 # a row or column empty
        assert pvalues.fisher_greater(*empty) == pvalues.fisher_less(*empty) == 1.0


@pytest.mark.parametrize("scale", [12, 150, 1_000])
def test_fisher_tails_match_exact_fractions(scale):
    rng = np.random.default_rng(scale)
    for _ in range(25):
        n1, n2 = (int(v) for v in rng.integers(1, scale, 2))
        rate = rng.uniform(0, 1)
        x1, x2 = int(rng.binomial(n1, rate)), int(rng.binomial(n2, rate * rng.uniform(0.6, 1.4) % 1))
        assert pvalues.fisher_greater(x1, n1, x2, n2) == pytest.approx(exact_tail(x1, n1, x2, n2, True),
                                                                       rel=1e-13, abs=1e-300)
        assert pvalues.fisher_less(x1, n1, x2, n2) == pytest.approx(exact_tail(x1, n1, x2, n2, False),
                                                                    rel=1e-13, abs=1e-300)


def test_fisher_matches_scipy_on_random_tables():
    # scipy (boost) itself drifts by up to ~1e-11 relatively at counts near 1e5; ours stays ~1e-14 of
    # the exact fraction (above), so the comparison with scipy is looser for large tables.
    rng = np.random.default_rng(7)
    for scale, tolerance in [(8, 1e-13), (60, 1e-13), (800, 1e-12), (200_000, 1e-10)]:
        for _ in range(40):
            n1, n2 = (int(v) for v in rng.integers(0, scale, 2))
            rate = rng.uniform(0, 1)
            x1, x2 = int(rng.binomial(n1, rate)), int(rng.binomial(n2, min(1.0, rate * rng.uniform(0.5, 1.5))))
            for ours, alternative in [(pvalues.fisher_greater, "greater"), (pvalues.fisher_less, "less"),
                                      (pvalues.fisher_two_sided_p, "two-sided")]:
                assert ours(x1, n1, x2, n2) == pytest.approx(scipy_fisher(x1, n1, x2, n2, alternative),
                                                             rel=tolerance, abs=1e-300), (x1, n1, x2, n2, alternative)


def test_hypergeom_pmf_and_tails_add_up():
    good, bad, draws = 40, 25, 30
    pmf = [pvalues.hypergeom_pmf(k, good, bad, draws) for k in range(draws + 1)]
    assert sum(pmf) == pytest.approx(1.0, rel=1e-14)
    assert pvalues.hypergeom_pmf(17, good, bad, draws) == pytest.approx(
        math.comb(40, 17) * math.comb(25, 13) / math.comb(65, 30), rel=1e-14)
    for x in range(draws + 1):
        assert pvalues.hypergeom_cdf(x, good, bad, draws) == pytest.approx(sum(pmf[:x + 1]), rel=1e-13)
        assert pvalues.hypergeom_cdf(x, good, bad, draws, lower=False) == pytest.approx(sum(pmf[x + 1:]),
                                                                                        rel=1e-12, abs=1e-300)


def test_normal_sf_matches_scipy():
    z = np.concatenate([np.linspace(-8, 8, 801), [-30.0, -1e-9, 0.0, 1e-9, 12.5, 30.0]])
    ours = np.array([pvalues.normal_sf(v) for v in z])
    assert np.allclose(ours, stats.norm.sf(z), rtol=1e-13, atol=0)
    assert pvalues.normal_sf(1.959963984540054) == pytest.approx(0.025, rel=1e-14)


def test_mann_whitney_matches_scipy_with_ties_zeros_and_large_samples():
    rng = np.random.default_rng(3)
    samples = [(rng.integers(0, 5, 40).astype(float), rng.integers(0, 6, 50).astype(float)),   # many ties
               (np.zeros(20), np.zeros(30)),                                                   # all tied
               (np.r_[np.zeros(10), rng.exponential(1, 30)], rng.exponential(1.3, 25)),       # zeros
               (rng.exponential(1, 3000), rng.exponential(1.05, 4000)),                        # large
               (rng.normal(0, 1, 12), rng.normal(0.5, 1, 9)),                                  # just above 8
               (np.array([1.0, 2.0, 2.0]), np.array([0.5, 2.0, 3.0, 4.0])),                    # small with ties
               (np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0]))]                              # small: exact
    for x, y in samples:
        u, p = pvalues.mann_whitney_greater(x, y)
        expected = stats.mannwhitneyu(x, y, alternative="greater")
        assert u == expected.statistic
        assert p == pytest.approx(expected.pvalue, rel=1e-13, abs=1e-300) or (np.isnan(p) and np.isnan(expected.pvalue))


def test_f_sf_one_and_incomplete_beta_match_scipy():
    from scipy import special
    rng = np.random.default_rng(11)
    df = rng.integers(1, 120, 3000).astype(float)
    statistic = np.r_[rng.exponential(3, 1500), rng.exponential(80, 1500)]
    assert np.allclose(pvalues.f_sf_one(statistic, df), stats.f.sf(statistic, 1, df), rtol=1e-11, atol=1e-300)
    assert pvalues.f_sf_one(np.array([0.0, np.inf]), np.array([4.0, 4.0])).tolist() == [1.0, 0.0]
    # F(1, 4) = 4 is |T| = 2 with 4 degrees of freedom: tan(theta) = 2 / sqrt(4), theta = 45 degrees, and
    # P(|T| <= t) = sin(theta) (1 + cos(theta)^2 / 2) = sqrt(2) / 2 * 5 / 4
    assert pvalues.f_sf_one(np.array([4.0]), np.array([4.0]))[0] == pytest.approx(1 - 5 * math.sqrt(2) / 8, rel=1e-13)
    a, b, x = rng.uniform(0.1, 60, 500), rng.uniform(0.1, 60, 500), rng.uniform(0, 1, 500)
    assert np.allclose(pvalues.regularized_beta(a, b, x), special.betainc(a, b, x), rtol=1e-11, atol=1e-300)
    assert pvalues.regularized_beta(np.array([2.0]), np.array([3.0]), np.array([0.4]))[0] == pytest.approx(0.5248, rel=1e-13)
