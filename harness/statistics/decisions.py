"""What every decision rule shares: a verdict from two one-sided tests against the zone's edges, how far from
its zone a verdict is, and "not testable here".

A rule is a small frozen dataclass called as ``rule(evidence, alpha)`` that returns a
:class:`~harness.spec.Decision` (``explain=False`` skips the seeds-needed planning, for simulations);
``alpha`` is the level of each one-sided test (the sequential design splits the claim's error budget over
both directions and every look, see :mod:`harness.statistics.sequential`).  The rules, by family:
:mod:`~harness.statistics.rates` (a rate of seeds), :mod:`~harness.statistics.paired` (two arms seed by seed:
sign tests and paired means), :mod:`~harness.statistics.spreads` (spread, by permutation),
:mod:`~harness.statistics.bands` (a mean in a band), :mod:`~harness.statistics.dose` (a dose-response curve).

The indifference zone is part of the hypothesis (rules of 2026-11-30).  Every
rule has a zone, on the quantity it tests, around the claim's threshold:
effects inside it are "on the line", neither the claim nor its opposite.  So

* SUPPORTED: the effect's interval (confidence 1 - 2 alpha) clears the zone on
  the claim's side: a one-sided test against the zone's far edge rejects;
* REFUTED: it clears the zone on the other side;
* ON THE LINE (INCONCLUSIVE, ``at_threshold``): the interval lies inside it;
* otherwise more seeds, up to the design's last look.

The effect, its interval and the test are always about the same quantity.
Evidence a rule cannot test is "not testable here" (INCONCLUSIVE with
``untestable`` naming why, ``p_value`` None, never a p of 0): a comparison
whose two arms are bit-identical on every seed (the treatment never changed a
run), a metric with no spread, a diverged run where a mean is needed.

Two experiments decided together share seeds, and with them the random
streams: one seed gives both the same data split and the same batch order, and
the same initial weights when the architectures match.  So every two-sample
comparison is paired, seed by seed.
"""
from __future__ import annotations

from harness.spec import CLAIM_ALPHA, Decision, Evidence, Verdict

# One look, both directions: each one-sided test at half the claim's alpha.
DEFAULT_ALPHA = CLAIM_ALPHA / 2


def zone_verdict(pro: float, con: float, alpha: float) -> tuple[Verdict, float]:
    """The verdict of a pair of one-sided tests against the zone's edges, with the p-value it reports."""
    if pro < alpha:
        return Verdict.SUPPORTED, pro
    if con < alpha:
        return Verdict.REFUTED, con
    return Verdict.INCONCLUSIVE, pro


def inside(zone: tuple[float, float] | None, low: float | None, high: float | None) -> bool:
    """The whole interval [low, high] lies inside the zone."""
    return (zone is not None and low is not None and high is not None
            and zone[0] <= low and high <= zone[1])


def zone_factor(verdict: Verdict, claimed: str, threshold: float, zone: tuple[float, float], low: float,
                high: float) -> float | None:
    """How far from its zone a one-sided verdict is.  Decided: the largest factor the zone's width could be
    scaled by (about the threshold) with the same verdict.  On the line: the smallest factor that keeps the
    interval inside.  Otherwise None."""
    below, above = threshold - zone[0], zone[1] - threshold
    if below <= 0 or above <= 0:
        return None
    supported_above = claimed == "greater"
    if verdict is Verdict.SUPPORTED:
        return (low - threshold) / above if supported_above else (threshold - high) / below
    if verdict is Verdict.REFUTED:
        return (threshold - high) / below if supported_above else (low - threshold) / above
    if inside(zone, low, high):
        return max((threshold - low) / below, (high - threshold) / above, 0.0)
    return None


def untestable(test: str, alpha: float, effect_name: str, reason: str, settled: bool = False, **kw) -> Decision:
    """Not testable here: the rule's test cannot run on this evidence.  ``settled``: no later look can
    change that (a diverged run stays in every longer prefix of seeds)."""
    return Decision(verdict=Verdict.INCONCLUSIVE, test=test, p_value=None, alpha=alpha, effect_name=effect_name,
                    effect=kw.pop("effect", None), detail=f"not testable here: {reason}", untestable=reason,
                    untestable_settled=settled, **kw)


def pairing(ev: Evidence, a: str, b: str) -> tuple[int, int, tuple[str, ...]]:
    """(identical seeds, seeds, findings) for two arms decided together."""
    mask = ev.identical(a, b)
    same, n = int(mask.sum()), len(mask)
    if same == n:
        return same, n, (f"{b}: {n}/{n} seeds bit-identical to {a} (every epoch, every metric)",)
    if same:
        return same, n, (f"{b}: {same}/{n} seeds bit-identical to {a}",)
    return same, n, ()


def never_acted(a: str, b: str, n: int) -> str:
    """Why two arms bit-identical on all ``n`` seeds are not testable."""
    # If the treatment acted on a share q of seeds, n seeds all unchanged has chance (1 - q)^n: the 95% bound.
    bound = 1 - 0.05 ** (1 / n)
    return (f"{b} never changed a run: all {n} seeds bit-identical to {a}, so there is no difference to test "
            f"(the treatment acts on fewer than {bound:.1%} of seeds, 95% bound)")


def pairing_or_untestable(ev: Evidence, a: str, b: str, findings: tuple[str, ...], test: str, alpha: float,
                          name: str, common: dict) -> tuple[int, tuple[str, ...], Decision | None]:
    """(seeds, ``findings`` with this pair's, "not testable here" where ``b`` never changed a run of ``a``,
    else None), for a rule that compares arms by pairs."""
    same, n, found = pairing(ev, a, b)
    findings += found
    if same == n:
        return n, findings, untestable(test, alpha, name, never_acted(a, b, n), findings=findings, **common)
    return n, findings, None
