"""Small functional statistics API for testing lesson claims over many seeds.

In the spirit of rliable: each function does one thing and returns numbers in a
frozen dataclass; nothing is printed and no decision is taken here.  scipy and
statsmodels do the statistics wherever they already implement them (the
decision rules, :mod:`harness.statistics.decisions` and the modules it names, call them directly); the seeds a
test needs come from statsmodels too (the exact binomial rejection region, summed
exactly for its power; ``TTestPower`` for the t tests).

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

from harness.spec import CLAIM_ALPHA


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
    low, high = clopper_pearson(successes, n, 1 - CLAIM_ALPHA)
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
    low, high = newcombe_diff_ci(a_success, a_n, b_success, b_n, 1 - CLAIM_ALPHA)  # validates counts
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

def binomial_seeds_needed(p_true: float, p0: float, alternative: str, alpha: float = CLAIM_ALPHA,
                          power: float = 0.8, n_max: int = 10000) -> int | None:
    """Smallest n at which the one-sided exact binomial test of ``p0`` rejects with
    the power when the true rate is ``p_true``.  The rejection region is
    statsmodels' ``binom_test_reject_interval``; the power is summed exactly over
    it.  Discreteness makes power saw-toothed in n, so this is the first n that
    reaches it, not a guarantee for every larger n.  None: the wrong direction,
    or not reached by ``n_max``."""
    from statsmodels.stats.proportion import binom_test_reject_interval

    if alternative not in ("greater", "less"):
        raise ValueError(f"unknown alternative {alternative!r} (one-sided: 'greater' or 'less')")
    if not (0 < p0 < 1 and 0 <= p_true <= 1 and 0 < alpha < power < 1):
        raise ValueError("need 0 < p0 < 1, 0 <= p_true <= 1, 0 < alpha < power < 1")
    if (alternative == "greater" and p_true <= p0) or (alternative == "less" and p_true >= p0):
        return None
    for n in range(1, n_max + 1):
        if alternative == "greater":
            _, upper = binom_test_reject_interval(p0, n, alpha, "larger")
            reach = stats.binom.sf(upper - 1, n, p_true) if upper <= n else 0.0
        else:
            lower, _ = binom_test_reject_interval(p0, n, alpha, "smaller")
            reach = stats.binom.cdf(lower, n, p_true) if lower >= 0 else 0.0
        if reach >= power:
            return n
    return None


def t_seeds_needed(gap: float, sd: float, alpha: float = CLAIM_ALPHA, power: float = 0.8,
                   n_max: int = 100000) -> int | None:
    """Seeds a one-sided one-sample t test at ``alpha`` needs to show a true mean
    ``gap`` (> 0) away from its null value with the power, per-seed standard
    deviation ``sd`` (statsmodels ``TTestPower``).  None when ``gap`` <= 0 (no n
    shows it) or beyond ``n_max``."""
    from statsmodels.stats.power import TTestPower

    if not (sd >= 0 and 0 < alpha < power < 1):
        raise ValueError("need sd >= 0 and 0 < alpha < power < 1")
    if not math.isfinite(gap) or gap <= 0:
        return None
    if sd == 0:
        return 2
    n = math.ceil(TTestPower().solve_power(effect_size=gap / sd, alpha=alpha, power=power, alternative="larger"))
    n = max(n, 2)
    return n if n <= n_max else None
