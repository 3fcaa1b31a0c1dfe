"""Checks harness.statistics.stats against known values: textbook examples, closed forms,
published tables and brute-force enumeration -- never against itself."""
import itertools
import math

import numpy as np
import pytest
from scipy import stats

from harness.spec import CLAIM_ALPHA
from harness.statistics.stats import binomial_rate, binomial_seeds_needed, clopper_pearson, fisher_exact, mann_whitney, newcombe_diff_ci


def test_alpha():
    assert CLAIM_ALPHA == 0.01


# ---------------------------------------------------------------- binomial

def test_binomial_rate_3_of_10():
    # P(X <= 3 | n=10, p=1/2) = (1 + 10 + 45 + 120) / 1024
    two = binomial_rate(3, 10, 0.5, "two-sided")
    assert two.test == "exact binomial"
    assert two.p_value == pytest.approx(352 / 1024, rel=1e-12)
    assert binomial_rate(3, 10, 0.5, "less").p_value == pytest.approx(176 / 1024, rel=1e-12)
    assert binomial_rate(3, 10, 0.5, "greater").p_value == pytest.approx(968 / 1024, rel=1e-12)
    assert two.effect == 0.3


def test_binomial_rate_ci_is_two_sided_99_for_every_alternative():
    expected = clopper_pearson(3, 10, 0.99)
    for alt in ("two-sided", "less", "greater"):
        r = binomial_rate(3, 10, 0.5, alt)
        assert (r.ci_low, r.ci_high) == pytest.approx(expected)


def test_clopper_pearson_closed_forms():
    # x = 0: upper = 1 - (alpha/2)^(1/n); x = n: lower = (alpha/2)^(1/n).
    assert clopper_pearson(0, 10, 0.99) == pytest.approx((0.0, 1 - 0.005 ** 0.1), rel=1e-9)
    assert clopper_pearson(10, 10, 0.99) == pytest.approx((0.005 ** 0.1, 1.0), rel=1e-9)
    assert clopper_pearson(0, 10, 0.95) == pytest.approx((0.0, 1 - 0.025 ** 0.1), rel=1e-9)


def test_clopper_pearson_solves_its_defining_tail_equations():
    low, high = clopper_pearson(3, 10, 0.99)
    assert stats.binom.sf(2, 10, low) == pytest.approx(0.005, rel=1e-6)   # P(X >= 3 | low)
    assert stats.binom.cdf(3, 10, high) == pytest.approx(0.005, rel=1e-6)  # P(X <= 3 | high)


# ---------------------------------------------------------------- Fisher / Newcombe

def test_fisher_lady_tasting_tea():
    # 3 of 4 milk-first cups right vs 1 of 4 wrongly called: P = 17/70 one-sided.
    r = fisher_exact(3, 4, 1, 4, alternative="greater")
    assert r.p_value == pytest.approx(17 / 70, rel=1e-12)
    assert fisher_exact(3, 4, 1, 4).p_value == pytest.approx(34 / 70, rel=1e-12)
    assert r.statistic == pytest.approx(9.0)  # odds ratio (3*3)/(1*1)
    assert r.effect == 0.5 and r.effect_name == "rate difference"
    assert (r.ci_low, r.ci_high) == pytest.approx(newcombe_diff_ci(3, 4, 1, 4, 0.99))


@pytest.mark.parametrize("counts, expected", [
    # Newcombe (1998) Stat Med 17:873, Table II, method 10, 95% intervals.
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
])
def test_newcombe_matches_published_table(counts, expected):
    assert newcombe_diff_ci(*counts, confidence=0.95) == pytest.approx(expected, abs=6e-5)


# ---------------------------------------------------------------- Mann-Whitney

def _exact_mw(x, y):
    """U1 and the exact two-sided p by enumerating every relabelling."""
    u = lambda a, b: sum((ai > bi) + 0.5 * (ai == bi) for ai in a for bi in b)
    pooled, n1 = list(x) + list(y), len(x)
    u_obs = u(x, y)
    dist = []
    for idx in itertools.combinations(range(len(pooled)), n1):
        a = [pooled[i] for i in idx]
        b = [pooled[i] for i in range(len(pooled)) if i not in idx]
        dist.append(u(a, b))
    dist = np.array(dist)
    p = 2 * min((dist <= u_obs).mean(), (dist >= u_obs).mean())
    return u_obs, min(1.0, p)


def test_mann_whitney_exact_small_sample():
    x, y = [1.1, 3.4, 5.0, 6.2], [0.5, 2.2, 2.9, 4.1, 0.7]
    u, p = _exact_mw(x, y)
    r = mann_whitney(x, y)
    assert r.statistic == u == 16
    assert r.p_value == pytest.approx(p, rel=1e-12)
    assert r.effect == pytest.approx(16 / 20)


def test_mann_whitney_one_sided_exact():
    x, y = [3.0, 4.0, 5.0], [0.0, 1.0, 2.0]
    # x beats y in the single most extreme of C(6,3) = 20 labellings.
    assert mann_whitney(x, y, "greater").p_value == pytest.approx(1 / 20)


def test_mann_whitney_infinities_rank_as_extremes():
    r = mann_whitney([math.inf, math.inf, 2.0], [0.0, 1.0, -math.inf])
    assert r.effect == 1.0
    assert mann_whitney([5.0, 5.0], [5.0, 5.0]).effect == 0.5  # ties count half


# ---------------------------------------------------------------- planning

def _brute_seeds(p_true, p0, alternative, alpha=CLAIM_ALPHA, power=0.8, n_max=60):
    for n in range(1, n_max + 1):
        rejects = [k for k in range(n + 1)
                   if stats.binomtest(k, n, p0, alternative).pvalue < alpha]
        if stats.binom.pmf(rejects, n, p_true).sum() >= power:
            return n
    return None


@pytest.mark.parametrize("p_true, p0, alternative", [
    (0.9, 0.5, "greater"), (0.2, 0.5, "less"), (0.98, 0.8, "greater"), (0.02, 0.3, "less"),
])
def test_binomial_seeds_needed_matches_brute_force(p_true, p0, alternative):
    expected = _brute_seeds(p_true, p0, alternative)
    assert expected is not None
    assert binomial_seeds_needed(p_true, p0, alternative) == expected


def test_binomial_seeds_needed_closed_form_and_limits():
    # p_true = 1: power is 1 once n straight successes reject, 0.5^n < 0.01 -> n = 7
    assert binomial_seeds_needed(1.0, 0.5, "greater") == 7
    assert binomial_seeds_needed(0.4, 0.5, "greater") is None  # wrong direction
    assert binomial_seeds_needed(0.6, 0.5, "greater", n_max=20) is None
    with pytest.raises(ValueError):
        binomial_seeds_needed(0.9, 0.5, "two-sided")


def test_binomial_seeds_needed_monotone_in_effect():
    ns = [binomial_seeds_needed(p, 0.5, "greater") for p in (0.65, 0.7, 0.8, 0.9, 0.95)]
    assert ns == sorted(ns, reverse=True) and ns[0] > ns[-1]


def test_t_seeds_needed_matches_the_normal_approximation_and_its_limits():
    from harness.statistics.stats import t_seeds_needed

    # One-sided t at alpha 0.05, power 0.8, effect 0.5 sd: 26.1 by the t (25 by the normal approximation).
    assert t_seeds_needed(0.05, 0.1, alpha=0.05) == 27
    z = stats.norm.ppf(0.95) + stats.norm.ppf(0.8)
    assert abs(t_seeds_needed(0.01, 0.1, alpha=0.05) - (z * 10) ** 2) < 3
    assert t_seeds_needed(0.0, 0.1) is None and t_seeds_needed(-0.1, 0.1) is None


# ---------------------------------------------------------------- NaN policy

NAN = float("nan")


@pytest.mark.parametrize("call", [
    lambda: mann_whitney([1.0, NAN], [1.0, 2.0]),
    lambda: mann_whitney([1.0, 2.0], [NAN, 2.0]),
], ids=["mw-x", "mw-y"])
def test_nan_raises(call):
    with pytest.raises(ValueError, match="NaN"):
        call()
