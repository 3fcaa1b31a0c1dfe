"""A claim is data: the lesson's sentence, where it is, how its vague words
became numbers, which experiments it needs, its per-seed metric and the rule
that decides it.  ``claims/`` lists them; this module is the machinery.

Decision rules return a :class:`Decision`; every rule can end SUPPORTED,
REFUTED or INCONCLUSIVE at alpha = 0.01, and INCONCLUSIVE says how many seeds
the rule would need.  A claim's test asserts SUPPORTED; a claim measured
otherwise is declared in its spec (``known``) with the measured numbers and
becomes ``xfail(strict=True, raises=...)``, so the suite turns red the day a
TensorFlow version changes the outcome.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from . import stats
from .records import RunRecord

ALPHA = stats.ALPHA


class Verdict(str, enum.Enum):
    SUPPORTED = "SUPPORTED"
    REFUTED = "REFUTED"
    INCONCLUSIVE = "INCONCLUSIVE"


class ClaimRefuted(AssertionError):
    """The data contradict the lesson's claim at alpha."""


class ClaimInconclusive(AssertionError):
    """The data neither support nor refute the claim with this many seeds."""


@dataclass
class Decision:
    verdict: Verdict
    test: str
    statistic: float
    p_value: float
    effect_name: str
    effect: float
    ci_low: float | None
    ci_high: float | None
    detail: str
    seeds_needed: int | None = None
    metric_values: dict[str, list[float]] = field(default_factory=dict)
    # Rules that count a yes/no per seed (rate rules) give it here: the per-seed
    # outcomes the engine-equivalence check compares seed by seed.
    outcomes: dict[str, list[bool]] | None = None


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    quote: str
    interpretation: str  # how the lesson's vague words became numbers, written before any run
    rule: str  # the decision rule in words
    experiments: tuple[str, ...]
    metric: str  # name of the per-seed deciding metric
    metric_fn: Callable[[RunRecord], float]
    decide: Callable[["Evidence"], Decision]
    # A measured outcome other than SUPPORTED, declared with its numbers:
    # (Verdict.REFUTED | Verdict.INCONCLUSIVE, "measured ...").
    known: tuple[Verdict, str] | None = None

    @property
    def expected_verdict(self) -> Verdict:
        return self.known[0] if self.known else Verdict.SUPPORTED


@dataclass
class Evidence:
    """The runs a claim is decided on: experiment name -> records in seed order."""

    runs: dict[str, list[RunRecord]]

    def values(self, exp: str, fn: Callable[[RunRecord], float]) -> np.ndarray:
        return np.array([fn(r) for r in self.runs[exp]], dtype=float)

    @property
    def seeds(self) -> int:
        return min(len(v) for v in self.runs.values())


def assert_supported(claim: Claim, decision: Decision) -> None:
    msg = f"{claim.id}: {decision.verdict.value} ({decision.test}, p={decision.p_value:.3g}); {decision.detail}"
    if decision.verdict is Verdict.REFUTED:
        raise ClaimRefuted(msg)
    if decision.verdict is Verdict.INCONCLUSIVE:
        need = f"; the rule needs about {decision.seeds_needed} seeds" if decision.seeds_needed else ""
        raise ClaimInconclusive(msg + need)


# -- metric helpers ----------------------------------------------------------
def worst_if_nonfinite(x: float) -> float:
    """For "lower is better" metrics: a diverged (NaN/inf) run ranks as the worst,
    never dropped."""
    return math.inf if not math.isfinite(x) else x


def window_mean(values: Sequence[float], first_epoch: int, last_epoch: int) -> float:
    """Mean over 1-based epochs first..last inclusive (NaN propagates)."""
    return float(np.mean(np.asarray(values[first_epoch - 1:last_epoch], dtype=float)))


# -- decision rules -----------------------------------------------------------
def rate_rule(exp: str, outcome: Callable[[RunRecord], bool], p0: float, claimed: str,
              what: str) -> Callable[[Evidence], Decision]:
    """The claim: the per-seed ``outcome`` happens with probability > p0
    (claimed="greater") or < p0 (claimed="less").  Exact binomial tests both
    ways; the opposite significant result REFUTES."""
    opposite = {"greater": "less", "less": "greater"}[claimed]

    def decide(ev: Evidence) -> Decision:
        hits = [bool(outcome(r)) for r in ev.runs[exp]]
        k, n = sum(hits), len(hits)
        pro = stats.binomial_rate(k, n, p0, claimed)
        con = stats.binomial_rate(k, n, p0, opposite)
        verdict, p = _verdict(pro.p_value, con.p_value)
        need = None
        if verdict is Verdict.INCONCLUSIVE:
            # Power at the observed rate (nudged off p0 so a tie still gives a number).
            rate = min(max(k / n, 1e-3), 1 - 1e-3)
            if (rate > p0) == (claimed == "greater"):
                need = stats.binomial_seeds_needed(rate, p0, claimed)
            else:
                need = stats.binomial_seeds_needed(rate, p0, opposite)
        return Decision(
            verdict, "exact binomial", float(k), p, f"rate of {what}", k / n, pro.ci_low, pro.ci_high,
            f"{k}/{n} seeds {what}; claimed rate {'>' if claimed == 'greater' else '<'} {p0}; "
            f"p(claimed)={pro.p_value:.3g}, p(opposite)={con.p_value:.3g}",
            need, {exp: [float(h) for h in hits]}, {exp: hits},
        )

    return decide


def shift_rule(better: str, worse: str, metric_fn: Callable[[RunRecord], float], higher_is_better: bool,
               what: str) -> Callable[[Evidence], Decision]:
    """The claim: ``better`` beats ``worse`` on the metric.  One-sided
    Mann-Whitney U both ways; effect = P(better beats worse)."""

    def decide(ev: Evidence) -> Decision:
        a, b = ev.values(better, metric_fn), ev.values(worse, metric_fn)
        alt = "greater" if higher_is_better else "less"
        back = "less" if higher_is_better else "greater"
        pro, con = stats.mann_whitney(a, b, alt), stats.mann_whitney(a, b, back)
        verdict, p = _verdict(pro.p_value, con.p_value)
        prob = pro.effect if higher_is_better else 1 - pro.effect
        need = stats.mann_whitney_seeds_needed(prob) if verdict is Verdict.INCONCLUSIVE else None
        return Decision(
            verdict, "Mann-Whitney U (one-sided)", pro.statistic, p, f"P({better} beats {worse})", prob,
            None, None,
            f"{what}: median {better}={np.median(a):.4g}, {worse}={np.median(b):.4g}; "
            f"p(claimed)={pro.p_value:.3g}, p(opposite)={con.p_value:.3g}",
            need, {better: a.tolist(), worse: b.tolist()},
        )

    return decide


def _verdict(p_claimed: float, p_opposite: float) -> tuple[Verdict, float]:
    if p_claimed < ALPHA:
        return Verdict.SUPPORTED, p_claimed
    if p_opposite < ALPHA:
        return Verdict.REFUTED, p_opposite
    return Verdict.INCONCLUSIVE, p_claimed


def parametrize_with_claims(claims: Sequence[Claim]):
    """``@pytest.mark.parametrize`` over claims, ids = claim ids (``-k`` friendly);
    a claim declared with a known non-SUPPORTED outcome becomes a strict xfail
    that only that exact outcome satisfies."""
    import pytest

    params = []
    for c in claims:
        marks = ()
        if c.known:
            verdict, reason = c.known
            exc = ClaimRefuted if verdict is Verdict.REFUTED else ClaimInconclusive
            marks = (pytest.mark.xfail(strict=True, raises=exc, reason=f"{verdict.value}: {reason}"),)
        params.append(pytest.param(c, id=c.id, marks=marks))
    return pytest.mark.parametrize("claim", params)
