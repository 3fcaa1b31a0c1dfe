"""Rules over a dose-response curve: one experiment per dose (the depth sweep), the same seeds at every dose.

* :class:`SeedTrendRule`: seed by seed, does the metric rise (or fall) with the dose?  Per seed, the
  Mann-Kendall statistic S = sum over dose pairs i < j of sign(y_j - y_i) (+inf, a never-reached epoch, ranks
  highest; equal values tie); the seed trends the claimed way when S has the claimed sign.  The claim: the share
  of seeds that trend the claimed way, among those with S != 0, is above the zone [0.4, 0.6]: an exact sign
  test, the paired rules' test (its error rates are the sign test's, :mod:`harness.maintainer.error_rates`).
* :class:`CrossingDoseRule`: "to a point at about D where it is no longer capable": the dose at which the
  per-dose rate of an outcome (learned) falls through a line (the rate zone of "no longer capable"), against
  "about D" (D +- a quarter, zone on |crossing - D| from half to one and a half of it).  Under the lesson's own
  premise that the rate falls with the dose (monotone), the crossing lies in an interval read off exact
  binomial tests at single doses: above D - z0 when the rate at the largest dose below it is shown above the
  rate zone, below D + z0 when the rate at the largest dose below that is shown under it.  SUPPORTED: both
  (intersection-union, each at alpha); REFUTED: the rate is shown under the zone at a dose at or below D - z1,
  or above it at a dose at or beyond D + z1 (Bonferroni over the two).  The effect shown is the first dose
  whose observed rate is below the line, with the interval [L, U] of the fixed-sequence bounds over every dose
  (L: the first dose not shown above the zone; U: the first shown below it; infinite past the sweep).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from harness.spec import Decision, Evidence, SpecError, Verdict
from harness.statistics.decisions import DEFAULT_ALPHA, untestable, zone_verdict
from harness.statistics.rates import SHARE_ZONE, ShareOfSeedsRule, binomial_p, rate_decision
from harness.training.records import RunRecord


def mann_kendall_signs(values: np.ndarray) -> np.ndarray:
    """Per row (seed) of ``values`` (seeds x doses, doses increasing): the sign of the Mann-Kendall S."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        d = v[:, None, :] - v[:, :, None]  # [s, i, j] = y_j - y_i
        d = np.where(v[:, None, :] == v[:, :, None], 0.0, d)  # inf == inf ties
    upper = np.triu(np.ones((v.shape[1], v.shape[1]), bool), k=1)
    return np.sign(np.sum(np.sign(np.nan_to_num(d, nan=0.0)) * upper, axis=(1, 2)))


@dataclass(frozen=True)
class SeedTrendRule(ShareOfSeedsRule):
    groups: tuple[tuple[float, str], ...]  # (dose, experiment), doses increasing
    metric_fn: Callable[[RunRecord], float]
    claimed: str  # "increasing" | "decreasing"
    what: str
    zone: tuple[float, float] = SHARE_ZONE

    def __post_init__(self):
        if self.claimed not in ("increasing", "decreasing"):
            raise SpecError(f"trend rule {self.what!r}: claimed must be 'increasing' or 'decreasing'")
        doses = [d for d, _ in self.groups]
        if len(doses) < 3 or doses != sorted(doses) or len(set(doses)) != len(doses):
            raise SpecError(f"trend rule {self.what!r}: needs three or more increasing doses, got {doses}")

    @property
    def summary(self) -> str:
        return f"{self.what} {self.claimed} with the dose in more than {self.zone[1]:.0%} of seeds (sign test)"

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        test = "exact sign test of per-seed Mann-Kendall trends"
        name = f"share of seeds whose {self.what} is {self.claimed} with the dose"
        common = dict(threshold=0.5, zone=self.zone)
        values = np.column_stack([ev.values(e, self.metric_fn) for _, e in self.groups])
        if np.isnan(values).any():
            return untestable(test, alpha, name, "a metric is NaN (map a diverged run to +-inf)", settled=True,
                              **common)
        signs = mann_kendall_signs(values)
        want = 1.0 if self.claimed == "increasing" else -1.0
        k, m = int(np.sum(signs == want)), int(np.sum(signs != 0))
        if m == 0:
            return untestable(test, alpha, name, f"no seed of {len(signs)} has a trend either way", **common)
        doses = [d for d, _ in self.groups]
        med = np.median(values, axis=0)
        return rate_decision(k, m, self.zone, 0.5, "greater", alpha, test, name,
                             f"{k} of {m} seeds with a trend are {self.claimed} ({len(signs) - m} without); median "
                             f"{self.what} by dose: " + ", ".join(f"{d:g}: {v:.4g}" for d, v in zip(doses, med)),
                             explain)


@dataclass(frozen=True)
class CrossingDoseRule:
    groups: tuple[tuple[float, str], ...]  # (dose, experiment), doses increasing
    outcome: Callable[[RunRecord], bool]
    line: float  # the rate below which the model is "no longer capable"
    line_zone: tuple[float, float]  # the rates on that line (the rate rules' zone)
    centre: float  # "about D"
    what: str

    def __post_init__(self):
        doses = [d for d, _ in self.groups]
        if len(doses) < 2 or doses != sorted(doses) or len(set(doses)) != len(doses):
            raise SpecError(f"crossing rule {self.what!r}: needs two or more increasing doses, got {doses}")
        if not self.line_zone[0] < self.line < self.line_zone[1]:
            raise SpecError(f"crossing rule {self.what!r}: line {self.line} outside its zone {self.line_zone}")

    @property
    def threshold(self) -> float:
        return self.centre / 4  # "about": within a quarter

    @property
    def zone(self) -> tuple[float, float]:
        return (0.5 * self.threshold, 1.5 * self.threshold)

    @property
    def summary(self) -> str:
        return (f"the dose where the rate of seeds that {self.what} falls below {self.line} is {self.centre:g} +- "
                f"{self.zone[0]:g} (exact binomial tests at single doses)")

    def test_doses(self) -> dict[str, float | None]:
        """The doses whose tests decide: the largest at or below centre - z0 (shown capable: SUPPORTED's lower
        half), at or below centre + z0 (shown incapable: its upper half), at or below centre - z1 (shown
        incapable: REFUTED, too early), the smallest at or beyond centre + z1 (shown capable: too late)."""
        doses = [d for d, _ in self.groups]
        z0, z1 = self.zone
        below = lambda x: max((d for d in doses if d <= x), default=None)  # noqa: E731
        return {"capable": below(self.centre - z0), "incapable": below(self.centre + z0),
                "too_early": below(self.centre - z1),
                "too_late": min((d for d in doses if d >= self.centre + z1), default=None)}

    def reachable(self, n: int, alpha: float) -> tuple[bool, bool]:
        t = self.test_doses()
        up = lambda a: self.line_zone[1] ** n < a  # noqa: E731  every seed learns, against the upper edge
        down = lambda a: (1 - self.line_zone[0]) ** n < a  # noqa: E731  none learns, against the lower edge
        return (up(alpha) and down(alpha) and None not in (t["capable"], t["incapable"]),
                (t["too_early"] is not None and down(alpha / 2)) or (t["too_late"] is not None and up(alpha / 2)))

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        test = "exact binomial tests at single doses (fixed sequence; intersection-union, Bonferroni for REFUTED)"
        name = f"dose where the rate of seeds that {self.what} falls below {self.line:g}"
        common = dict(threshold=self.threshold, zone=self.zone, absolute=True)
        lo, hi = self.line_zone
        rates, above, below = {}, {}, {}
        for dose, e in self.groups:
            hits = ev.values(e, self.outcome) > 0.5
            k, n = int(hits.sum()), len(hits)
            if n == 0:
                return untestable(test, alpha, name, f"no seeds of {e}", **common)
            rates[dose] = (k, n)
            above[dose] = binomial_p(k, n, hi, "greater")
            below[dose] = binomial_p(k, n, lo, "less")
        doses = [d for d, _ in self.groups]
        t = self.test_doses()
        p_of = lambda table, d: 1.0 if d is None else table[d]  # noqa: E731
        pro = max(p_of(above, t["capable"]), p_of(below, t["incapable"]))
        con = min(1.0, 2 * min(p_of(below, t["too_early"]), p_of(above, t["too_late"])))
        verdict, p = zone_verdict(pro, con, alpha)
        # fixed-sequence bounds over every dose: L the first dose not shown above the zone, U the first shown below
        low = next((d for d in doses if above[d] >= alpha), math.inf)
        high = next((d for d in doses if below[d] < alpha), math.inf)
        estimate = next((d for d in doses if rates[d][0] / rates[d][1] < self.line), math.inf)
        c, (z0, z1) = self.centre, self.zone
        at_line = verdict is Verdict.INCONCLUSIVE and c - z1 <= low and high <= c + z1 and not (
            c - z0 <= low and high <= c + z0)
        shown = lambda d: f"{d:g}" if math.isfinite(d) else f"beyond {doses[-1]:g}"  # noqa: E731
        return Decision(
            verdict=verdict, test=test, p_value=p, p_supported=float(pro), p_refuted=float(con), alpha=alpha,
            effect_name=name, effect=estimate - c if math.isfinite(estimate) else None,
            ci_low=low - c if math.isfinite(low) else None, ci_high=high - c if math.isfinite(high) else None,
            at_threshold=at_line, statistic=float(estimate) if math.isfinite(estimate) else None,
            detail=("rates by dose: " + ", ".join(f"{d:g}: {k}/{n}" for d, (k, n) in rates.items())
                    + f"; first dose below {self.line:g}: {shown(estimate)}; the crossing lies in [{shown(low)}, "
                      f"{shown(high)}] (monotone rates); about {c:g}: SUPPORTED in {c:g} +- {z0:g} (p={pro:.3g}), "
                      f"REFUTED outside {c:g} +- {z1:g} (Bonferroni p={con:.3g})"),
            **common)
