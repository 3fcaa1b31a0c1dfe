"""Rules on two arms compared seed by seed: sign tests on the share of seeds won, and t tests on the mean
per-seed difference (equivalence, non-superiority)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from harness.spec import Decision, Evidence, SpecError, Verdict, check_zone
from harness.statistics import stats
from harness.statistics.decisions import (DEFAULT_ALPHA, inside, never_acted, pairing, pairing_or_untestable,
                                          untestable, zone_factor, zone_verdict)
from harness.statistics.means import MarginZoneRule, abs_zone_factor, closeness, t_interval, t_p
from harness.statistics.rates import (SHARE_ZONE, ShareOfSeedsRule, binomial_p, clopper_pearson, rate_decision,
                                      rate_reachable)
from harness.training.records import RunRecord


# ------------------------------------------------------------------ sign tests

def _finite_rank_diffs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b per seed for a sign test, where +inf (a diverged run) ranks worst:
    both inf is a tie (0); one inf becomes a difference larger than every finite one."""
    both = (a == b)
    with np.errstate(invalid="ignore"):
        d = np.where(both, 0.0, a - b)
    finite = np.abs(d[np.isfinite(d)])
    big = 2 * (finite.max() if finite.size else 1.0) + 1
    return np.where(np.isfinite(d), d, np.sign(d) * big)


def _wins(a: np.ndarray, b: np.ndarray, higher_is_better: bool) -> tuple[int, int]:
    """(seeds where ``a`` beats ``b``, seeds not tied)."""
    d = _finite_rank_diffs(a, b)
    return int(np.sum(np.sign(d) == (1 if higher_is_better else -1))), int(np.sum(d != 0))


@dataclass(frozen=True)
class PairedShiftRule(ShareOfSeedsRule):
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
    def summary(self) -> str:
        return (f"{self.better} {'higher' if self.higher_is_better else 'lower'} than {self.worse} on more than "
                f"{self.zone[1]:.0%} of seeds (paired exact sign test)")

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        check_zone(self.zone, 0.5, f"paired rule {self.better} vs {self.worse}")
        test = "exact sign test (paired by seed)"
        name = f"share of seeds where {self.better} beats {self.worse}"
        a, b = ev.values(self.better, self.metric_fn), ev.values(self.worse, self.metric_fn)
        common = dict(threshold=0.5, zone=self.zone, comparison="paired")
        if np.isnan(a).any() or np.isnan(b).any():
            return untestable(test, alpha, name, "a metric is NaN (map divergence to +-inf in the metric)",
                              settled=True, **common)
        n, findings, never = pairing_or_untestable(ev, self.better, self.worse, (), test, alpha, name, common)
        if never is not None:
            return never
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
class PairedBestOfGroupsRule(ShareOfSeedsRule):
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
    def summary(self) -> str:
        return f"{self.best} lower than each of {len(self.groups) - 1} groups on more than {self.zone[1]:.0%} of seeds"

    def reachable(self, n: int, alpha: float) -> tuple[bool, bool]:
        pro, _ = rate_reachable(n, self.zone, "greater", alpha)
        _, con = rate_reachable(n, self.zone, "greater", alpha / (len(self.groups) - 1))
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
            n, findings, never = pairing_or_untestable(ev, exp[self.best], exp[o], findings, test, alpha, name, common)
            if never is not None:
                return never
            wins, m = _wins(vals[self.best], vals[o], higher_is_better=False)
            if m == 0:
                return untestable(test, alpha, name, f"vs {o}: all {n} seeds tie", findings=findings, **common)
            rows[o] = (wins, m, binomial_p(wins, m, self.zone[1], "greater"), binomial_p(wins, m, self.zone[0], "less"))
        k_other = len(others)
        pro = max(r[2] for r in rows.values())
        con = min(min(1.0, r[3] * k_other) for r in rows.values())
        verdict, p = zone_verdict(pro, con, alpha)
        worst = min(others, key=lambda o: rows[o][0] / rows[o][1])
        wins, m = rows[worst][:2]
        low, high = clopper_pearson(wins, m, 1 - 2 * alpha)
        intervals = {o: clopper_pearson(r[0], r[1], 1 - 2 * alpha) for o, r in rows.items()}
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


# ------------------------------------------------------------------ paired means (t)

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
    _, _, findings = pairing(ev, a, b)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        bad = int((~np.isfinite(x)).sum() + (~np.isfinite(y)).sum())
        return untestable(test, alpha, name, f"{bad} run(s) diverged: a mean difference needs finite values",
                          settled=True, findings=findings, **common)
    if same == n:
        return untestable(test, alpha, name, never_acted(a, b, n), findings=findings, effect=0.0, **common)
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
class _MeanTest:
    """The t tests of one paired mean rule on its per-seed differences ``d``."""

    d: np.ndarray
    mean: float
    sd: float
    pro: float  # p of SUPPORTED
    con: float  # p of REFUTED
    low: float
    high: float
    verdict: Verdict
    alpha: float


class _PairedMeanRule(MarginZoneRule):
    """What the paired mean rules share: a margin > 0 as threshold, the zone around it, the per-seed
    differences of the two ``arms``, the t interval and verdict, and the seeds a later look needs.  A rule
    says which tests its zone asks for (``_p_values``, ``_interval_inside``) and how its decision reads
    (``_reading``); ``absolute``: the zone is on |mean difference|."""

    kind: str  # the rule in words, for its errors
    test: str
    noun: str  # the quantity tested, in words
    absolute: bool

    def __post_init__(self):
        if not self.margin > 0:
            raise SpecError(f"{self.kind} {self.what!r}: margin must be > 0")

    @property
    def threshold(self) -> float:
        return self.margin

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        first, second = self.arms
        common = dict(threshold=self.margin, zone=self.zone, comparison="paired")
        got = _paired_differences(ev, first, second, self.metric_fn, self.test, self.effect_name, alpha, common)
        if isinstance(got, Decision):
            return got
        d, findings = got
        mean, sd = float(d.mean()), float(d.std(ddof=1))
        pro, con = self._p_values(d)
        low, high = t_interval(d, alpha)
        verdict, p = zone_verdict(pro, con, alpha)
        at_line = verdict is Verdict.INCONCLUSIVE and self._interval_inside(low, high)
        need = need_for = None
        if explain and verdict is Verdict.INCONCLUSIVE and not at_line:
            need, need_for = self._seeds_needed(mean, sd, alpha)
        t = _MeanTest(d, mean, sd, pro, con, low, high, verdict, alpha)
        return Decision(
            verdict=verdict, test=self.test, p_value=p, p_supported=float(pro), p_refuted=float(con), alpha=alpha,
            effect_name=self.effect_name, effect=mean, ci_low=low, ci_high=high, at_threshold=at_line,
            absolute=self.absolute, seeds_needed=need, seeds_needed_for=need_for, findings=findings,
            **self._reading(t), **common)

    def _seeds_needed(self, mean: float, sd: float, alpha: float) -> tuple[int | None, str]:
        """(seeds, what for) a later look needs, for an undecided mean whose interval is not inside the zone:
        the t test's seeds against the nearer edge, at the observed mean and spread."""
        size = abs(mean) if self.absolute else mean
        shown = f"|{self.noun}|" if self.absolute else self.noun
        z0, z1 = self.zone
        if size < z0:
            return (stats.t_seeds_needed(z0 - size, sd, alpha),
                    f"to show {shown} < {z0:g} (SUPPORTED) if the true {self.noun} is {mean:.3g}")
        if size > z1:
            return (stats.t_seeds_needed(size - z1, sd, alpha),
                    f"to show {shown} > {z1:g} (REFUTED) if the true {self.noun} is {mean:.3g}")
        return None, f"the {self.noun} lies inside the zone: more seeds narrow its interval toward 'on the line'"


@dataclass(frozen=True)
class PairedEquivalenceRule(_PairedMeanRule):
    """The claim: ``a`` and ``b`` differ by less than ``margin`` in the mean of the
    metric.  Zone on |mean difference|: half a margin to one and a half margins.
    SUPPORTED: the paired difference's interval lies within +-margin/2 (TOST at
    those bounds); REFUTED: it lies beyond +-1.5 margins."""

    a: str
    b: str
    metric_fn: Callable[[RunRecord], float]
    margin: float
    what: str

    kind = "equivalence rule"
    test = "paired TOST (t on per-seed differences) against the zone's edges"
    noun = "difference"
    absolute = True

    @property
    def arms(self) -> tuple[str, str]:
        return self.a, self.b

    @property
    def effect_name(self) -> str:
        return f"mean {self.what} difference {self.a} - {self.b}"

    @property
    def summary(self) -> str:
        return f"|mean {self.what} difference| < {self.zone[0]:g}, the zone's near edge (paired TOST)"

    def _p_values(self, d: np.ndarray) -> tuple[float, float]:
        return closeness(d, 0.0, self.zone)

    def _interval_inside(self, low: float, high: float) -> bool:
        return inside(self.zone, low, high) or inside(self.zone, -high, -low)

    def _reading(self, t: _MeanTest) -> dict:
        return dict(
            statistic=float(t.mean / (t.sd / math.sqrt(len(t.d)))),
            zone_factor=abs_zone_factor(t.verdict, self.margin, self.zone, t.low, t.high),
            detail=f"{self.a} - {self.b}: {t.mean:.3f} ({1 - 2 * t.alpha:.2%} CI [{t.low:.3f}, {t.high:.3f}]); zone "
                   f"on |difference| {list(self.zone)} around the margin {self.margin}; p(|d| < {self.zone[0]:g})="
                   f"{t.pro:.3g}, p(|d| > {self.zone[1]:g})={t.con:.3g}")


@dataclass(frozen=True)
class PairedNonSuperiorityRule(_PairedMeanRule):
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

    kind = "non-superiority rule"
    test = "paired one-sided t on the per-seed improvement, against the zone's edges"
    noun = "improvement"
    absolute = False

    @property
    def arms(self) -> tuple[str, str]:
        return self.base, self.treated

    @property
    def effect_name(self) -> str:
        return f"mean {self.what} improvement ({self.base} - {self.treated})"

    @property
    def summary(self) -> str:
        return f"mean {self.what} improvement < {self.zone[0]:g}, the zone's near edge (paired one-sided t)"

    def _p_values(self, d: np.ndarray) -> tuple[float, float]:
        return t_p(d, self.zone[0], "less"), t_p(d, self.zone[1], "greater")

    def _interval_inside(self, low: float, high: float) -> bool:
        return inside(self.zone, low, high)

    def _reading(self, t: _MeanTest) -> dict:
        return dict(
            statistic=float((t.mean - self.zone[0]) / (t.sd / math.sqrt(len(t.d)))),
            zone_factor=zone_factor(t.verdict, "less", self.margin, self.zone, t.low, t.high),
            detail=f"improvement {t.mean:.3f} ({1 - 2 * t.alpha:.2%} CI [{t.low:.3f}, {t.high:.3f}]); zone "
                   f"{list(self.zone)} around the margin {self.margin}; p(< {self.zone[0]:g})={t.pro:.3g}, "
                   f"p(> {self.zone[1]:g})={t.con:.3g}")
