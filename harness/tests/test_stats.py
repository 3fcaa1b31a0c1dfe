"""Checks harness.stats against known values: textbook examples, closed forms,
published tables and brute-force enumeration -- never against itself."""
import itertools
import math

import numpy as np
import pytest
from scipy import stats

from harness.stats import (
    ALPHA, binomial_rate, binomial_seeds_needed, bootstrap_median_ci, brown_forsythe,
    clopper_pearson, fisher_exact, holm, kruskal_holm, mann_whitney,
    mann_whitney_seeds_needed, newcombe_diff_ci, tost_one_sample, tost_two_sample,
)


def test_alpha():
    assert ALPHA == 0.01


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


# ---------------------------------------------------------------- Holm / Kruskal

def test_holm_literal_example():
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1 -> max(0.06, 0.04)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_edge_cases():
    assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])
    assert holm([0.2]) == [0.2]
    assert holm([]) == []
    with pytest.raises(ValueError):
        holm([0.1, float("nan")])


def test_kruskal_h_matches_textbook_formula():
    groups = {"a": [2.9, 3.0, 2.5, 2.6, 3.2], "b": [3.8, 2.7, 4.0, 2.4],
              "c": [2.8, 3.4, 3.7, 2.2, 2.0]}
    pooled = np.concatenate(list(groups.values()))
    ranks = np.argsort(np.argsort(pooled)) + 1  # no ties, so ranks are exact
    n = pooled.size
    sizes = [len(v) for v in groups.values()]
    rank_sums = np.split(ranks, np.cumsum(sizes)[:-1])
    h = 12 / (n * (n + 1)) * sum(r.sum() ** 2 / len(r) for r in rank_sums) - 3 * (n + 1)
    res = kruskal_holm(groups)
    assert res.omnibus.statistic == pytest.approx(h, rel=1e-12)
    assert res.omnibus.p_value == pytest.approx(stats.chi2.sf(h, 2), rel=1e-12)
    assert set(res.pairwise) == {("a", "b"), ("a", "c"), ("b", "c")}


def test_kruskal_pairwise_holm_by_hand():
    groups = {"lo": [1.0, 2.0, 3.0, 4.0], "mid": [3.5, 5.0, 6.0, 7.0], "hi": [10.0, 11.0, 12.0, 13.0]}
    res = kruskal_holm(groups)
    raw = {k: _exact_mw(groups[k[0]], groups[k[1]])[1] for k in res.pairwise}
    # exact two-sided: U = 1 for lo-mid (4 > 3.5) -> 4/70; U = 0 otherwise -> 2/70
    assert raw == pytest.approx({("lo", "mid"): 4 / 70, ("lo", "hi"): 2 / 70, ("mid", "hi"): 2 / 70})
    # Holm by hand: 3 * 2/70 = 6/70, then max(6/70, 2 * 2/70), then max(6/70, 1 * 4/70)
    for k, pr in res.pairwise.items():
        assert pr.result.p_value == pytest.approx(raw[k])
        assert pr.p_holm == pytest.approx(6 / 70)


def test_kruskal_all_identical_is_no_evidence():
    res = kruskal_holm({"a": [1.0, 1.0], "b": [1.0, 1.0]})
    assert res.omnibus.p_value == 1.0 and res.omnibus.statistic == 0.0


# ---------------------------------------------------------------- Brown-Forsythe

def test_brown_forsythe_is_anova_on_median_deviations():
    rng = np.random.default_rng(1)
    groups = [rng.normal(0, 1, 12), rng.normal(0, 3, 15), rng.exponential(2, 9)]
    expected = stats.f_oneway(*[np.abs(g - np.median(g)) for g in groups])
    r = brown_forsythe(*groups)
    assert r.statistic == pytest.approx(expected.statistic, rel=1e-10)
    assert r.p_value == pytest.approx(expected.pvalue, rel=1e-10)
    assert r.effect is None


def test_brown_forsythe_iqr_ratio():
    # IQRs (linear interpolation): [1..5] -> 4 - 2 = 2, [2,4,..,10] -> 8 - 4 = 4
    assert brown_forsythe([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]).effect == pytest.approx(0.5)


# ---------------------------------------------------------------- TOST

X = np.array([4.8, 5.3, 5.1, 4.9, 5.6, 4.7, 5.2, 5.0, 5.4, 4.6])


def test_tost_one_sample_by_hand():
    n, m, s = X.size, X.mean(), X.std(ddof=1)
    se, df = s / math.sqrt(n), n - 1
    low, high = 4.7, 5.6
    p_low = stats.t.sf((m - low) / se, df)
    p_high = stats.t.cdf((m - high) / se, df)
    r = tost_one_sample(X, low, high)
    assert r.p_value == pytest.approx(max(p_low, p_high), rel=1e-10)
    assert r.effect == pytest.approx(m)
    half = stats.t.ppf(1 - ALPHA, df) * se  # (1 - 2 alpha) two-sided interval
    assert (r.ci_low, r.ci_high) == pytest.approx((m - half, m + half))


def test_tost_one_sample_centered_and_outside():
    assert tost_one_sample(X, 0.0, 10.0).p_value < 1e-8
    assert tost_one_sample(X, 5.2, 8.0).p_value > 0.5


def test_tost_one_sample_zero_variance_decided_exactly():
    assert tost_one_sample([2.0, 2.0, 2.0], 1.0, 3.0).p_value == 0.0
    r = tost_one_sample([3.0, 3.0], 1.0, 3.0)
    assert r.p_value == 1.0 and "zero variance" in r.detail


def test_tost_two_sample_welch_by_hand():
    y = np.array([5.2, 5.5, 4.9, 5.8, 5.1, 5.6])
    margin = 0.6
    v1, v2 = X.var(ddof=1) / X.size, y.var(ddof=1) / y.size
    se = math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1 ** 2 / (X.size - 1) + v2 ** 2 / (y.size - 1))
    d = X.mean() - y.mean()
    p_low = stats.t.sf((d + margin) / se, df)
    p_high = stats.t.cdf((d - margin) / se, df)
    r = tost_two_sample(X, y, margin)
    assert r.p_value == pytest.approx(max(p_low, p_high), rel=1e-10)
    assert r.effect == pytest.approx(d)
    half = stats.t.ppf(1 - ALPHA, df) * se
    assert (r.ci_low, r.ci_high) == pytest.approx((d - half, d + half))


def test_tost_two_sample_zero_variance():
    assert tost_two_sample([1.0, 1.0], [1.2, 1.2], 0.5).p_value == 0.0
    assert tost_two_sample([1.0, 1.0], [2.0, 2.0], 0.5).p_value == 1.0


def test_tost_rejects_inf():
    with pytest.raises(ValueError):
        tost_one_sample([1.0, math.inf], 0.0, 2.0)


# ---------------------------------------------------------------- bootstrap

def test_bootstrap_median_ci_contains_median_and_is_deterministic():
    x = np.random.default_rng(3).normal(10, 2, 41)
    m, low, high = bootstrap_median_ci(x, n_resamples=2000, seed=7)
    assert m == np.median(x) and low <= m <= high
    assert bootstrap_median_ci(x, n_resamples=2000, seed=7) == (m, low, high)
    # a 99% interval of a median of 41 draws lies inside the sample's range
    assert x.min() < low < high < x.max()


def test_bootstrap_median_ci_degenerate_and_inf():
    assert bootstrap_median_ci([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    assert bootstrap_median_ci([math.inf] * 3) == (math.inf, math.inf, math.inf)
    x = [1.0, 2.0, 3.0, 4.0, 5.0, math.inf, math.inf, math.inf, math.inf]
    m, low, high = bootstrap_median_ci(x, n_resamples=2000, seed=0)
    assert m == 5.0 and 1.0 <= low <= 5.0 and high == math.inf
    assert bootstrap_median_ci(x, n_resamples=2000, seed=0) == (m, low, high)


# ---------------------------------------------------------------- planning

def _brute_seeds(p_true, p0, alternative, alpha=ALPHA, power=0.8, n_max=60):
    for n in range(1, n_max + 1):
        rejects = [k for k in range(n + 1)
                   if stats.binomtest(k, n, p0, alternative).pvalue < alpha]
        if stats.binom.pmf(rejects, n, p_true).sum() >= power:
            return n
    return None


@pytest.mark.parametrize("p_true, p0, alternative", [
    (0.9, 0.5, "greater"), (0.9, 0.5, "two-sided"), (0.2, 0.5, "less"),
    (0.75, 0.4, "two-sided"), (0.98, 0.8, "greater"),
])
def test_binomial_seeds_needed_matches_brute_force(p_true, p0, alternative):
    expected = _brute_seeds(p_true, p0, alternative)
    assert expected is not None
    assert binomial_seeds_needed(p_true, p0, alternative) == expected


def test_binomial_seeds_needed_closed_form_and_limits():
    # p_true = 1: power is 1 once n straight successes reject, 0.5^n < 0.01 -> n = 7
    assert binomial_seeds_needed(1.0, 0.5, "greater") == 7
    assert binomial_seeds_needed(0.5, 0.5, "two-sided") is None
    assert binomial_seeds_needed(0.4, 0.5, "greater") is None  # wrong direction
    assert binomial_seeds_needed(0.6, 0.5, "greater", n_max=20) is None


def test_binomial_seeds_needed_monotone_in_effect():
    ns = [binomial_seeds_needed(p, 0.5, "greater") for p in (0.65, 0.7, 0.8, 0.9, 0.95)]
    assert ns == sorted(ns, reverse=True) and ns[0] > ns[-1]


def test_mann_whitney_seeds_needed_noether():
    z = 2.5758293035489004 + 0.8416212335729143  # z_.995 + z_.80
    n_total = z ** 2 / (12 * 0.25 * 0.25 ** 2)      # = 62.29 for P(X>Y) = 0.75
    assert math.ceil(n_total / 2) == 32
    assert mann_whitney_seeds_needed(0.75) == 32
    assert mann_whitney_seeds_needed(0.25) == 32
    # alpha .05: (1.95996 + 0.84162)^2 / (3 * 0.2^2) = 65.41 -> 33 per group
    assert mann_whitney_seeds_needed(0.7, alpha=0.05) == 33
    assert mann_whitney_seeds_needed(0.5) is None
    assert mann_whitney_seeds_needed(0.51, n_max=100) is None


def test_tost_seeds_needed_chow_shao_wang_examples():
    """Chow, Shao & Wang (2008), sec. 3.2: sigma = 0.1, delta = 0.05, alpha = 0.05, power 0.8."""
    from harness.stats import tost_seeds_needed

    # equivalence, true difference 0: (z_.95 + z_.90)^2 2 sigma^2 / delta^2 = 68.5 -> 69 per group
    assert tost_seeds_needed(0.0, 0.05, 2 * 0.1 ** 2, alpha=0.05) == 69
    # one-sided (non-inferiority), difference 0: (z_.95 + z_.80)^2 2 sigma^2 / delta^2 = 49.5 -> 50
    assert tost_seeds_needed(0.0, 0.05, 2 * 0.1 ** 2, alpha=0.05, one_sided=True) == 50
    # a true difference eats into the margin: (1.6449 + 0.8416)^2 * 0.02 / 0.04^2 = 77.3 -> 78
    assert tost_seeds_needed(0.01, 0.05, 2 * 0.1 ** 2, alpha=0.05) == 78
    assert tost_seeds_needed(0.05, 0.05, 0.02) is None and tost_seeds_needed(-0.2, 0.05, 0.02) is None
    # one-sided, a difference away from the margin helps: 2.4865^2 * 0.02 / 0.06^2 = 34.3 -> 35
    assert tost_seeds_needed(-0.01, 0.05, 2 * 0.1 ** 2, alpha=0.05, one_sided=True) == 35


# ---------------------------------------------------------------- NaN policy

NAN = float("nan")


@pytest.mark.parametrize("call", [
    lambda: mann_whitney([1.0, NAN], [1.0, 2.0]),
    lambda: mann_whitney([1.0, 2.0], [NAN, 2.0]),
    lambda: kruskal_holm({"a": [1.0, 2.0], "b": [NAN, 3.0]}),
    lambda: brown_forsythe([1.0, 2.0, NAN], [1.0, 2.0, 3.0]),
    lambda: tost_one_sample([1.0, NAN, 2.0], 0.0, 3.0),
    lambda: tost_two_sample([1.0, 2.0], [1.0, NAN], 1.0),
    lambda: bootstrap_median_ci([1.0, NAN, 3.0]),
    lambda: bootstrap_median_ci([1.0, NAN, math.inf]),
    lambda: holm([NAN]),
], ids=["mw-x", "mw-y", "kruskal", "brown-forsythe", "tost1", "tost2", "bootstrap",
        "bootstrap-inf", "holm"])
def test_nan_raises(call):
    with pytest.raises(ValueError, match="NaN"):
        call()
