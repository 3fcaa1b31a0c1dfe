"""The suite's verdicts decided again with a family-wise correction (Holm) across every test of a run.

Each test's design-adjusted p-value is its smallest one-sided p over the looks it took, times the
design's tests (2 directions x planned looks): a test decided under the design has adjusted p below
the claim's alpha, so Holm's correction over the run's tests bounds the chance that ANY of their
decided verdicts is wrong by ``alpha``.  Nothing is trained: the recorded looks are re-read.
"""
from __future__ import annotations

from typing import Iterable

from statsmodels.stats.multitest import multipletests

from harness.spec import CLAIM_ALPHA

METHOD = "Holm over every test of the run, on each test's design-adjusted p (Bonferroni over directions and looks)"
DECIDED = ("SUPPORTED", "REFUTED")


def check_alpha(alpha: float) -> float:
    """A family-wise level in (0, 0.5): ValueError otherwise."""
    if not 0 < alpha < 0.5:
        raise ValueError(f"a family-wise alpha must lie in (0, 0.5), got {alpha!r}")
    return float(alpha)


def adjusted(p_by_look: Iterable[tuple[float | None, float | None]], tests_in_design: int) -> tuple[float, str]:
    """(design-adjusted p, the side it favours: "SUPPORTED" or "REFUTED") from each look's two one-sided p's."""
    best, side = 1.0, "SUPPORTED"
    for pro, con in p_by_look:
        for p, s in ((pro, "SUPPORTED"), (con, "REFUTED")):
            if p is not None and p * tests_in_design < best:
                best, side = p * tests_in_design, s
    return min(1.0, best), side


def holm(p_values: dict[str, float], alpha: float) -> dict[str, bool]:
    """{test: rejected} under Holm's step-down at family-wise level ``alpha``."""
    if not p_values:
        return {}
    ids = list(p_values)
    reject, *_ = multipletests([p_values[i] for i in ids], alpha=alpha, method="holm")
    return {i: bool(x) for i, x in zip(ids, reject)}


def relabel(tests: dict[str, tuple[str, float, str]], alpha: float) -> dict[str, str]:
    """{test: label under the correction} from {test: (own label, adjusted p, side)}: a rejected test takes
    its side's verdict; a decided test that is not rejected becomes INCONCLUSIVE; an undecided one keeps its
    label."""
    rejected = holm({t: p for t, (_, p, _) in tests.items()}, alpha)
    out = {}
    for t, (own, _, side) in tests.items():
        if rejected[t]:
            out[t] = side
        else:
            out[t] = "INCONCLUSIVE" if own in DECIDED else own
    return out


def union_bound(tests: int, claim_alpha: float = CLAIM_ALPHA) -> float:
    """The chance that at least one of ``tests`` tests decided under the design is wrong, at most (Bonferroni)."""
    return min(1.0, tests * claim_alpha)
