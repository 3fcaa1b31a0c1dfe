"""Small functional statistics API for testing lesson claims over many seeds.

In the spirit of rliable: each function does one thing and returns numbers in a
frozen dataclass; nothing is printed and no decision is taken here.  scipy does
the statistics wherever it already implements them; this module is the glue.

NaN policy: NaN is never silently dropped.  Every function that takes samples
raises ValueError on NaN (a diverged run must be mapped to +inf, or counted,
by the caller, because dropping it would bias the result towards success).
Rank-based tests and the bootstrap accept +-inf, which rank as extremes;
the t-based TOST tests reject inf because a mean of inf is meaningless.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Sequence

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


@dataclass(frozen=True)
class PairwiseResult:
    a: str
    b: str
    result: TestResult  # raw two-sided Mann-Whitney; result.p_value is unadjusted
    p_holm: float


@dataclass(frozen=True)
class KruskalHolmResult:
    omnibus: TestResult
    pairwise: dict[tuple[str, str], PairwiseResult]


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
    """Newcombe (1998) hybrid score interval (method 10) for rate_a - rate_b.

    Built from the two Wilson intervals; unlike Wald it behaves at 0/n and n/n,
    which is where seed-count claims usually live.
    """
    _check_count(a_success, a_n)
    _check_count(b_success, b_n)
    p1, p2 = a_success / a_n, b_success / b_n
    w1 = stats.binomtest(a_success, a_n).proportion_ci(confidence, method="wilson")
    w2 = stats.binomtest(b_success, b_n).proportion_ci(confidence, method="wilson")
    d = p1 - p2
    low = d - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = d + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
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


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni step-down adjusted p-values, in input order."""
    p = _sample(p_values, "p_values", allow_inf=False, min_n=0)
    if ((p < 0) | (p > 1)).any():
        raise ValueError("p-values must lie in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m)) * p[order]
    # The running max keeps the adjustment monotone in the raw p ordering.
    adjusted = np.minimum(1.0, np.maximum.accumulate(scaled)) if m else scaled
    out = np.empty(m)
    out[order] = adjusted
    return [float(v) for v in out]


def kruskal_holm(groups: dict[str, Sequence[float]]) -> KruskalHolmResult:
    if len(groups) < 2:
        raise ValueError("kruskal_holm needs at least two groups")
    samples = {k: _sample(v, f"group {k!r}") for k, v in groups.items()}
    pooled = np.concatenate(list(samples.values()))
    n_total = pooled.size
    if np.all(pooled == pooled[0]):
        # H is 0/0 here; all-identical data is no evidence of a difference.
        omnibus = TestResult("Kruskal-Wallis H", 0.0, 1.0, 0.0, "epsilon^2",
                             detail="all values identical; H undefined, p set to 1")
    else:
        res = stats.kruskal(*samples.values(), nan_policy="raise")
        omnibus = TestResult("Kruskal-Wallis H", float(res.statistic), float(res.pvalue),
                             float(res.statistic) / (n_total - 1), "epsilon^2",
                             detail=f"{len(samples)} groups, N={n_total}")
    pairs = list(itertools.combinations(samples, 2))
    raw = [mann_whitney(samples[a], samples[b]) for a, b in pairs]
    adjusted = holm([r.p_value for r in raw])
    pairwise = {(a, b): PairwiseResult(a, b, r, p)
                for (a, b), r, p in zip(pairs, raw, adjusted)}
    return KruskalHolmResult(omnibus, pairwise)


def brown_forsythe(*groups) -> TestResult:
    samples = [_sample(g, f"group {i}", allow_inf=False, min_n=2) for i, g in enumerate(groups)]
    if len(samples) < 2:
        raise ValueError("brown_forsythe needs at least two groups")
    with np.errstate(divide="ignore", invalid="ignore"):
        res = stats.levene(*samples, center="median")
    stat, p, detail = float(res.statistic), float(res.pvalue), f"{len(samples)} groups"
    if math.isnan(stat):
        # Every |x - median| is the same everywhere: the spreads cannot differ.
        stat, p, detail = 0.0, 1.0, "all absolute deviations identical; p set to 1"
    effect = name = None
    if len(samples) == 2:
        iqr = [float(stats.iqr(s)) for s in samples]
        effect = iqr[0] / iqr[1] if iqr[1] else (math.inf if iqr[0] else 1.0)
        name = "IQR ratio (first/second)"
    return TestResult("Brown-Forsythe", stat, p, effect, name, detail=detail)


# ---------------------------------------------------------------- equivalence

def tost_one_sample(x, low: float, high: float) -> TestResult:
    """Equivalence of mean(x) to [low, high]: conclude when p < ALPHA."""
    if not low < high:
        raise ValueError("need low < high")
    x = _sample(x, "x", allow_inf=False, min_n=2)
    m = float(x.mean())
    if np.all(x == x[0]):
        # The t statistic is +-inf or 0/0; with no spread the mean is known exactly.
        inside = low < m < high
        return TestResult("TOST one-sample t", math.inf if inside else -math.inf,
                          0.0 if inside else 1.0, m, "mean", m, m,
                          "zero variance: decided exactly from the mean")
    lo = stats.ttest_1samp(x, low, alternative="greater")
    hi = stats.ttest_1samp(x, high, alternative="less")
    # Same df for both tests, so the larger p belongs to the smaller inward t.
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(confidence_level=1 - 2 * ALPHA)
    return TestResult("TOST one-sample t", float(min(lo.statistic, -hi.statistic)),
                      float(max(lo.pvalue, hi.pvalue)), m, "mean",
                      float(ci.low), float(ci.high),
                      f"p_low={float(lo.pvalue):.3g}, p_high={float(hi.pvalue):.3g}, "
                      f"bounds=[{low}, {high}]")


def tost_two_sample(x, y, margin: float) -> TestResult:
    """Equivalence of mean(x) - mean(y) to (-margin, margin), Welch t-tests."""
    if not margin > 0:
        raise ValueError("margin must be positive")
    x = _sample(x, "x", allow_inf=False, min_n=2)
    y = _sample(y, "y", allow_inf=False, min_n=2)
    d = float(x.mean() - y.mean())
    if np.all(x == x[0]) and np.all(y == y[0]):
        inside = abs(d) < margin
        return TestResult("TOST Welch t", math.inf if inside else -math.inf,
                          0.0 if inside else 1.0, d, "mean difference", d, d,
                          "zero variance in both samples: decided exactly")
    # Shifting x by the margin turns each bound into an ordinary one-sided test.
    lo = stats.ttest_ind(x + margin, y, equal_var=False, alternative="greater")
    hi = stats.ttest_ind(x - margin, y, equal_var=False, alternative="less")
    ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(confidence_level=1 - 2 * ALPHA)
    return TestResult("TOST Welch t", float(min(lo.statistic, -hi.statistic)),
                      float(max(lo.pvalue, hi.pvalue)), d, "mean difference",
                      float(ci.low), float(ci.high),
                      f"p_low={float(lo.pvalue):.3g}, p_high={float(hi.pvalue):.3g}, "
                      f"margin={margin}")


# ---------------------------------------------------------------- bootstrap

def bootstrap_median_ci(x, confidence: float = 0.99, n_resamples: int = 9999,
                        seed: int = 0) -> tuple[float, float, float]:
    """(median, low, high): percentile bootstrap, deterministic for a seed."""
    x = _sample(x, "x")
    m = float(np.median(x))
    if np.all(x == x[0]):
        return m, m, m  # every resample has the same median
    rng = np.random.default_rng(seed)
    tail = (1 - confidence) / 2
    if np.isfinite(x).all():
        # Percentile rather than BCa: BCa breaks down on heavily tied data.
        res = stats.bootstrap((x,), np.median, confidence_level=confidence,
                              n_resamples=n_resamples, method="percentile", rng=rng)
        return m, float(res.confidence_interval.low), float(res.confidence_interval.high)
    # scipy interpolates between bootstrap values, and inf - inf is NaN; resample
    # by hand and take order statistics, which are exact with inf (in chunks of
    # 1000 resamples to bound memory).
    sizes = [min(1000, n_resamples - i) for i in range(0, n_resamples, 1000)]
    meds = np.concatenate([np.median(x[rng.integers(0, x.size, (c, x.size))], axis=1)
                           for c in sizes])
    if np.isnan(meds).any():
        raise ValueError("median undefined (both +inf and -inf in a resample median)")
    return (m, float(np.quantile(meds, tail, method="lower")),
            float(np.quantile(meds, 1 - tail, method="higher")))


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


def mann_whitney_seeds_needed(prob_superiority: float, alpha: float = ALPHA, power: float = 0.8,
                              n_max: int = 10000) -> int | None:
    """Per-group n from Noether (1987), equal groups, two-sided alpha."""
    p = prob_superiority
    if not (0 <= p <= 1 and 0 < alpha < 1 and 0 < power < 1):
        raise ValueError("need 0 <= prob_superiority <= 1, 0 < alpha < 1, 0 < power < 1")
    if p == 0.5:
        return None
    c = 0.5
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    n_total = z ** 2 / (12 * c * (1 - c) * (p - 0.5) ** 2)
    n = math.ceil(n_total / 2)
    return n if n <= n_max else None


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
