"""What a claim's rule could detect at the seeds it used: its power, on the effect's own scale.

``detectable(rule, decision, seeds)`` returns the true effect at which the rule would say REFUTED
(the smallest departure from the claim it detects) and the one at which it would say SUPPORTED, each
with probability ``POWER``, when it tests at the design's alpha per test on ``seeds`` seeds (one look:
the look that decided the claim).  Rates and shares of seeds won are exact (binomial); mean and spread
rules use a normal approximation with the spread the decision observed (its interval's width), so their
numbers are estimates, said so in ``method``.  A rule that cannot say no at these seeds gets ``None``.
"""
from __future__ import annotations

import math

from scipy import stats as sps

from harness.spec import Decision
from harness.statistics import bands, dose, paired, rates, spreads

POWER = 0.8  # the conventional 80%: a departure detected four times in five


def _exact_point(n: int, critical: int, side: str, power: float) -> float | None:
    """The true rate at which a count test that rejects at ``critical`` (``side`` "low": count <= critical;
    "high": count >= critical) rejects with probability ``power``."""
    if side == "low":
        if critical < 0:
            return None
        f = lambda p: sps.binom.cdf(critical, n, p) - power  # decreasing in p
        lo, hi = 0.0, 1.0
    else:
        if critical > n:
            return None
        f = lambda p: power - sps.binom.sf(critical - 1, n, p)  # decreasing in p
        lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _low_critical(n: int, edge: float, alpha: float) -> int:
    """Largest count k with P(X <= k | edge) < alpha (-1: none)."""
    k = int(sps.binom.ppf(alpha, n, edge))
    while k >= 0 and sps.binom.cdf(k, n, edge) >= alpha:
        k -= 1
    while k + 1 <= n and sps.binom.cdf(k + 1, n, edge) < alpha:
        k += 1
    return k


def _high_critical(n: int, edge: float, alpha: float) -> int:
    """Smallest count k with P(X >= k | edge) < alpha (n + 1: none)."""
    return n - _low_critical(n, 1 - edge, alpha)


def rate_power(n: int, zone: tuple[float, float], claimed: str, alpha_refute: float, alpha_support: float,
               power: float = POWER) -> tuple[float | None, float | None]:
    """(refute_at, support_at) of exact binomial tests against the zone's edges on ``n`` seeds."""
    if claimed == "greater":
        refute = _exact_point(n, _low_critical(n, zone[0], alpha_refute), "low", power)
        support = _exact_point(n, _high_critical(n, zone[1], alpha_support), "high", power)
    else:
        refute = _exact_point(n, _high_critical(n, zone[1], alpha_refute), "high", power)
        support = _exact_point(n, _low_critical(n, zone[0], alpha_support), "low", power)
    return refute, support


def _first_able(seeds: int, zone: tuple[float, float], claimed: str, alpha: float) -> str:
    """Where a rate rule cannot say no at ``seeds``: the fewest seeds from which it can (its most extreme count
    rejects), so that a rule stopped early is told apart from one that can never say no."""
    edge = zone[0] if claimed == "greater" else 1 - zone[1]
    need = math.ceil(math.log(alpha) / math.log(1 - edge))  # (1 - edge)^n < alpha
    return (f"it cannot say no at {seeds} seeds; from {need} seeds it can (the design looks again only while "
            "undecided)")


def _se(d: Decision, df: int | None) -> float | None:
    """The effect's standard error, read off the decision's interval at confidence 1 - 2 alpha."""
    if d.ci_low is None or d.ci_high is None or not (math.isfinite(d.ci_low) and math.isfinite(d.ci_high)):
        return None
    q = sps.t.ppf(1 - d.alpha, df) if df else sps.norm.ppf(1 - d.alpha)
    return (d.ci_high - d.ci_low) / (2 * q)


def _q(alpha: float, df: int | None) -> float:
    return float(sps.t.ppf(1 - alpha, df) if df else sps.norm.ppf(1 - alpha))


def detectable(rule, decision: Decision, seeds: int, power: float = POWER) -> dict | None:
    """The fields of :class:`harness.results.Power` for ``rule`` at ``seeds`` seeds and the decision's alpha;
    None where the rule has no zone to depart from."""
    alpha = decision.alpha
    zone = getattr(rule, "zone", None)
    if zone is None:
        return None
    base = dict(seeds=seeds, alpha=alpha, power=power, scale=decision.effect_name)
    exact = "exact binomial"
    if isinstance(rule, rates.RateRule):
        refute, support = rate_power(seeds, zone, rule.claimed, alpha, alpha, power)
        return dict(base, refute_at=refute, support_at=support, method=exact,
                    note=_first_able(seeds, zone, rule.claimed, alpha) if refute is None else "")
    if isinstance(rule, paired.PairedShiftRule):
        refute, support = rate_power(seeds, zone, "greater", alpha, alpha, power)
        return dict(base, refute_at=refute, support_at=support, method=exact,
                    note="on the share of seeds won, counting every seed as untied")
    if isinstance(rule, dose.SeedTrendRule):
        refute, support = rate_power(seeds, zone, "greater", alpha, alpha, power)
        return dict(base, refute_at=refute, support_at=support, method=exact,
                    note="on the share of seeds trending the claimed way, counting every seed as trending")
    if isinstance(rule, dose.CrossingDoseRule):
        lo, hi = rule.line_zone
        capable = rate_power(seeds, (lo, hi), "greater", alpha, alpha, power)[1]
        incapable = rate_power(seeds, (lo, hi), "less", alpha, alpha, power)[1]
        return dict(base, refute_at=None, support_at=None, method=exact,
                    note=f"at each tested dose: shown capable from a true rate of {capable:.3g}, incapable below "
                         f"{incapable:.3g}" if capable is not None and incapable is not None else
                    "the tested doses cannot be shown capable and incapable at these seeds")
    if isinstance(rule, paired.PairedBestOfGroupsRule):
        k = len(rule.groups) - 1
        refute, support = rate_power(seeds, zone, "greater", alpha / k, alpha, power)
        return dict(base, refute_at=refute, support_at=support, method=exact,
                    note=f"against one group, Bonferroni over {k} for REFUTED; every seed untied")
    se_df = seeds - 1 if seeds > 1 else None
    if isinstance(rule, spreads.PairedTighterRule):
        if decision.ci_low is None or decision.ci_high is None or decision.ci_low <= 0:
            return dict(base, refute_at=None, support_at=None, method="normal approximation on log ratio",
                        note="no interval to read the spread from at this look")
        k = len(rule.groups) - 1
        se = (math.log(decision.ci_high) - math.log(decision.ci_low)) / (2 * _q(alpha, None))
        refute = zone[1] * math.exp((_q(alpha / k, None) + _q(1 - power, None)) * se)
        support = zone[0] * math.exp(-(_q(alpha, None) + _q(1 - power, None)) * se)
        return dict(base, refute_at=refute, support_at=support,
                    method="normal approximation on the log ratio, with the observed spread")
    k = len(getattr(rule, "metrics", ())) or 1
    se = _se(decision, se_df)
    if se is None:
        return dict(base, refute_at=None, support_at=None, method="normal approximation with the observed spread",
                    note="no interval to read the spread from at this look")
    z_power = _q(1 - power, se_df)  # the power's quantile, positive
    refute_far = _q(alpha / k, se_df) + z_power
    support_far = _q(alpha, se_df) + z_power
    if isinstance(rule, (paired.PairedEquivalenceRule, bands.MeanInBandRule)):  # zone on |effect|
        support = zone[0] - support_far * se
        return dict(base, refute_at=zone[1] + refute_far * se, support_at=support if support > 0 else None,
                    method="normal approximation with the observed spread", note="on |effect|")
    if isinstance(rule, paired.PairedNonSuperiorityRule):  # claimed: the improvement is below the zone
        return dict(base, refute_at=zone[1] + refute_far * se, support_at=zone[0] - support_far * se,
                    method="normal approximation with the observed spread")
    return None
