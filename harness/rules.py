"""Decision rules: evidence in, a :class:`~harness.claims.Decision` out.

Each rule is a small frozen dataclass called as ``rule(evidence, alpha)``
(``explain=False`` skips the seeds-needed planning, for simulations);
``alpha`` is the level of each one-sided test (the sequential design splits the
claim's error budget over both directions and every look, see
:mod:`harness.sequential`).  Every rule can end SUPPORTED, REFUTED or
INCONCLUSIVE, reports its effect with the interval at confidence 1 - 2 alpha,
the threshold the claim compares the effect with and an indifference zone
around it, and says how many seeds would decide it, and in which direction.

Two experiments decided together share seeds, and with them the random
streams: one seed gives both the same data split and the same batch order, and
the same initial weights when the architectures match.  So every two-sample
comparison here is paired, seed by seed.

Evidence a rule cannot decide (too few seeds, a diverged run where a mean is
needed, no variation to rank) gives a named INCONCLUSIVE with ``p_value=None``,
never an exception or a NaN shown as a number.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from . import stats
from .claims import CLAIM_ALPHA, Decision, Evidence, Verdict
from .records import RunRecord

# One look, both directions: each one-sided test at half the claim's alpha.
DEFAULT_ALPHA = CLAIM_ALPHA / 2
MIN_SEEDS = 5  # below this no rule here has a test that can reach its alpha


def _verdict(p_claimed: float, p_opposite: float, alpha: float) -> tuple[Verdict, float]:
    if p_claimed < alpha:
        return Verdict.SUPPORTED, p_claimed
    if p_opposite < alpha:
        return Verdict.REFUTED, p_opposite
    return Verdict.INCONCLUSIVE, p_claimed


def inside(zone: tuple[float, float] | None, low: float | None, high: float | None) -> bool:
    """The whole interval [low, high] lies inside the zone."""
    return (zone is not None and low is not None and high is not None
            and zone[0] <= low and high <= zone[1])


def undecidable(test: str, alpha: float, effect_name: str, reason: str, **kw) -> Decision:
    """A named INCONCLUSIVE: the rule could not run its test on this evidence."""
    return Decision(verdict=Verdict.INCONCLUSIVE, test=test, p_value=None, alpha=alpha, effect_name=effect_name,
                    effect=None, detail=f"not decidable: {reason}", **kw)


def identical_runs(a: list[RunRecord], b: list[RunRecord]) -> int:
    """Seeds whose two runs are bit-identical: every History value of every epoch and every final metric."""
    def same(x, y) -> bool:
        if x.history.keys() != y.history.keys() or x.metrics.keys() != y.metrics.keys():
            return False
        for k in x.history:
            if not np.array_equal(np.asarray(x.history[k], float), np.asarray(y.history[k], float), equal_nan=True):
                return False
        return all(x.metrics[k] == y.metrics[k] or (isinstance(x.metrics[k], float) and isinstance(y.metrics[k], float)
                                                    and math.isnan(x.metrics[k]) and math.isnan(y.metrics[k]))
                   for k in x.metrics)

    return sum(same(x, y) for x, y in zip(a, b))


def _pairing_findings(ev: Evidence, a: str, b: str, what_b: str) -> tuple[str, ...]:
    n = min(len(ev.runs[a]), len(ev.runs[b]))
    same = identical_runs(ev.runs[a][:n], ev.runs[b][:n])
    if same == n:
        return (f"{what_b}: {n}/{n} seeds bit-identical to {a} (every epoch, every metric)",)
    if same:
        return (f"{what_b}: {same}/{n} seeds bit-identical to {a}",)
    return ()


def _finite_rank_diffs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b per seed for a rank test, where +inf (a diverged run) ranks worst:
    both inf is a tie (0); one inf becomes a difference larger than every finite one."""
    both = (a == b)
    with np.errstate(invalid="ignore"):
        d = np.where(both, 0.0, a - b)
    finite = np.abs(d[np.isfinite(d)])
    big = 2 * (finite.max() if finite.size else 1.0) + 1
    return np.where(np.isfinite(d), d, np.sign(d) * big)


# ------------------------------------------------------------------ rates

@dataclass(frozen=True)
class RateRule:
    """The claim: the per-seed ``outcome`` happens at a rate > p0 (claimed="greater")
    or < p0 ("less").  Exact binomial tests both ways; interval Clopper-Pearson.
    ``zone``: rates the claim treats as "on the line", given in the claim spec."""

    exp: str
    outcome: Callable[[RunRecord], bool]
    p0: float
    claimed: str
    what: str
    zone: tuple[float, float]

    @property
    def summary(self) -> str:
        return f"rate of seeds that {self.what} {'>' if self.claimed == 'greater' else '<'} {self.p0} (exact binomial)"

    def __post_init__(self):
        if self.claimed not in ("greater", "less"):
            raise ValueError(f"claimed must be 'greater' or 'less', got {self.claimed!r}")
        if not (0 < self.p0 < 1 and self.zone[0] <= self.p0 <= self.zone[1]):
            raise ValueError("need 0 < p0 < 1 inside the zone")

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        hits = [bool(self.outcome(r)) for r in ev.runs[self.exp]]
        return self.from_counts(sum(hits), len(hits), alpha, explain, hits)

    def from_counts(self, k: int, n: int, alpha: float = DEFAULT_ALPHA, explain: bool = True,
                    hits: list[bool] | None = None) -> Decision:
        """The decision on ``k`` hits in ``n`` seeds (all a rate rule looks at)."""
        opposite = {"greater": "less", "less": "greater"}[self.claimed]
        sign = ">" if self.claimed == "greater" else "<"
        name = f"rate of seeds that {self.what}"
        if n == 0:
            return undecidable("exact binomial", alpha, name, "no seeds", threshold=self.p0, zone=self.zone)
        pro = stats.binomial_rate(k, n, self.p0, self.claimed).p_value
        con = stats.binomial_rate(k, n, self.p0, opposite).p_value
        low, high = stats.clopper_pearson(k, n, 1 - 2 * alpha)
        verdict, p = _verdict(pro, con, alpha)
        at_line = verdict is Verdict.INCONCLUSIVE and inside(self.zone, low, high)
        need = need_for = None
        if explain and verdict is Verdict.INCONCLUSIVE and not at_line:
            # Power at the observed rate, nudged off p0 so a tie still gives a number.
            rate = k / n if k / n != self.p0 else self.p0 + (0.5 / n if self.claimed == "greater" else -0.5 / n)
            rate = min(max(rate, 1e-3), 1 - 1e-3)
            side = self.claimed if (rate > self.p0) == (self.claimed == "greater") else opposite
            need = stats.binomial_seeds_needed(rate, self.p0, side, alpha)
            shows = "SUPPORTED" if side == self.claimed else "REFUTED"
            need_for = f"to show rate {'>' if side == 'greater' else '<'} {self.p0} ({shows}) if the true rate is {rate:.3g}"
        return Decision(
            verdict=verdict, test="exact binomial", p_value=p, alpha=alpha, effect_name=name, effect=k / n,
            ci_low=low, ci_high=high, threshold=self.p0, zone=self.zone, at_threshold=at_line, statistic=float(k),
            detail=f"{k}/{n} seeds {self.what}; claimed rate {sign} {self.p0}; p(claimed)={pro:.3g}, "
                   f"p(opposite)={con:.3g} at alpha {alpha:.3g} each",
            seeds_needed=need, seeds_needed_for=need_for, outcomes={self.exp: hits} if hits is not None else None,
        )


# ------------------------------------------------------------------ paired comparisons

def _win_share(d: np.ndarray, better_sign: int) -> tuple[int, int]:
    """(wins, decided pairs): seeds where the difference has the better sign, among non-ties."""
    wins = int(np.sum(np.sign(d) == better_sign))
    return wins, int(np.sum(d != 0))


@dataclass(frozen=True)
class PairedShiftRule:
    """The claim: ``better`` beats ``worse`` on the metric, seed by seed.  Wilcoxon
    signed-rank, one-sided both ways (ties split, never dropped); effect = the
    share of seeds, among those not tied, where ``better`` wins, with its
    Clopper-Pearson interval; 0.5 is no difference."""

    better: str
    worse: str
    metric_fn: Callable[[RunRecord], float]
    higher_is_better: bool
    what: str
    zone: tuple[float, float] = (0.4, 0.6)

    @property
    def summary(self) -> str:
        return f"{self.better} {'higher' if self.higher_is_better else 'lower'} than {self.worse} (paired Wilcoxon)"

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        test = "Wilcoxon signed-rank (paired by seed)"
        name = f"share of seeds where {self.better} beats {self.worse}"
        a, b = ev.values(self.better, self.metric_fn), ev.values(self.worse, self.metric_fn)
        common = dict(threshold=0.5, zone=self.zone, design="paired")
        if np.isnan(a).any() or np.isnan(b).any():
            return undecidable(test, alpha, name, "a metric is NaN (map divergence to +-inf in the metric)", **common)
        if len(a) < MIN_SEEDS:
            return undecidable(test, alpha, name, f"{len(a)} seeds; the test needs at least {MIN_SEEDS}", **common)
        d = _finite_rank_diffs(a, b)
        findings = _pairing_findings(ev, self.better, self.worse, self.worse)
        if not d.any():
            return undecidable(test, alpha, name, f"all {len(d)} seeds tie: no ranks to test", findings=findings,
                               **common)
        claimed = "greater" if self.higher_is_better else "less"
        back = "less" if self.higher_is_better else "greater"
        pro = float(sps.wilcoxon(d, alternative=claimed, zero_method="zsplit").pvalue)
        con = float(sps.wilcoxon(d, alternative=back, zero_method="zsplit").pvalue)
        verdict, p = _verdict(pro, con, alpha)
        wins, m = _win_share(d, 1 if self.higher_is_better else -1)
        low, high = stats.clopper_pearson(wins, m, 1 - 2 * alpha) if m else (0.0, 1.0)
        share = wins / m if m else 0.5
        at_line = verdict is Verdict.INCONCLUSIVE and inside(self.zone, low, high)
        need = need_for = None
        if explain and verdict is Verdict.INCONCLUSIVE and not at_line and share != 0.5:
            # Sign-test power: a lower bound for the signed-rank test's.
            side = "greater" if share > 0.5 else "less"
            need = stats.binomial_seeds_needed(min(max(share, 1e-3), 1 - 1e-3), 0.5, side, alpha)
            need_for = (f"to show {'SUPPORTED' if share > 0.5 else 'REFUTED'} if {self.better} wins "
                        f"{share:.0%} of seeds (sign-test power, conservative)")
        return Decision(
            verdict=verdict, test=test, p_value=p, alpha=alpha, effect_name=name, effect=share, ci_low=low,
            ci_high=high, at_threshold=at_line, statistic=float(wins),
            detail=f"{self.what}: median {self.better}={np.median(a):.4g}, {self.worse}={np.median(b):.4g}; "
                   f"{self.better} better in {wins} of {m} untied seeds ({len(d) - m} ties); "
                   f"p(claimed)={pro:.3g}, p(opposite)={con:.3g}",
            seeds_needed=need, seeds_needed_for=need_for, findings=findings, **common,
        )


def _paired_differences(ev: Evidence, a: str, b: str, metric_fn, test: str, name: str, alpha: float,
                        common: dict) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]] | Decision:
    """(x, y, findings) for a paired mean-difference rule, or the named INCONCLUSIVE when the
    evidence cannot carry a mean (a diverged run) or is too small."""
    x, y = ev.values(a, metric_fn), ev.values(b, metric_fn)
    findings = _pairing_findings(ev, a, b, b)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        bad = int((~np.isfinite(x)).sum() + (~np.isfinite(y)).sum())
        return undecidable(test, alpha, name, f"{bad} run(s) diverged: a mean difference needs finite values",
                           findings=findings, **common)
    if len(x) < MIN_SEEDS:
        return undecidable(test, alpha, name, f"{len(x)} seeds; the test needs at least {MIN_SEEDS}",
                           findings=findings, **common)
    return x, y, findings


def _exactly(verdict_ok: bool, test: str, alpha: float, name: str, mean: float, bound: str, findings, common
             ) -> Decision:
    """Every seed's difference is the same: no spread, the mean is known exactly and decides alone."""
    return Decision(verdict=Verdict.SUPPORTED if verdict_ok else Verdict.REFUTED, test=test + ", exact", p_value=0.0,
                    alpha=alpha, effect_name=name, effect=mean, ci_low=mean, ci_high=mean,
                    detail=f"every seed's difference is {mean:.4g}: no spread, decided exactly against {bound}",
                    findings=findings, **common)


@dataclass(frozen=True)
class PairedEquivalenceRule:
    """The claim: ``a`` and ``b`` differ by less than ``margin`` in the mean of the
    metric.  Paired TOST (statsmodels ``ttost_paired``) on the per-seed
    differences; REFUTED when the 1 - 2 alpha interval lies wholly outside the
    margin.  The zone: an interval within half a margin of the margin's edge
    on either side, where the difference is about the margin itself."""

    a: str
    b: str
    metric_fn: Callable[[RunRecord], float]
    margin: float
    what: str

    @property
    def zone(self) -> tuple[float, float]:
        return (0.5 * self.margin, 1.5 * self.margin)

    @property
    def summary(self) -> str:
        return f"mean {self.what} difference within +-{self.margin} (paired TOST)"

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        from statsmodels.stats.weightstats import ttost_paired

        test = "paired TOST (t on per-seed differences)"
        name = f"mean {self.what} difference {self.a} - {self.b}"
        common = dict(threshold=self.margin, zone=self.zone, design="paired")
        got = _paired_differences(ev, self.a, self.b, self.metric_fn, test, name, alpha, common)
        if isinstance(got, Decision):
            return got
        x, y, findings = got
        d = x - y
        mean = float(d.mean())
        if np.all(d == d[0]):
            return _exactly(abs(mean) < self.margin, test, alpha, name, mean, f"the margin +-{self.margin}",
                            findings, common)
        p, lo, hi = ttost_paired(x, y, -self.margin, self.margin)
        ci = sps.ttest_1samp(d, 0.0).confidence_interval(confidence_level=1 - 2 * alpha)
        low, high = float(ci.low), float(ci.high)
        if float(p) < alpha:
            verdict = Verdict.SUPPORTED
        elif low > self.margin or high < -self.margin:
            side = 1.0 if mean >= 0 else -1.0  # test |difference| > margin on the side the mean is on
            verdict, p = Verdict.REFUTED, float(sps.ttest_1samp(side * d, self.margin, alternative="greater").pvalue)
        else:
            verdict = Verdict.INCONCLUSIVE
        abs_ci = (low, high) if mean >= 0 else (-high, -low)
        at_line = verdict is Verdict.INCONCLUSIVE and inside(self.zone, *abs_ci)
        need = need_for = None
        if explain and verdict is Verdict.INCONCLUSIVE and not at_line:
            var = float(d.var(ddof=1))
            if abs(mean) < self.margin:
                need = stats.tost_seeds_needed(mean, self.margin, var, alpha)
                need_for = f"to show |difference| < {self.margin} (SUPPORTED) if the true difference is {mean:.3g}"
            else:
                need = _beyond_margin_seeds(abs(mean), self.margin, var, alpha)
                need_for = f"to show |difference| > {self.margin} (REFUTED) if the true difference is {mean:.3g}"
        return Decision(
            verdict=verdict, test=test, p_value=float(p), alpha=alpha, effect_name=name, effect=mean, ci_low=low,
            ci_high=high, at_threshold=at_line, statistic=float(mean / (d.std(ddof=1) / math.sqrt(len(d)))),
            detail=f"{self.a} - {self.b}: {mean:.3f} ({1 - 2 * alpha:.2%} CI [{low:.3f}, {high:.3f}]), margin "
                   f"+-{self.margin}; per-seed correlation {np.corrcoef(x, y)[0, 1]:.3f}; TOST p={float(p):.3g}",
            seeds_needed=need, seeds_needed_for=need_for, findings=findings, **common,
        )


def _beyond_margin_seeds(diff: float, margin: float, variance: float, alpha: float, power: float = 0.8) -> int | None:
    """Seeds a one-sided t needs to show a true |difference| ``diff`` > ``margin`` (normal approximation)."""
    gap = diff - margin
    if gap <= 0:
        return None
    z = sps.norm.ppf(1 - alpha) + sps.norm.ppf(power)
    return max(2, math.ceil(z ** 2 * variance / gap ** 2))


@dataclass(frozen=True)
class PairedNonSuperiorityRule:
    """The claim: ``treated`` does not improve on ``base`` by ``margin`` or more
    (improvement = base - treated on a lower-is-better metric).  One-sided paired
    t on the per-seed improvement (the non-superiority half of a TOST):
    SUPPORTED when the mean improvement is significantly below the margin,
    REFUTED when significantly above it."""

    base: str
    treated: str
    metric_fn: Callable[[RunRecord], float]
    margin: float
    what: str

    @property
    def zone(self) -> tuple[float, float]:
        return (0.5 * self.margin, 1.5 * self.margin)

    @property
    def summary(self) -> str:
        return f"mean {self.what} improvement < {self.margin} (paired non-superiority t)"

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        test = "paired non-superiority t (one-sided, on per-seed improvement)"
        name = f"mean {self.what} improvement ({self.base} - {self.treated})"
        common = dict(threshold=self.margin, zone=self.zone, design="paired")
        got = _paired_differences(ev, self.base, self.treated, self.metric_fn, test, name, alpha, common)
        if isinstance(got, Decision):
            return got
        x, y, findings = got
        g = x - y
        mean = float(g.mean())
        if np.all(g == g[0]):
            return _exactly(mean < self.margin, test, alpha, name, mean, f"the margin {self.margin}", findings, common)
        pro = float(sps.ttest_1samp(g, self.margin, alternative="less").pvalue)
        con = float(sps.ttest_1samp(g, self.margin, alternative="greater").pvalue)
        verdict, p = _verdict(pro, con, alpha)
        ci = sps.ttest_1samp(g, 0.0).confidence_interval(confidence_level=1 - 2 * alpha)
        low, high = float(ci.low), float(ci.high)
        at_line = verdict is Verdict.INCONCLUSIVE and inside(self.zone, low, high)
        need = need_for = None
        if explain and verdict is Verdict.INCONCLUSIVE and not at_line:
            var = float(g.var(ddof=1))
            if mean < self.margin:
                need = stats.tost_seeds_needed(mean, self.margin, var, alpha, one_sided=True)
                need_for = f"to show improvement < {self.margin} (SUPPORTED) if the true improvement is {mean:.3g}"
            else:
                need = _beyond_margin_seeds(mean, self.margin, var, alpha)
                need_for = f"to show improvement > {self.margin} (REFUTED) if the true improvement is {mean:.3g}"
        return Decision(
            verdict=verdict, test=test, p_value=p, alpha=alpha, effect_name=name, effect=mean, ci_low=low,
            ci_high=high, at_threshold=at_line, statistic=float((mean - self.margin) / (g.std(ddof=1) / math.sqrt(len(g)))),
            detail=f"improvement {mean:.3f} ({1 - 2 * alpha:.2%} CI [{low:.3f}, {high:.3f}]), margin {self.margin}; "
                   f"p(claimed)={pro:.3g}, p(opposite)={con:.3g}",
            seeds_needed=need, seeds_needed_for=need_for, findings=findings, **common,
        )


# ------------------------------------------------------------------ one sample

@dataclass(frozen=True)
class MeanInBandRule:
    """The claim: the mean of every named per-seed metric lies inside ``band``.
    One TOST per metric (statsmodels ``DescrStatsW.ttost_mean``); p = the
    largest; REFUTED when some 1 - 2 alpha interval lies wholly outside the band.
    The effect reported is the metric named first."""

    exp: str
    metrics: tuple[tuple[str, Callable[[RunRecord], float]], ...]
    band: tuple[float, float]

    @property
    def summary(self) -> str:
        return "mean " + " and ".join(m for m, _ in self.metrics) + f" in {list(self.band)} (TOST)"

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        from statsmodels.stats.weightstats import DescrStatsW

        test = "TOST (one-sample t) per metric against the band"
        first = self.metrics[0][0]
        name = f"mean {first}"
        lo_b, hi_b = self.band
        zone = None  # no futility zone: a mean near a band edge is decided by more seeds
        rows, ps, outside = [], [], False
        for label, fn in self.metrics:
            x = ev.values(self.exp, fn)
            if not np.isfinite(x).all():
                return undecidable(test, alpha, name, f"{label}: a value is not finite", threshold=lo_b)
            if len(x) < MIN_SEEDS:
                return undecidable(test, alpha, name, f"{len(x)} seeds; the test needs at least {MIN_SEEDS}",
                                   threshold=lo_b)
            m = float(x.mean())
            if np.all(x == x[0]):
                p, low, high = (0.0 if lo_b < m < hi_b else 1.0), m, m
            else:
                p = float(DescrStatsW(x).ttost_mean(lo_b, hi_b)[0])
                ci = sps.ttest_1samp(x, 0.0).confidence_interval(confidence_level=1 - 2 * alpha)
                low, high = float(ci.low), float(ci.high)
            outside |= high < lo_b or low > hi_b
            ps.append(p)
            rows.append((label, m, low, high))
        p = max(ps)
        verdict = Verdict.SUPPORTED if p < alpha else (Verdict.REFUTED if outside else Verdict.INCONCLUSIVE)
        _, m0, l0, h0 = rows[0]
        return Decision(
            verdict=verdict, test=test, p_value=p, alpha=alpha, effect_name=name, effect=m0, ci_low=l0, ci_high=h0,
            threshold=lo_b, zone=zone,
            detail="; ".join(f"mean {lab} {m:.3f} [{lo:.3f}, {hi:.3f}]" for lab, m, lo, hi in rows)
                   + f" ({1 - 2 * alpha:.2%} CIs); band {list(self.band)}; REFUTED when an interval lies wholly "
                     "outside the band",
        )


# ------------------------------------------------------------------ three paired groups

@dataclass(frozen=True)
class PairedBestOfGroupsRule:
    """The claim: ``best`` has a lower metric than each other group.  Friedman
    over the groups (paired by seed), then one-sided Wilcoxon signed-rank of
    ``best`` against each other group with Holm's correction (statsmodels
    ``multipletests``).  SUPPORTED: Friedman and every Holm-adjusted
    comparison significant; REFUTED: Friedman significant and ``best``
    significantly worse than some group.  Effect: the smallest share of seeds
    in which ``best`` beats one of the others."""

    groups: tuple[tuple[str, str], ...]  # (label, experiment)
    best: str  # a label
    metric_fn: Callable[[RunRecord], float]
    zone: tuple[float, float] = (0.4, 0.6)

    @property
    def summary(self) -> str:
        return f"{self.best} lowest of {len(self.groups)} (Friedman + paired Wilcoxon, Holm)"

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        test = "Friedman + Holm-corrected paired Wilcoxon"
        name = f"share of seeds where {self.best} beats the other group (smallest)"
        vals = {lab: ev.values(exp, self.metric_fn) for lab, exp in self.groups}
        common = dict(threshold=0.5, zone=self.zone, design="paired")
        if any(np.isnan(v).any() for v in vals.values()):
            return undecidable(test, alpha, name, "a metric is NaN", **common)
        n = min(len(v) for v in vals.values())
        if n < MIN_SEEDS:
            return undecidable(test, alpha, name, f"{n} seeds; the test needs at least {MIN_SEEDS}", **common)
        others = [lab for lab, _ in self.groups if lab != self.best]
        diffs = {o: _finite_rank_diffs(vals[self.best], vals[o]) for o in others}
        if not any(d.any() for d in diffs.values()):
            return undecidable(test, alpha, name, "every seed ties in every group", **common)
        fried = sps.friedmanchisquare(*vals.values())
        p_f = float(fried.pvalue)
        pro = [float(sps.wilcoxon(diffs[o], alternative="less", zero_method="zsplit").pvalue) for o in others]
        con = [float(sps.wilcoxon(diffs[o], alternative="greater", zero_method="zsplit").pvalue) for o in others]
        pro_h = multipletests(pro, method="holm")[1]
        con_h = multipletests(con, method="holm")[1]
        if p_f < alpha and max(pro_h) < alpha:
            verdict, p = Verdict.SUPPORTED, max(p_f, float(max(pro_h)))
        elif p_f < alpha and min(con_h) < alpha:
            verdict, p = Verdict.REFUTED, max(p_f, float(min(con_h)))
        else:
            verdict, p = Verdict.INCONCLUSIVE, max(p_f, float(max(pro_h)))
        shares = {}
        for o in others:
            wins, m = _win_share(diffs[o], -1)
            shares[o] = (wins, m)
        worst = min(others, key=lambda o: shares[o][0] / shares[o][1] if shares[o][1] else 0.5)
        wins, m = shares[worst]
        low, high = stats.clopper_pearson(wins, m, 1 - 2 * alpha) if m else (0.0, 1.0)
        share = wins / m if m else 0.5
        at_line = verdict is Verdict.INCONCLUSIVE and inside(self.zone, low, high)
        med = {lab: float(np.median(v)) for lab, v in vals.items()}
        return Decision(
            verdict=verdict, test=test, p_value=p, alpha=alpha, effect_name=name, effect=share, ci_low=low,
            ci_high=high, at_threshold=at_line, statistic=float(fried.statistic),
            detail="medians: " + ", ".join(f"{k}={v:.4g}" for k, v in med.items())
                   + f"; Friedman p={p_f:.3g}; Holm p ({self.best} lower than "
                   + ", ".join(f"{o}: {ph:.3g}" for o, ph in zip(others, pro_h)) + "); "
                   + ", ".join(f"{self.best} better in {shares[o][0]}/{shares[o][1]} untied seeds vs {o}"
                               for o in others),
            **common,
        )


@dataclass(frozen=True)
class PairedTighterRule:
    """The claim: ``tight`` has a smaller spread of the metric than each other
    group.  Paired samples share seeds, so the unpaired Brown-Forsythe test does
    not apply; for each pair, the Pitman-Morgan idea in rank form: with
    D = x - y and S = x + y, cov(D, S) = var(x) - var(y), tested by Spearman's
    correlation of D and S, one-sided both ways, Holm over the pairs.  (No
    library offers a paired spread test; this is the textbook one, with ranks
    because MSEs are heavy-tailed.)  Effect: the largest IQR ratio tight/other."""

    groups: tuple[tuple[str, str], ...]
    tight: str
    metric_fn: Callable[[RunRecord], float]

    @property
    def summary(self) -> str:
        return f"{self.tight} spread smallest (paired rank Pitman-Morgan, Holm)"

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        test = "paired spread (rank Pitman-Morgan: Spearman of x-y with x+y), Holm"
        name = f"IQR {self.tight} / IQR other (largest)"
        vals = {lab: ev.values(exp, self.metric_fn) for lab, exp in self.groups}
        common = dict(threshold=1.0, design="paired")
        if not all(np.isfinite(v).all() for v in vals.values()):
            return undecidable(test, alpha, name, "a run diverged: the spread of an unbounded metric is undefined",
                               **common)
        n = min(len(v) for v in vals.values())
        if n < MIN_SEEDS:
            return undecidable(test, alpha, name, f"{n} seeds; the test needs at least {MIN_SEEDS}", **common)
        others = [lab for lab, _ in self.groups if lab != self.tight]
        x = vals[self.tight]
        pro, con, ratios = [], [], {}
        for o in others:
            y = vals[o]
            d, s = x - y, x + y
            if np.all(d == d[0]) or np.all(s == s[0]):
                return undecidable(test, alpha, name, f"vs {o}: no variation in x-y or x+y", **common)
            pro.append(float(sps.spearmanr(d, s, alternative="less").pvalue))
            con.append(float(sps.spearmanr(d, s, alternative="greater").pvalue))
            iqr_y = float(sps.iqr(y))
            ratios[o] = float(sps.iqr(x)) / iqr_y if iqr_y else math.inf
        pro_h, con_h = multipletests(pro, method="holm")[1], multipletests(con, method="holm")[1]
        if max(pro_h) < alpha:
            verdict, p = Verdict.SUPPORTED, float(max(pro_h))
        elif min(con_h) < alpha:
            verdict, p = Verdict.REFUTED, float(min(con_h))
        else:
            verdict, p = Verdict.INCONCLUSIVE, float(max(pro_h))
        return Decision(
            verdict=verdict, test=test, p_value=p, alpha=alpha, effect_name=name, effect=max(ratios.values()),
            detail="; ".join(f"vs {o}: IQR ratio {ratios[o]:.3g}, Holm p(tighter)={ph:.3g}, p(wider)={ch:.3g}"
                             for o, ph, ch in zip(others, pro_h, con_h)),
            **common,
        )
