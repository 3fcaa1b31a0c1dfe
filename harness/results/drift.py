"""Has a claim's deciding metric moved since a baseline?  One two-sample check.

The rule, fixed before any baseline was recorded and the same for every claim
(the metrics differ in scale, so the tolerance is on a scale-free effect size):

* a changed verdict is always drift;
* otherwise the per-seed deciding metric of each experiment is compared with
  the baseline's by a two-sided Mann-Whitney U test, and it has drifted when
  p < ALPHA (0.01) **and** the probability of superiority A = P(X > Y) + P(X = Y)/2
  lies outside [1 - LARGE_EFFECT, LARGE_EFFECT], LARGE_EFFECT = 0.71: the
  "large" effect threshold of Vargha & Delaney (2000, J. Educ. Behav. Stat.
  25(2), Table 1).  A significant but small shift (a new TF version a few ulps
  off on a metric with many ties) is reported, not failed.

Non-finite values (NaN, inf: a diverged run) are results: they rank together
above every finite value and their count is reported, never dropped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats as sps

# The level of one drift check: its own quantity, not the claim's error budget (harness.spec.CLAIM_ALPHA),
# fixed with the drift rule before any baseline was recorded, so a change of the claims' budget leaves
# the baselines' comparisons as they were.
ALPHA = 0.01
LARGE_EFFECT = 0.71


@dataclass(frozen=True)
class DriftResult:
    """One claim's deciding metric on one experiment, against the baseline's (or why it was not compared)."""

    claim: str
    drifted: bool
    message: str
    experiment: str | None = None  # None: the claim is not in the baseline
    metric: str = ""
    baseline_median: float | None = None
    current_median: float | None = None
    baseline_nonfinite: int = 0
    current_nonfinite: int = 0
    p_value: float | None = None
    prob_superiority: float | None = None  # P(current > baseline) + ties / 2
    baseline_verdict: str | None = None
    current_verdict: str | None = None
    baseline: str | None = None  # the baseline file


def _ranked(values: Sequence[float]) -> np.ndarray:
    """NaN -> +inf, so every non-finite value ties above the finite ones."""
    a = np.asarray([math.nan if v is None else float(v) for v in values], dtype=float)
    return np.where(np.isnan(a), np.inf, a)


def _median(a: np.ndarray) -> float:
    """Median with +inf allowed (np.median would give NaN next to an inf)."""
    s = np.sort(a)
    n = s.size
    if n == 0:
        return math.nan
    lo, hi = s[(n - 1) // 2], s[n // 2]
    return float(hi if math.isinf(lo) or math.isinf(hi) else (lo + hi) / 2)


def two_sample(baseline: Sequence[float], current: Sequence[float]) -> tuple[float, float]:
    """(two-sided Mann-Whitney p, P(current > baseline) + ties/2)."""
    b, c = _ranked(baseline), _ranked(current)
    if b.size == 0 or c.size == 0:
        raise ValueError("two_sample needs at least one value on each side")
    both = np.concatenate([b, c])
    if np.all(both == both[0]):  # all tied (all NaN, say): no difference at all
        return 1.0, 0.5
    # Map to ranks first: scipy's U test would compute inf - inf on the raw values.
    ranks = sps.rankdata(both)
    res = sps.mannwhitneyu(ranks[b.size:], ranks[:b.size], alternative="two-sided", method="auto")
    return float(res.pvalue), float(res.statistic) / (b.size * c.size)


def check(claim: str, experiment: str, metric: str, baseline: Sequence[float], current: Sequence[float],
          baseline_verdict: str | None = None, current_verdict: str | None = None) -> DriftResult:
    b, c = _ranked(baseline), _ranked(current)
    p, a = two_sample(b, c)
    bm, cm = _median(b), _median(c)
    shifted = p < ALPHA and not (1 - LARGE_EFFECT <= a <= LARGE_EFFECT)
    verdict_changed = baseline_verdict is not None and current_verdict is not None \
        and baseline_verdict != current_verdict
    parts = [f"{claim} [{experiment}] {metric}: median {bm:.4g} (baseline, n={b.size}) -> {cm:.4g} (now, n={c.size}), "
             f"Mann-Whitney p={p:.3g}, P(now > baseline)={a:.2f}"]
    nb, nc = int(np.isinf(b).sum()), int(np.isinf(c).sum())
    if nb or nc:
        parts.append(f"non-finite {nb}/{b.size} -> {nc}/{c.size}")
    if verdict_changed:
        parts.append(f"verdict changed {baseline_verdict} -> {current_verdict}")
    elif shifted:
        parts.append(f"shift beyond tolerance (p < {ALPHA} and P outside "
                     f"[{1 - LARGE_EFFECT:.2f}, {LARGE_EFFECT:.2f}])")
    return DriftResult(claim=claim, drifted=bool(shifted or verdict_changed), message="; ".join(parts),
                       experiment=experiment, metric=metric, baseline_median=bm, current_median=cm,
                       baseline_nonfinite=nb, current_nonfinite=nc, p_value=p, prob_superiority=a,
                       baseline_verdict=baseline_verdict, current_verdict=current_verdict)


class DriftError(AssertionError):
    """A claim's result moved beyond the pre-registered tolerance since the baseline."""
