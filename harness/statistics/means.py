"""A mean against a zone, by one-sample t: the p-values, the interval, the zone factor on |mean|, and what the
rules on a mean share (the zone around their margin).  The paired mean rules (:mod:`~harness.statistics.paired`)
test the per-seed differences, the band rule (:mod:`~harness.statistics.bands`) the values themselves."""
from __future__ import annotations

import numpy as np
from scipy import stats as sps

from harness.spec import Verdict
from harness.statistics.decisions import inside


def t_interval(x: np.ndarray, alpha: float) -> tuple[float, float]:
    ci = sps.ttest_1samp(x, 0.0).confidence_interval(confidence_level=1 - 2 * alpha)
    return float(ci.low), float(ci.high)


def t_p(x: np.ndarray, value: float, alternative: str) -> float:
    return float(sps.ttest_1samp(x, value, alternative=alternative).pvalue)


def abs_zone_factor(verdict: Verdict, margin: float, zone: tuple[float, float], low: float, high: float
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


def closeness(x: np.ndarray, centre: float, zone: tuple[float, float]) -> tuple[float, float]:
    """For the claim |mean(x) - centre| small with the zone on |.|: (p SUPPORTED, p REFUTED).
    SUPPORTED: TOST against centre +- zone[0]; REFUTED: the mean beyond centre +- zone[1] on either side."""
    pro = max(t_p(x, centre - zone[0], "greater"), t_p(x, centre + zone[0], "less"))
    con = min(t_p(x, centre + zone[1], "greater"), t_p(x, centre - zone[1], "less"))
    return pro, con


class MarginZoneRule:
    """What the rules on a mean share: the zone runs from half the rule's ``threshold`` (a margin) to one and
    a half of it, and a t test needs three seeds to reject either way."""

    @property
    def zone(self) -> tuple[float, float]:
        return (0.5 * self.threshold, 1.5 * self.threshold)

    def reachable(self, n: int, alpha: float) -> tuple[bool, bool]:
        return n >= 3, n >= 3
