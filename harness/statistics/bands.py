"""The rule on "about c": the mean of each named metric lies in a band (TOST each)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from harness.spec import Decision, Evidence, SpecError, Verdict
from harness.statistics.decisions import DEFAULT_ALPHA, inside, untestable, zone_verdict
from harness.statistics.means import MarginZoneRule, abs_zone_factor, closeness, t_interval
from harness.training.records import RunRecord


@dataclass(frozen=True)
class MeanInBandRule(MarginZoneRule):
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
    def summary(self) -> str:
        c, (z0, _) = self.centre, self.zone
        return "mean " + " and ".join(m for m, _ in self.metrics) + f" within {c:g} +- {z0:g} (TOST each)"

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
            pro, con = closeness(x, c, zone)
            low, high = t_interval(x - c, alpha)
            pros.append(pro)
            cons.append(min(1.0, con * k))
            rows.append((label, float(x.mean()), low, high))
        pro, con = max(pros), min(cons)
        verdict, p = zone_verdict(pro, con, alpha)
        at_line = verdict is Verdict.INCONCLUSIVE and all(
            pr < alpha or inside(zone, lo, hi) or inside(zone, -hi, -lo) for pr, (_, _, lo, hi) in zip(pros, rows))
        _, m0, l0, h0 = rows[0]
        return Decision(
            verdict=verdict, test=test, p_value=p, p_supported=float(pro), p_refuted=float(con), alpha=alpha, effect_name=name, effect=m0 - c, ci_low=l0,
            ci_high=h0, at_threshold=at_line, absolute=True, zone_factor=abs_zone_factor(verdict, m, zone, l0, h0),
            detail="; ".join(f"mean {lab} {mu:.3f} [{c + lo:.3f}, {c + hi:.3f}]" for lab, mu, lo, hi in rows)
                   + f" ({1 - 2 * alpha:.2%} CIs); about {c:g}: SUPPORTED within {c:g} +- {zone[0]:g}, REFUTED "
                     f"beyond {c:g} +- {zone[1]:g}; p(within)={pro:.3g}, Bonferroni p(beyond)={con:.3g}",
            **common,
        )
