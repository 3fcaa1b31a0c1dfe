"""The sequential design: its looks, its alpha, and its false-decision rate
simulated where the truth is known (the claim sits exactly on its threshold,
so both SUPPORTED and REFUTED are wrong)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from harness.claims import Evidence, Verdict
from harness.records import RunRecord
from harness import sequential
from harness.rules import PairedEquivalenceRule, PairedShiftRule, RateRule

PLAN = sequential.design(30, 1000)


def _runs(name, values):
    return [RunRecord(name, "fp", s, "batched", 1, {"loss": [float(s), float(v)]}, {"test_loss": float(v)})
            for s, v in enumerate(values)]


def test_design_looks_and_alpha():
    assert PLAN.looks == (30, 100, 300, 1000)
    assert PLAN.alpha == pytest.approx(0.01 / 8)
    assert sequential.design(30, 30).looks == (30,) and sequential.design(30, 30).alpha == 0.005
    assert sequential.design(50, 400).looks == (50, 100, 300)
    with pytest.raises(ValueError):
        sequential.design(100, 30)


def test_decide_stops_at_the_first_settled_look_and_reuses_prefixes():
    calls = []
    rule = RateRule("x", lambda r: r.metrics["test_loss"] > 0, 0.5, "greater", "hit", (0.4, 0.6))
    values = np.r_[np.ones(30), np.zeros(970)]  # decided at 30 already? 30/30 -> yes

    def evidence_for(n):
        calls.append(n)
        return Evidence({"x": _runs("x", values[:n])})

    looks = sequential.decide(rule, evidence_for, PLAN)
    assert [lk.seeds for lk in looks] == [30] and looks[0].decision.verdict is Verdict.SUPPORTED
    calls.clear()
    values = np.tile([1.0, 0.0], 500)  # exactly 0.5: on the line only once the interval is narrow
    looks = sequential.decide(rule, lambda n: Evidence({"x": _runs("x", values[:n])}), PLAN)
    assert looks[-1].decision.verdict is Verdict.INCONCLUSIVE
    assert looks[-1].decision.at_threshold and len(looks) > 1
    assert all(not lk.decision.at_threshold for lk in looks[:-1])


@pytest.mark.parametrize("p0, claimed, zone", [(0.5, "greater", (0.4, 0.6)), (0.1, "less", (0.05, 0.15)),
                                               (0.05, "greater", (0.025, 0.075))])
def test_rate_design_wrong_decisions_at_most_one_percent_exactly(p0, claimed, zone):
    # At the threshold both SUPPORTED and REFUTED are wrong; computed exactly over every path.
    rule = RateRule("x", lambda r: r.metrics["test_loss"] > 0, p0, claimed, "hit", zone)
    final = sequential.exact_rate_decisions(rule, p0, PLAN)
    assert sum(final.values()) == pytest.approx(1.0)
    assert final["SUPPORTED"] + final["REFUTED"] <= 0.01, final
    assert final["INCONCLUSIVE"] >= 0.99


def test_rate_design_wrong_rate_just_off_the_threshold_stays_bounded():
    # A true rate a hair on the claimed side: REFUTED is the wrong decision.
    rule = RateRule("x", lambda r: r.metrics["test_loss"] > 0, 0.5, "greater", "hit", (0.4, 0.6))
    assert sequential.exact_rate_decisions(rule, 0.51, PLAN)["REFUTED"] <= 0.005


def test_rate_design_decides_a_real_effect():
    rule = RateRule("x", lambda r: r.metrics["test_loss"] > 0, 0.5, "greater", "hit", (0.4, 0.6))
    assert sequential.exact_rate_decisions(rule, 0.6, PLAN)["SUPPORTED"] >= 0.95
    rule = RateRule("x", lambda r: r.metrics["test_loss"] > 0, 0.1, "less", "hit", (0.05, 0.15))
    assert sequential.exact_rate_decisions(rule, 0.1, PLAN)["INCONCLUSIVE"] >= 0.99


def test_exact_rate_decisions_agree_with_simulation():
    rule = RateRule("x", lambda r: r.metrics["test_loss"] > 0, 0.5, "greater", "hit", (0.4, 0.6))
    plan = sequential.design(30, 100)

    def draw(rng, n):
        return Evidence({"x": _runs("x", (rng.random(n) < 0.55).astype(float))})

    exact = sequential.exact_rate_decisions(rule, 0.55, plan)
    sim = sequential.simulate_false_decisions(rule, draw, plan, wrong=lambda v: v is Verdict.SUPPORTED, reps=400)
    assert abs(sim["rate"] - exact["SUPPORTED"]) < 4 * np.sqrt(exact["SUPPORTED"] * (1 - exact["SUPPORTED"]) / 400)


def test_paired_equivalence_design_false_decisions_at_the_margin():
    # The true mean difference sits exactly on the margin: SUPPORTED is wrong.
    rule = PairedEquivalenceRule("a", "b", lambda r: r.metrics["test_loss"], 0.1, "log10 MSE")

    def draw(rng, n):
        base = rng.normal(-2, 0.4, n)
        return Evidence({"a": _runs("a", base + 0.1 + rng.normal(0, 0.1, n)), "b": _runs("b", base)})

    res = sequential.simulate_false_decisions(rule, draw, PLAN, wrong=lambda v: v is Verdict.SUPPORTED,
                                              reps=300, seed=3)
    assert res["wrong"] <= 3, res  # expected 0.1% or less; 3 of 300 is 1%


def test_paired_shift_design_false_decisions_with_no_difference():
    rule = PairedShiftRule("a", "b", lambda r: r.metrics["test_loss"], False, "mse")

    def draw(rng, n):
        base = rng.lognormal(0, 1, n)
        return Evidence({"a": _runs("a", base * rng.lognormal(0, 0.1, n)),
                         "b": _runs("b", base * rng.lognormal(0, 0.1, n))})

    res = sequential.simulate_false_decisions(rule, draw, PLAN, wrong=lambda v: v is not Verdict.INCONCLUSIVE,
                                              reps=300, seed=4)
    assert res["wrong"] <= 3, res
