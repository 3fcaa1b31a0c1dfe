"""Small functional statistics API for testing lesson claims over many seeds.

In the spirit of rliable: each function does one thing and returns numbers in a
frozen dataclass; nothing is printed and no decision is taken here.  scipy and
statsmodels do the statistics wherever they already implement them (the
decision rules in :mod:`harness.rules` call them directly); hand-written here
only what neither offers: the exact power of a one-sided binomial test at
alpha (statsmodels' binomial power is a normal approximation, and the seed
counts here are small), and the seeds an equivalence test needs (Chow, Shao &
Wang's normal approximation; statsmodels has no TOST power).

NaN policy: NaN is never silently dropped.  Every function that takes samples
raises ValueError on NaN (a diverged run must be mapped to +inf, or counted,
by the caller, because dropping it would bias the result towards success).
Rank-based tests and the bootstrap accept +-inf, which rank as extremes;
the t-based TOST tests reject inf because a mean of inf is meaningless.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.01


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # keep pytest from collecting this class as a test

    test: str
    statistic: float
    p_value: float
    effect: float | None = None
    effect_name: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    detail: str = ""


def _sample(x, name: str = "sample", allow_inf: bool = True, min_n: int = 1) -> np.ndarray:
    a = np.asarray(x, dtype=float).ravel()
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN; map NaN to +inf or count it explicitly "
                         "before calling (NaN is never dropped silently)")
    if not allow_inf and np.isinf(a).any():
        raise ValueError(f"{name} contains inf; t-based tests need finite values")
    if a.size < min_n:
        raise ValueError(f"{name} needs at least {min_n} values, got {a.size}")
    return a


def _check_count(k: int, n: int) -> None:
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {k}/{n}")


# ---------------------------------------------------------------- proportions

def clopper_pearson(successes: int, n: int, confidence: float = 0.99) -> tuple[float, float]:
    _check_count(successes, n)
    # Always two-sided: the interval describes the rate, whatever test was run.
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def binomial_rate(successes: int, n: int, p0: float, alternative: str) -> TestResult:
    _check_count(successes, n)
    res = stats.binomtest(successes, n, p0, alternative=alternative)
    # res.proportion_ci would be one-sided for a one-sided test; we want the
    # two-sided 99% interval so reports read the same for every alternative.
    low, high = clopper_pearson(successes, n, 1 - ALPHA)
    return TestResult("exact binomial", float(res.statistic), float(res.pvalue),
                      successes / n, "rate", low, high,
                      f"{successes}/{n} vs p0={p0} ({alternative})")


def newcombe_diff_ci(a_success: int, a_n: int, b_success: int, b_n: int,
                     confidence: float = 0.99) -> tuple[float, float]:
    """Newcombe (1998) hybrid score interval (method 10) for rate_a - rate_b, by statsmodels.

    Built from the two Wilson intervals; unlike Wald it behaves at 0/n and n/n,
    which is where seed-count claims usually live.
    """
    from statsmodels.stats.proportion import confint_proportions_2indep

    _check_count(a_success, a_n)
    _check_count(b_success, b_n)
    low, high = confint_proportions_2indep(a_success, a_n, b_success, b_n, method="newcomb", compare="diff",
                                           alpha=1 - confidence)
    return float(low), float(high)


def fisher_exact(a_success: int, a_n: int, b_success: int, b_n: int,
                 alternative: str = "two-sided") -> TestResult:
    low, high = newcombe_diff_ci(a_success, a_n, b_success, b_n, 1 - ALPHA)  # validates counts
    table = [[a_success, a_n - a_success], [b_success, b_n - b_success]]
    res = stats.fisher_exact(table, alternative=alternative)
    return TestResult("Fisher exact", float(res.statistic), float(res.pvalue),
                      a_success / a_n - b_success / b_n, "rate difference", low, high,
                      f"{a_success}/{a_n} vs {b_success}/{b_n}; statistic is the odds "
                      "ratio; ci is Newcombe hybrid score (Wilson)")


# ---------------------------------------------------------------- rank tests

def mann_whitney(x, y, alternative: str = "two-sided") -> TestResult:
    x, y = _sample(x, "x"), _sample(y, "y")
    res = stats.mannwhitneyu(x, y, alternative=alternative, method="auto", nan_policy="raise")
    # U1 counts pairs with x > y (ties 1/2), so U1/(n1 n2) is P(X>Y) + P(X=Y)/2.
    return TestResult("Mann-Whitney U", float(res.statistic), float(res.pvalue),
                      float(res.statistic) / (x.size * y.size), "P(X>Y)",
                      detail=f"n1={x.size}, n2={y.size} ({alternative})")


# ---------------------------------------------------------------- planning

def _upper_tail_power(ns: np.ndarray, p_true: float, p0: float, alpha: float) -> np.ndarray:
    """Exact power of the 'greater' binomial test (reject when p < alpha) at every n."""
    # Critical count k: smallest k with P0(X >= k) < alpha.  isf gives it up to
    # its <= convention and rounding; nudge until the strict boundary holds.
    k = stats.binom.isf(alpha, ns, p0) + 1
    while True:
        up = stats.binom.sf(k - 1, ns, p0) >= alpha
        down = stats.binom.sf(k - 2, ns, p0) < alpha
        if not (up.any() or down.any()):
            return stats.binom.sf(k - 1, ns, p_true)
        k = k + up - down


def _two_sided_power(n: int, p_true: float, p0: float, alpha: float) -> float:
    k = np.arange(n + 1)
    pmf0 = stats.binom.pmf(k, n, p0)
    # scipy's two-sided rule: sum the pmf of every outcome no likelier than k.
    sorted_pmf = np.sort(pmf0)
    idx = np.searchsorted(sorted_pmf, pmf0 * (1 + 1e-7), side="right")
    pvals = np.minimum(1.0, np.concatenate([[0.0], np.cumsum(sorted_pmf)])[idx])
    pvals[k == p0 * n] = 1.0
    return float(stats.binom.pmf(k[pvals < alpha], n, p_true).sum())


def binomial_seeds_needed(p_true: float, p0: float, alternative: str, alpha: float = ALPHA,
                          power: float = 0.8, n_max: int = 10000) -> int | None:
    """Smallest n whose exact binomial test (reject when p < alpha) has the power.

    Power is exact (pmf summed over the rejection region).  Discreteness makes
    power saw-toothed in n, so this is the first n that reaches it, not a
    guarantee for every larger n.
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"unknown alternative {alternative!r}")
    if not (0 < p0 < 1 and 0 <= p_true <= 1 and 0 < alpha < power < 1):
        raise ValueError("need 0 < p0 < 1, 0 <= p_true <= 1, 0 < alpha < power < 1")
    # The power of an exact test never exceeds alpha at or beyond the null side.
    if (alternative == "greater" and p_true <= p0) or (alternative == "less" and p_true >= p0) \
            or p_true == p0:
        return None
    ns = np.arange(1, n_max + 1)
    # 'less' is 'greater' on the failure count n - X.
    upper = _upper_tail_power(ns, p_true, p0, alpha)
    lower = _upper_tail_power(ns, 1 - p_true, 1 - p0, alpha)
    if alternative != "two-sided":
        hits = np.flatnonzero((upper if alternative == "greater" else lower) >= power)
        return int(ns[hits[0]]) if hits.size else None
    # A two-sided rejection is also a one-sided rejection at alpha on its side,
    # so the sum of both one-sided powers bounds the two-sided power from above:
    # no n before that bound first reaches the target can qualify.
    hits = np.flatnonzero(upper + lower >= power)
    for n in ns[hits[0]:] if hits.size else ():
        if _two_sided_power(int(n), p_true, p0, alpha) >= power:
            return int(n)
    return None


def tost_seeds_needed(diff: float, margin: float, variance: float, alpha: float = ALPHA, power: float = 0.8,
                      one_sided: bool = False, n_max: int = 100000) -> int | None:
    """Seeds (per group) an equivalence test needs, by the normal approximation
    of Chow, Shao & Wang (2008), *Sample Size Calculations in Clinical Research*,
    sec. 3.2.3-3.2.4: n = (z_{1-alpha} + z_{1-beta'})^2 variance / (margin - |diff|)^2.

    ``variance``: s^2 for a one-sample test, s_x^2 + s_y^2 for two equal groups.
    Two one-sided tests (``one_sided=False``) at a true difference of 0 use
    beta' = beta/2 (both sides must reject); otherwise beta' = beta.  One-sided
    (non-superiority), ``diff`` is signed toward the margin, so the gap is
    margin - diff.  None when the gap is <= 0 (no n shows it at that difference).
    """
    if not (margin > 0 and variance >= 0 and 0 < alpha < 1 and 0 < power < 1):
        raise ValueError("need margin > 0, variance >= 0, 0 < alpha < 1, 0 < power < 1")
    gap = margin - (diff if one_sided else abs(diff))
    if not math.isfinite(diff) or gap <= 0:
        return None
    beta = 1 - power
    z_beta = stats.norm.ppf(1 - (beta / 2 if (diff == 0 and not one_sided) else beta))
    n = math.ceil((stats.norm.ppf(1 - alpha) + z_beta) ** 2 * variance / gap ** 2)
    n = max(n, 2)
    return n if n <= n_max else None
