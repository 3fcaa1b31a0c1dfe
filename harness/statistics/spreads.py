"""The rule on spread: one group's values tighter than each other group's, by a paired-swap permutation test."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from harness.spec import Decision, Evidence, Verdict, check_zone
from harness.statistics.decisions import (DEFAULT_ALPHA, pairing_or_untestable, untestable, zone_factor,
                                          zone_verdict)
from harness.training.records import RunRecord

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
            n, findings, never = pairing_or_untestable(ev, exp[self.tight], exp[o], findings, test, alpha, name,
                                                       common)
            if never is not None:
                return never
            v = scaled(vals[o])
            if n < 3 or np.all(u == u[0]) or np.all(v == v[0]):
                return untestable(test, alpha, name, f"vs {o}: no spread to compare", findings=findings, **common)
            tests[o] = _SpreadTest(u, v)
        k_other = len(others)
        pros = {o: t.p_less(self.zone[0]) for o, t in tests.items()}
        cons = {o: min(1.0, t.p_greater(self.zone[1]) * k_other) for o, t in tests.items()}
        pro, con = max(pros.values()), min(cons.values())
        verdict, p = zone_verdict(pro, con, alpha)
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
