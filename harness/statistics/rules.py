"""Decision rules: evidence in, a :class:`~harness.spec.Decision` out.

Each rule is a small frozen dataclass called as ``rule(evidence, alpha)``
(``explain=False`` skips the seeds-needed planning, for simulations);
``alpha`` is the level of each one-sided test (the sequential design splits the
claim's error budget over both directions and every look, see
:mod:`harness.statistics.sequential`).

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
comparison here is paired, seed by seed.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats as sps

from harness.statistics import stats
from harness.spec import CLAIM_ALPHA, Decision, Evidence, SpecError, Verdict, check_zone  # noqa: F401 (SpecError re-exported)
from harness.training.records import RunRecord

# One look, both directions: each one-sided test at half the claim's alpha.
DEFAULT_ALPHA = CLAIM_ALPHA / 2
# The paired sign-test rules' zone on the share of seeds won: 40-60% is a coin flip.
SHARE_ZONE = (0.4, 0.6)
# The spread rule's zone on the ratio of spreads: a box within 20% (either way, in ratio) of the other's
# width is not visibly tighter or wider.
SPREAD_ZONE = (0.8, 1.25)
# Sign flips drawn for the permutation spread test (fixed seed: the same evidence gives the same verdict).
# With 9999 flips its smallest p is 1e-4, below every alpha of the design.
SPREAD_RESAMPLES = 9999
# Below this many seeds the spread test does not hold its level when the groups' shapes differ (a normal
# against a chi-square of equal variance: 1.3% wrong decisions from a first look at 30; harness/maintainer/error_rates.py),
# so it waits for the design's next look.
SPREAD_MIN_SEEDS = 100


def _verdict(pro: float, con: float, alpha: float) -> tuple[Verdict, float]:
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


def _pairing(ev: Evidence, a: str, b: str) -> tuple[int, int, tuple[str, ...]]:
    """(identical seeds, seeds, findings) for two arms decided together."""
    mask = ev.identical(a, b)
    same, n = int(mask.sum()), len(mask)
    if same == n:
        return same, n, (f"{b}: {n}/{n} seeds bit-identical to {a} (every epoch, every metric)",)
    if same:
        return same, n, (f"{b}: {same}/{n} seeds bit-identical to {a}",)
    return same, n, ()


def _never_acted(a: str, b: str, n: int) -> str:
    # If the treatment acted on a share q of seeds, n seeds all unchanged has chance (1 - q)^n: the 95% bound.
    bound = 1 - 0.05 ** (1 / n)
    return (f"{b} never changed a run: all {n} seeds bit-identical to {a}, so there is no difference to test "
            f"(the treatment acts on fewer than {bound:.1%} of seeds, 95% bound)")


def _finite_rank_diffs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b per seed for a sign test, where +inf (a diverged run) ranks worst:
    both inf is a tie (0); one inf becomes a difference larger than every finite one."""
    both = (a == b)
    with np.errstate(invalid="ignore"):
        d = np.where(both, 0.0, a - b)
    finite = np.abs(d[np.isfinite(d)])
    big = 2 * (finite.max() if finite.size else 1.0) + 1
    return np.where(np.isfinite(d), d, np.sign(d) * big)


# ------------------------------------------------------------------ rates

def _rate_reachable(n: int, zone: tuple[float, float], claimed: str, alpha: float) -> tuple[bool, bool]:
    """(can SUPPORT, can REFUTE) at n seeds: the most extreme count rejects at alpha."""
    up = zone[1] ** n < alpha  # n hits of n, against the upper edge
    down = (1 - zone[0]) ** n < alpha  # 0 hits of n, against the lower edge
    return (up, down) if claimed == "greater" else (down, up)


@functools.lru_cache(maxsize=65536)
def _binomial_p(k: int, n: int, p0: float, alternative: str) -> float:
    # Cached: simulations and the exact design computation ask for the same counts many times.
    return stats.binomial_rate(k, n, p0, alternative).p_value


@functools.lru_cache(maxsize=65536)
def _clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    return stats.clopper_pearson(k, n, confidence)


def rate_decision(k: int, n: int, zone: tuple[float, float], threshold: float, claimed: str, alpha: float,
                  test: str, name: str, detail: str, explain: bool = True, **kw) -> Decision:
    """The zone verdict on ``k`` hits in ``n``: exact binomial tests against the zone's
    edges (SUPPORTED: beyond the edge on the claim's side), Clopper-Pearson interval."""
    opposite = {"greater": "less", "less": "greater"}[claimed]
    edge_pro, edge_con = (zone[1], zone[0]) if claimed == "greater" else (zone[0], zone[1])
    pro = _binomial_p(k, n, edge_pro, claimed)
    con = _binomial_p(k, n, edge_con, opposite)
    low, high = _clopper_pearson(k, n, 1 - 2 * alpha)
    verdict, p = _verdict(pro, con, alpha)
    at_line = verdict is Verdict.INCONCLUSIVE and inside(zone, low, high)
    need = need_for = None
    rate = k / n
    if explain and verdict is Verdict.INCONCLUSIVE and not at_line:
        can_pro, can_con = _rate_reachable(n, zone, claimed, alpha)
        beyond_pro = rate > edge_pro if claimed == "greater" else rate < edge_pro
        beyond_con = rate < edge_con if claimed == "greater" else rate > edge_con
        if beyond_pro or beyond_con:
            side = claimed if beyond_pro else opposite
            edge = edge_pro if beyond_pro else edge_con
            r = min(max(rate, 1e-3), 1 - 1e-3)
            need = stats.binomial_seeds_needed(r, edge, side, alpha)
            need_for = (f"to show rate {'>' if side == 'greater' else '<'} {edge} (the zone's edge: "
                        f"{'SUPPORTED' if beyond_pro else 'REFUTED'}) if the true rate is {rate:.3g}")
        elif not (can_pro or can_con):
            need_for = f"{n} seeds cannot reach alpha {alpha:.3g} in either direction"
        else:
            need_for = "the rate lies inside the zone: more seeds narrow its interval toward 'on the line'"
    return Decision(
        verdict=verdict, test=test, p_value=p, p_supported=float(pro), p_refuted=float(con), alpha=alpha, effect_name=name, effect=rate, ci_low=low,
        ci_high=high, threshold=threshold, zone=zone, at_threshold=at_line, statistic=float(k),
        detail=detail + f"; p(beyond {edge_pro})={pro:.3g}, p(beyond {edge_con}, the other way)={con:.3g} at "
                        f"alpha {alpha:.3g} each",
        seeds_needed=need, seeds_needed_for=need_for,
        zone_factor=zone_factor(verdict, claimed, threshold, zone, low, high), **kw)


@dataclass(frozen=True)
class RateRule:
    """The claim: the per-seed ``outcome`` happens at a rate above the zone
    (claimed="greater") or below it ("less").  Exact binomial tests against the
    zone's edges; interval Clopper-Pearson.  ``p0`` is the lesson's threshold,
    ``zone`` the rates the claim treats as on its line."""

    exp: str
    outcome: Callable[[RunRecord], bool]
    p0: float
    claimed: str
    what: str
    zone: tuple[float, float]

    @property
    def summary(self) -> str:
        return (f"rate of seeds that {self.what} {'>' if self.claimed == 'greater' else '<'} {self.p0}, beyond the "
                f"zone {list(self.zone)} (exact binomial)")

    @property
    def threshold(self) -> float:
        return self.p0

    def __post_init__(self):
        if self.claimed not in ("greater", "less"):
            raise SpecError(f"claimed must be 'greater' or 'less', got {self.claimed!r}")
        if not 0 < self.p0 < 1:
            raise SpecError(f"rate rule {self.what!r}: need 0 < p0 < 1, got {self.p0}")
        # The zone is checked where it is used, and by the Claim that holds the rule (naming the claim).

    def reachable(self, n: int, alpha: float) -> tuple[bool, bool]:
        return _rate_reachable(n, self.zone, self.claimed, alpha)

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        hits = [bool(self.outcome(r)) for r in ev.runs[self.exp]]
        return self.from_counts(sum(hits), len(hits), alpha, explain, hits)

    def from_counts(self, k: int, n: int, alpha: float = DEFAULT_ALPHA, explain: bool = True,
                    hits: list[bool] | None = None) -> Decision:
        """The decision on ``k`` hits in ``n`` seeds (all a rate rule looks at)."""
        zone = check_zone(self.zone, self.p0, f"rate rule {self.what!r}")
        if not (0 < zone[0] and zone[1] < 1):
            raise SpecError(f"rate rule {self.what!r}: zone {list(zone)} must lie inside (0, 1)")
        name = f"rate of seeds that {self.what}"
        if n == 0:
            return untestable("exact binomial", alpha, name, "no seeds", threshold=self.p0, zone=self.zone)
        sign = ">" if self.claimed == "greater" else "<"
        return rate_decision(k, n, self.zone, self.p0, self.claimed, alpha, "exact binomial", name,
                             f"{k}/{n} seeds {self.what}; claimed rate {sign} {self.p0}, beyond the zone "
                             f"{list(self.zone)}", explain,
                             outcomes={self.exp: hits} if hits is not None else None)


# ------------------------------------------------------------------ paired comparisons (sign tests)

def _wins(a: np.ndarray, b: np.ndarray, higher_is_better: bool) -> tuple[int, int]:
    """(seeds where ``a`` beats ``b``, seeds not tied)."""
    d = _finite_rank_diffs(a, b)
    return int(np.sum(np.sign(d) == (1 if higher_is_better else -1))), int(np.sum(d != 0))


@dataclass(frozen=True)
class PairedShiftRule:
    """The claim: ``better`` beats ``worse`` on the metric, seed by seed.  The
    effect and the test are one quantity: the share of seeds, among those not
    tied, where ``better`` wins.  Exact sign test against the zone's edges
    (SUPPORTED: the share is above 0.6), Clopper-Pearson interval.  A diverged
    run ranks worst, never dropped; ties are counted and reported."""

    better: str
    worse: str
    metric_fn: Callable[[RunRecord], float]
    higher_is_better: bool
    what: str
    zone: tuple[float, float] = SHARE_ZONE

    @property
    def threshold(self) -> float:
        return 0.5

    @property
    def summary(self) -> str:
        return (f"{self.better} {'higher' if self.higher_is_better else 'lower'} than {self.worse} on more than "
                f"{self.zone[1]:.0%} of seeds (paired exact sign test)")

    def reachable(self, n: int, alpha: float) -> tuple[bool, bool]:
        return _rate_reachable(n, self.zone, "greater", alpha)

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        check_zone(self.zone, 0.5, f"paired rule {self.better} vs {self.worse}")
        test = "exact sign test (paired by seed)"
        name = f"share of seeds where {self.better} beats {self.worse}"
        a, b = ev.values(self.better, self.metric_fn), ev.values(self.worse, self.metric_fn)
        common = dict(threshold=0.5, zone=self.zone, comparison="paired")
        if np.isnan(a).any() or np.isnan(b).any():
            return untestable(test, alpha, name, "a metric is NaN (map divergence to +-inf in the metric)",
                              settled=True, **common)
        same, n, findings = _pairing(ev, self.better, self.worse)
        if same == n:
            return untestable(test, alpha, name, _never_acted(self.better, self.worse, n), findings=findings,
                              **common)
        wins, m = _wins(a, b, self.higher_is_better)
        if m == 0:
            return untestable(test, alpha, name, f"all {n} seeds tie: no seed tells the arms apart",
                              findings=findings, **common)
        return rate_decision(
            wins, m, self.zone, 0.5, "greater", alpha, test, name,
            f"{self.what}: median {self.better}={np.median(a):.4g}, {self.worse}={np.median(b):.4g}; "
            f"{self.better} better in {wins} of {m} untied seeds ({n - m} ties)", explain,
            findings=findings, comparison="paired")


@dataclass(frozen=True)
class PairedBestOfGroupsRule:
    """The claim: ``best`` has a lower metric than each other group, seed by
    seed.  One exact sign test per other group.  SUPPORTED: ``best`` wins more
    than the zone's 0.6 of seeds against every group (an intersection-union
    test: each at alpha, no correction needed); REFUTED: it wins fewer than 0.4
    against some group (a union: Bonferroni over the groups).  Effect: the
    smallest share, with its interval."""

    groups: tuple[tuple[str, str], ...]  # (label, experiment)
    best: str  # a label
    metric_fn: Callable[[RunRecord], float]
    zone: tuple[float, float] = SHARE_ZONE

    @property
    def threshold(self) -> float:
        return 0.5

    @property
    def summary(self) -> str:
        return f"{self.best} lower than each of {len(self.groups) - 1} groups on more than {self.zone[1]:.0%} of seeds"

    def reachable(self, n: int, alpha: float) -> tuple[bool, bool]:
        pro, _ = _rate_reachable(n, self.zone, "greater", alpha)
        _, con = _rate_reachable(n, self.zone, "greater", alpha / (len(self.groups) - 1))
        return pro, con

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        check_zone(self.zone, 0.5, f"best-of-groups rule ({self.best})")
        test = "exact sign tests vs each group (intersection-union; Bonferroni for REFUTED)"
        name = f"share of seeds where {self.best} beats the other group (smallest)"
        exp = dict(self.groups)
        vals = {lab: ev.values(e, self.metric_fn) for lab, e in self.groups}
        common = dict(threshold=0.5, zone=self.zone, comparison="paired")
        if any(np.isnan(v).any() for v in vals.values()):
            return untestable(test, alpha, name, "a metric is NaN", settled=True, **common)
        others = [lab for lab, _ in self.groups if lab != self.best]
        rows, findings = {}, ()
        for o in others:
            same, n, f = _pairing(ev, exp[self.best], exp[o])
            findings += f
            if same == n:
                return untestable(test, alpha, name, _never_acted(exp[self.best], exp[o], n), findings=findings,
                                  **common)
            wins, m = _wins(vals[self.best], vals[o], higher_is_better=False)
            if m == 0:
                return untestable(test, alpha, name, f"vs {o}: all {n} seeds tie", findings=findings, **common)
            rows[o] = (wins, m, _binomial_p(wins, m, self.zone[1], "greater"), _binomial_p(wins, m, self.zone[0], "less"))
        k_other = len(others)
        pro = max(r[2] for r in rows.values())
        con = min(min(1.0, r[3] * k_other) for r in rows.values())
        verdict, p = _verdict(pro, con, alpha)
        worst = min(others, key=lambda o: rows[o][0] / rows[o][1])
        wins, m = rows[worst][:2]
        low, high = _clopper_pearson(wins, m, 1 - 2 * alpha)
        intervals = {o: _clopper_pearson(r[0], r[1], 1 - 2 * alpha) for o, r in rows.items()}
        at_line = (verdict is Verdict.INCONCLUSIVE
                   and all(rows[o][2] < alpha or inside(self.zone, *intervals[o]) for o in others))
        med = {lab: float(np.median(v)) for lab, v in vals.items()}
        return Decision(
            verdict=verdict, test=test, p_value=p, p_supported=float(pro), p_refuted=float(con), alpha=alpha, effect_name=name, effect=wins / m, ci_low=low,
            ci_high=high, at_threshold=at_line, statistic=float(wins),
            zone_factor=zone_factor(verdict, "greater", 0.5, self.zone, low, high),
            detail="medians: " + ", ".join(f"{k}={v:.4g}" for k, v in med.items()) + "; "
                   + "; ".join(f"{self.best} better than {o} in {r[0]}/{r[1]} untied seeds (p(>{self.zone[1]})="
                               f"{r[2]:.3g}, Bonferroni p(<{self.zone[0]})={min(1.0, r[3] * k_other):.3g})"
                               for o, r in rows.items()),
            findings=findings, **common,
        )


# ------------------------------------------------------------------ paired and one-sample means (t)

def _t_interval(x: np.ndarray, alpha: float) -> tuple[float, float]:
    ci = sps.ttest_1samp(x, 0.0).confidence_interval(confidence_level=1 - 2 * alpha)
    return float(ci.low), float(ci.high)


def _t_p(x: np.ndarray, value: float, alternative: str) -> float:
    return float(sps.ttest_1samp(x, value, alternative=alternative).pvalue)


def _abs_zone_factor(verdict: Verdict, margin: float, zone: tuple[float, float], low: float, high: float
                     ) -> float | None:
    """zone_factor for a claim about |effect| < margin (zone on |effect|)."""
    near, far = max(abs(low), abs(high)), (0.0 if low <= 0 <= high else min(abs(low), abs(high)))
    below, above = margin - zone[0], zone[1] - margin
    if verdict is Verdict.SUPPORTED:
        return (margin - near) / below
    if verdict is Verdict.REFUTED:
        return (far - margin) / above
    if inside(zone, far, near) and not (low <= 0 <= high):
        return max((margin - far) / below, (near - margin) / above, 0.0)
    return None


def _closeness(x: np.ndarray, centre: float, zone: tuple[float, float]) -> tuple[float, float]:
    """For the claim |mean(x) - centre| small with the zone on |.|: (p SUPPORTED, p REFUTED).
    SUPPORTED: TOST against centre +- zone[0]; REFUTED: the mean beyond centre +- zone[1] on either side."""
    pro = max(_t_p(x, centre - zone[0], "greater"), _t_p(x, centre + zone[0], "less"))
    con = min(_t_p(x, centre + zone[1], "greater"), _t_p(x, centre - zone[1], "less"))
    return pro, con


@dataclass(frozen=True)
class PairedEquivalenceRule:
    """The claim: ``a`` and ``b`` differ by less than ``margin`` in the mean of the
    metric.  Zone on |mean difference|: half a margin to one and a half margins.
    SUPPORTED: the paired difference's interval lies within +-margin/2 (TOST at
    those bounds); REFUTED: it lies beyond +-1.5 margins."""

    a: str
    b: str
    metric_fn: Callable[[RunRecord], float]
    margin: float
    what: str

    def __post_init__(self):
        if not self.margin > 0:
            raise SpecError(f"equivalence rule {self.what!r}: margin must be > 0")

    @property
    def threshold(self) -> float:
        return self.margin

    @property
    def zone(self) -> tuple[float, float]:
        return (0.5 * self.margin, 1.5 * self.margin)

    @property
    def summary(self) -> str:
        return f"|mean {self.what} difference| < {self.zone[0]:g}, the zone's near edge (paired TOST)"

    def reachable(self, n: int, alpha: float) -> tuple[bool, bool]:
        return n >= 3, n >= 3

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        test = "paired TOST (t on per-seed differences) against the zone's edges"
        name = f"mean {self.what} difference {self.a} - {self.b}"
        common = dict(threshold=self.margin, zone=self.zone, comparison="paired")
        got = _paired_differences(ev, self.a, self.b, self.metric_fn, test, name, alpha, common)
        if isinstance(got, Decision):
            return got
        d, findings = got
        mean, sd = float(d.mean()), float(d.std(ddof=1))
        pro, con = _closeness(d, 0.0, self.zone)
        low, high = _t_interval(d, alpha)
        verdict, p = _verdict(pro, con, alpha)
        at_line = verdict is Verdict.INCONCLUSIVE and (inside(self.zone, low, high)
                                                       or inside(self.zone, -high, -low))
        need = need_for = None
        if explain and verdict is Verdict.INCONCLUSIVE and not at_line:
            if abs(mean) < self.zone[0]:
                need = stats.t_seeds_needed(self.zone[0] - abs(mean), sd, alpha)
                need_for = (f"to show |difference| < {self.zone[0]:g} (SUPPORTED) if the true difference is "
                            f"{mean:.3g}")
            elif abs(mean) > self.zone[1]:
                need = stats.t_seeds_needed(abs(mean) - self.zone[1], sd, alpha)
                need_for = (f"to show |difference| > {self.zone[1]:g} (REFUTED) if the true difference is "
                            f"{mean:.3g}")
            else:
                need_for = "the difference lies inside the zone: more seeds narrow its interval toward 'on the line'"
        return Decision(
            verdict=verdict, test=test, p_value=p, p_supported=float(pro), p_refuted=float(con), alpha=alpha, effect_name=name, effect=mean, ci_low=low,
            ci_high=high, at_threshold=at_line, statistic=float(mean / (sd / math.sqrt(len(d)))),
            absolute=True, zone_factor=_abs_zone_factor(verdict, self.margin, self.zone, low, high),
            detail=f"{self.a} - {self.b}: {mean:.3f} ({1 - 2 * alpha:.2%} CI [{low:.3f}, {high:.3f}]); zone on "
                   f"|difference| {list(self.zone)} around the margin {self.margin}; p(|d| < {self.zone[0]:g})="
                   f"{pro:.3g}, p(|d| > {self.zone[1]:g})={con:.3g}",
            seeds_needed=need, seeds_needed_for=need_for, findings=findings, **common,
        )


def _paired_differences(ev: Evidence, a: str, b: str, metric_fn, test: str, name: str, alpha: float,
                        common: dict) -> tuple[np.ndarray, tuple[str, ...]] | Decision:
    """(a - b per seed, findings) for a paired mean rule, or "not testable here" when the evidence
    cannot carry a mean (a diverged run), the treatment never changed a run, or there is no spread.

    Where the treatment left some seeds' runs bit-identical (it did not act there: a clip that never
    engaged), the difference is decided on the seeds where it acted: exact zeros are not draws of a
    continuous difference, and a t test on them reports certainty it does not have (p = 4e-223 on 99
    zeros and one small value, 2026-11-30)."""
    x, y = ev.values(a, metric_fn), ev.values(b, metric_fn)
    mask = ev.identical(a, b)
    same, n = int(mask.sum()), len(mask)
    _, _, findings = _pairing(ev, a, b)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        bad = int((~np.isfinite(x)).sum() + (~np.isfinite(y)).sum())
        return untestable(test, alpha, name, f"{bad} run(s) diverged: a mean difference needs finite values",
                          settled=True, findings=findings, **common)
    if same == n:
        return untestable(test, alpha, name, _never_acted(a, b, n), findings=findings, effect=0.0, **common)
    d = (x - y)[:n][~mask]
    if same:
        findings += (f"decided on the {len(d)} of {n} seeds where {b} changed the run (the treatment did not "
                     f"act on the other {same})",)
    if len(d) < 3 or np.all(d == d[0]):
        what = f"the {len(d)} seeds where {b} changed the run" if same else f"the {n} seeds"
        return untestable(test, alpha, name, f"{what} give no spread of differences: a t test is undefined",
                          findings=findings, **common)
    return d, findings


@dataclass(frozen=True)
class PairedNonSuperiorityRule:
    """The claim: ``treated`` does not improve on ``base`` by ``margin`` or more
    (improvement = base - treated on a lower-is-better metric).  Zone on the mean
    improvement: half a margin to one and a half.  SUPPORTED: the improvement is
    significantly below half a margin (one-sided paired t); REFUTED:
    significantly above one and a half."""

    base: str
    treated: str
    metric_fn: Callable[[RunRecord], float]
    margin: float
    what: str

    def __post_init__(self):
        if not self.margin > 0:
            raise SpecError(f"non-superiority rule {self.what!r}: margin must be > 0")

    @property
    def threshold(self) -> float:
        return self.margin

    @property
    def zone(self) -> tuple[float, float]:
        return (0.5 * self.margin, 1.5 * self.margin)

    @property
    def summary(self) -> str:
        return f"mean {self.what} improvement < {self.zone[0]:g}, the zone's near edge (paired one-sided t)"

    def reachable(self, n: int, alpha: float) -> tuple[bool, bool]:
        return n >= 3, n >= 3

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        test = "paired one-sided t on the per-seed improvement, against the zone's edges"
        name = f"mean {self.what} improvement ({self.base} - {self.treated})"
        common = dict(threshold=self.margin, zone=self.zone, comparison="paired")
        got = _paired_differences(ev, self.base, self.treated, self.metric_fn, test, name, alpha, common)
        if isinstance(got, Decision):
            return got
        g, findings = got
        mean, sd = float(g.mean()), float(g.std(ddof=1))
        pro = _t_p(g, self.zone[0], "less")
        con = _t_p(g, self.zone[1], "greater")
        verdict, p = _verdict(pro, con, alpha)
        low, high = _t_interval(g, alpha)
        at_line = verdict is Verdict.INCONCLUSIVE and inside(self.zone, low, high)
        need = need_for = None
        if explain and verdict is Verdict.INCONCLUSIVE and not at_line:
            if mean < self.zone[0]:
                need = stats.t_seeds_needed(self.zone[0] - mean, sd, alpha)
                need_for = f"to show improvement < {self.zone[0]:g} (SUPPORTED) if the true improvement is {mean:.3g}"
            elif mean > self.zone[1]:
                need = stats.t_seeds_needed(mean - self.zone[1], sd, alpha)
                need_for = f"to show improvement > {self.zone[1]:g} (REFUTED) if the true improvement is {mean:.3g}"
            else:
                need_for = "the improvement lies inside the zone: more seeds narrow its interval toward 'on the line'"
        return Decision(
            verdict=verdict, test=test, p_value=p, p_supported=float(pro), p_refuted=float(con), alpha=alpha, effect_name=name, effect=mean, ci_low=low,
            ci_high=high, at_threshold=at_line, statistic=float((mean - self.zone[0]) / (sd / math.sqrt(len(g)))),
            zone_factor=zone_factor(verdict, "less", self.margin, self.zone, low, high),
            detail=f"improvement {mean:.3f} ({1 - 2 * alpha:.2%} CI [{low:.3f}, {high:.3f}]); zone "
                   f"{list(self.zone)} around the margin {self.margin}; p(< {self.zone[0]:g})={pro:.3g}, "
                   f"p(> {self.zone[1]:g})={con:.3g}",
            seeds_needed=need, seeds_needed_for=need_for, findings=findings, **common,
        )


@dataclass(frozen=True)
class MeanInBandRule:
    """The claim: the mean of every named per-seed metric lies in ``band``
    ("about c" = c +- half the band).  Zone on |mean - c|: half to one and a
    half half-widths.  SUPPORTED: every metric's mean is within c +- a quarter
    band (TOST each at alpha: an intersection-union test); REFUTED: some
    metric's mean lies beyond c +- three quarters of the band (Bonferroni over
    the metrics).  The effect reported is the metric named first."""

    exp: str
    metrics: tuple[tuple[str, Callable[[RunRecord], float]], ...]
    band: tuple[float, float]

    def __post_init__(self):
        if not (len(self.band) == 2 and self.band[0] < self.band[1]):
            raise SpecError(f"band rule on {self.exp}: band {list(self.band)} must be two increasing numbers")
        if not self.metrics:
            raise SpecError(f"band rule on {self.exp}: no metric")

    @property
    def centre(self) -> float:
        return (self.band[0] + self.band[1]) / 2

    @property
    def threshold(self) -> float:
        return (self.band[1] - self.band[0]) / 2

    @property
    def zone(self) -> tuple[float, float]:
        return (0.5 * self.threshold, 1.5 * self.threshold)

    @property
    def summary(self) -> str:
        c, (z0, _) = self.centre, self.zone
        return "mean " + " and ".join(m for m, _ in self.metrics) + f" within {c:g} +- {z0:g} (TOST each)"

    def reachable(self, n: int, alpha: float) -> tuple[bool, bool]:
        return n >= 3, n >= 3

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        test = "TOST (one-sample t) per metric against the zone's edges"
        first = self.metrics[0][0]
        name = f"mean {first} - {self.centre:g}"
        c, m, zone = self.centre, self.threshold, self.zone
        common = dict(threshold=m, zone=zone)
        k = len(self.metrics)
        rows, pros, cons = [], [], []
        for label, fn in self.metrics:
            x = ev.values(self.exp, fn)
            if not np.isfinite(x).all():
                return untestable(test, alpha, name, f"{label}: a value is not finite", settled=True, **common)
            if len(x) < 3 or np.all(x == x[0]):
                return untestable(test, alpha, name, f"{label}: the {len(x)} values have no spread: a t test is "
                                                     "undefined", **common)
            pro, con = _closeness(x, c, zone)
            low, high = _t_interval(x - c, alpha)
            pros.append(pro)
            cons.append(min(1.0, con * k))
            rows.append((label, float(x.mean()), low, high))
        pro, con = max(pros), min(cons)
        verdict, p = _verdict(pro, con, alpha)
        at_line = verdict is Verdict.INCONCLUSIVE and all(
            pr < alpha or inside(zone, lo, hi) or inside(zone, -hi, -lo) for pr, (_, _, lo, hi) in zip(pros, rows))
        _, m0, l0, h0 = rows[0]
        return Decision(
            verdict=verdict, test=test, p_value=p, p_supported=float(pro), p_refuted=float(con), alpha=alpha, effect_name=name, effect=m0 - c, ci_low=l0,
            ci_high=h0, at_threshold=at_line, absolute=True, zone_factor=_abs_zone_factor(verdict, m, zone, l0, h0),
            detail="; ".join(f"mean {lab} {mu:.3f} [{c + lo:.3f}, {c + hi:.3f}]" for lab, mu, lo, hi in rows)
                   + f" ({1 - 2 * alpha:.2%} CIs); about {c:g}: SUPPORTED within {c:g} +- {zone[0]:g}, REFUTED "
                     f"beyond {c:g} +- {zone[1]:g}; p(within)={pro:.3g}, Bonferroni p(beyond)={con:.3g}",
            **common,
        )


# ------------------------------------------------------------------ paired spread (permutation)

@functools.lru_cache(maxsize=8)
def _flips(n: int, resamples: int = SPREAD_RESAMPLES) -> np.ndarray:
    """Random sign flips (one row per resample, float32 for a fast product), the same for every call with n."""
    rng = np.random.default_rng([0x5F1, n])
    return rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(resamples, n))


class _SpreadTest:
    """The paired-swap permutation test of spread: u, v per seed (log10 of the metric, so spread is
    scale-free), each centred at its mean.  H0 at ratio c: the pairs (u_i, c v_i) are exchangeable, so
    w_i = u_i^2 - c^2 v_i^2 has mean 0 and its sign flips freely.  The statistic is studentized (the t of
    mean w), which keeps the test's level near alpha also when the two groups' shapes differ, where an
    unstudentized flip test is not exact (measured: harness/maintainer/error_rates.py).  Cheap for any c: the flipped
    sums of u^2 and v^2 are computed once."""

    def __init__(self, u: np.ndarray, v: np.ndarray):
        a, b = (u - u.mean()) ** 2, (v - v.mean()) ** 2
        f = _flips(len(u))
        self.n = len(u)
        self.a, self.b = a, b
        self.fa = (f @ a.astype(np.float32)).astype(float)
        self.fb = (f @ b.astype(np.float32)).astype(float)
        self.saa, self.sab, self.sbb = float(a @ a), float(a @ b), float(b @ b)
        self.ratio = math.sqrt(a.sum() / b.sum()) if b.sum() > 0 else math.inf

    def _t(self, sums, c: float):
        n, c2 = self.n, c * c
        q = self.saa - 2 * c2 * self.sab + c2 * c2 * self.sbb  # sum of w^2: the same under every flip
        var = np.maximum((q - sums * sums / n) / (n - 1), 1e-300)
        return (sums / n) / np.sqrt(var / n)

    def _stats(self, c: float):
        c2 = c * c
        return float(self._t(np.array(self.a.sum() - c2 * self.b.sum()), c)), self._t(self.fa - c2 * self.fb, c)

    def p_less(self, c: float) -> float:
        """p of 'spread(u) < c spread(v)'."""
        obs, perm = self._stats(c)
        return float((1 + np.sum(perm <= obs)) / (len(perm) + 1))

    def p_greater(self, c: float) -> float:
        obs, perm = self._stats(c)
        return float((1 + np.sum(perm >= obs)) / (len(perm) + 1))

    def interval(self, alpha: float) -> tuple[float, float]:
        """The ratios c no one-sided test at alpha rejects (bisection in log c)."""
        def edge(p, rising: bool) -> float:
            lo, hi = math.log(self.ratio) - 8, math.log(self.ratio) + 8
            for _ in range(30):  # 16 / 2^30 in log ratio
                mid = (lo + hi) / 2
                ok = p(math.exp(mid)) >= alpha
                if ok == rising:
                    hi = mid
                else:
                    lo = mid
            return math.exp((lo + hi) / 2)
        return edge(self.p_greater, True), edge(self.p_less, False)


@dataclass(frozen=True)
class PairedTighterRule:
    """The claim: ``tight`` has a smaller spread of the metric than each other
    group.  Spread is scale-free: the standard deviation of log10 of the metric
    (a box plot's width relative to its level: for MSE, how many times larger
    the large errors are than the small ones), so a group that is merely lower
    is not called tighter.  Paired-swap permutation test (sign flips of
    u^2 - c^2 v^2 of the centred log values, 9999 flips) against the zone's
    edges on the ratio of spreads.  SUPPORTED: the ratio is below 0.8 against
    every group (intersection-union); REFUTED: above 1.25 against some group
    (Bonferroni).  Effect: the largest ratio, with its interval (the test
    inverted)."""

    groups: tuple[tuple[str, str], ...]
    tight: str
    metric_fn: Callable[[RunRecord], float]
    zone: tuple[float, float] = SPREAD_ZONE
    # False: the spread of the metric itself (a reading on a box plot's raw scale, where lower is also tighter)
    log10: bool = True

    @property
    def threshold(self) -> float:
        return 1.0

    @property
    def summary(self) -> str:
        return (f"{self.tight}'s spread of log10 metric below {self.zone[0]} x each other group's "
                "(paired-swap permutation test)")

    def reachable(self, n: int, alpha: float) -> tuple[bool, bool]:
        k_other = len(self.groups) - 1
        smallest = max(1 / (SPREAD_RESAMPLES + 1), 0.5 ** n)
        valid = n >= SPREAD_MIN_SEEDS
        return valid and smallest < alpha, valid and smallest < alpha / k_other

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        check_zone(self.zone, 1.0, f"spread rule ({self.tight})")
        scale = "log10 " if self.log10 else ""
        test = f"paired-swap permutation test of the spread of {scale or 'raw '}values"
        name = f"SD of {scale}metric, {self.tight} / other (largest)"
        exp = dict(self.groups)
        vals = {lab: ev.values(e, self.metric_fn) for lab, e in self.groups}
        common = dict(threshold=1.0, zone=self.zone, comparison="paired")
        if not all(np.isfinite(v).all() and (v > 0).all() for v in vals.values()):
            return untestable(test, alpha, name, "a run diverged (or a metric is not positive): the spread of its "
                                                 "log is undefined", settled=True, **common)
        others = [lab for lab, _ in self.groups if lab != self.tight]
        n = min(len(v) for v in vals.values())
        if n < SPREAD_MIN_SEEDS:
            return Decision(verdict=Verdict.INCONCLUSIVE, test=test, p_value=None, alpha=alpha, effect_name=name,
                            effect=None, detail=f"{n} seeds: the spread test holds its level from "
                                                f"{SPREAD_MIN_SEEDS} seeds; decided at a later look",
                            seeds_needed=SPREAD_MIN_SEEDS, seeds_needed_for="for the spread test's level", **common)
        scaled = np.log10 if self.log10 else (lambda x: np.asarray(x, dtype=float))
        u = scaled(vals[self.tight])
        tests, findings = {}, ()
        for o in others:
            same, n, f = _pairing(ev, exp[self.tight], exp[o])
            findings += f
            if same == n:
                return untestable(test, alpha, name, _never_acted(exp[self.tight], exp[o], n), findings=findings,
                                  **common)
            v = scaled(vals[o])
            if n < 3 or np.all(u == u[0]) or np.all(v == v[0]):
                return untestable(test, alpha, name, f"vs {o}: no spread to compare", findings=findings, **common)
            tests[o] = _SpreadTest(u, v)
        k_other = len(others)
        pros = {o: t.p_less(self.zone[0]) for o, t in tests.items()}
        cons = {o: min(1.0, t.p_greater(self.zone[1]) * k_other) for o, t in tests.items()}
        pro, con = max(pros.values()), min(cons.values())
        verdict, p = _verdict(pro, con, alpha)
        worst = max(others, key=lambda o: tests[o].ratio)
        # The interval (the test inverted) lies inside the zone exactly when the tests at the zone's edges
        # reject from inside: two evaluations instead of a bisection (simulations skip the intervals).
        at_line = verdict is Verdict.INCONCLUSIVE and all(
            pros[o] < alpha or (tests[o].p_greater(self.zone[0]) < alpha and tests[o].p_less(self.zone[1]) < alpha)
            for o in others)
        intervals = {o: tests[o].interval(alpha) for o in others} if explain else {}
        low, high = intervals.get(worst, (None, None))
        return Decision(
            verdict=verdict, test=test, p_value=p, p_supported=float(pro), p_refuted=float(con), alpha=alpha, effect_name=name, effect=tests[worst].ratio,
            ci_low=low, ci_high=high, at_threshold=at_line,
            zone_factor=zone_factor(verdict, "less", 1.0, self.zone, low, high) if intervals else None,
            detail="; ".join(f"vs {o}: spread ratio {tests[o].ratio:.3g}"
                             + (f" [{intervals[o][0]:.3g}, {intervals[o][1]:.3g}]" if intervals else "")
                             + f", p(< {self.zone[0]})={pros[o]:.3g}, Bonferroni p(> {self.zone[1]})={cons[o]:.3g}"
                             for o in others),
            findings=findings, **common,
        )
