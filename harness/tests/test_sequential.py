"""The sequential design: its looks, its alpha, and its false-decision rate
simulated where the truth is known (the claim sits exactly on its threshold,
so both SUPPORTED and REFUTED are wrong)."""
from __future__ import annotations

import numpy as np
import pytest

from harness.spec import Evidence, Verdict
from harness.training.records import RunRecord
from harness.statistics import sequential
from harness.statistics.paired import PairedEquivalenceRule
from harness.statistics.rates import RateRule

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
    assert sequential.exact_rate_decisions(rule, 0.75, PLAN)["SUPPORTED"] >= 0.95
    # On the zone's edge the claim is not shown: SUPPORTED only beyond it.
    assert sequential.exact_rate_decisions(rule, 0.6, PLAN)["SUPPORTED"] <= 0.005
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


def test_committed_error_rates_are_current_and_within_the_bound():
    # Every rule, at the edges of its zone, over the whole design: exact for rates and sign tests, 5000
    # replicates otherwise (python -m harness error-rates; it refuses a file measured on other code).
    from harness.maintainer import error_rates

    assert error_rates.check() == []


def test_error_rate_check_refuses_stale_small_or_failing_measurements(tmp_path):
    import json

    from harness.maintainer import error_rates

    good = json.loads(error_rates.DEFAULT_PATH.read_text(encoding="utf-8"))
    for change, expect in ((dict(code_digest="0" * 64), "other code"),
                           (dict(rows=[{**good["rows"][-1], "reps": 300}] + good["rows"][:-1]), "fewer than"),
                           (dict(rows=[{**good["rows"][0], "rate": 0.0101}] + good["rows"][1:]), "above the bound"),
                           (dict(rows=good["rows"][1:]), "not measured")):
        path = tmp_path / "rates.json"
        path.write_text(json.dumps({**good, **change}), encoding="utf-8")
        assert any(expect in p for p in error_rates.check(path)), change


def test_error_rate_simulation_catches_a_rule_tested_against_its_threshold_not_its_zone():
    # A broken equivalence rule that says SUPPORTED when the interval lies within the margin itself (the
    # old rule) is wrong far more often than 1% when the true difference sits on the zone's near edge.
    from harness.maintainer import error_rates
    from harness.spec import Decision

    good = PairedEquivalenceRule("a", "b", error_rates.col(0), 0.1, "x")
    loose = PairedEquivalenceRule("a", "b", error_rates.col(0), 0.2, "x")  # zone edge 0.1 = the old margin

    def broken(ev, alpha=0.005, explain=True) -> Decision:
        return loose(ev, alpha, explain)

    draw = error_rates._normal_pairs(0.05)
    wrong = lambda v: v is Verdict.SUPPORTED  # noqa: E731
    assert sequential.simulate_false_decisions(good, draw, PLAN, wrong, reps=200)["rate"] <= 0.01
    assert sequential.simulate_false_decisions(broken, draw, PLAN, wrong, reps=200)["rate"] > 0.5


def test_a_diverged_run_settles_the_claim_at_the_first_look():
    rule = PairedEquivalenceRule("a", "b", lambda r: r.metrics["test_loss"], 0.1, "log10 MSE")
    values = np.r_[np.inf, np.zeros(999)]
    looks = sequential.decide(rule, lambda n: Evidence({"a": _runs("a", values[:n]),
                                                        "b": _runs("b", np.arange(n) * 0.01)}), PLAN)
    assert len(looks) == 1 and looks[0].decision.untestable_settled


def test_a_treatment_that_never_acted_is_looked_at_again():
    rule = PairedEquivalenceRule("a", "b", lambda r: r.metrics["test_loss"], 0.1, "log10 MSE")
    values = np.arange(1000) * 0.01
    looks = sequential.decide(rule, lambda n: Evidence({"a": _runs("a", values[:n]), "b": _runs("b", values[:n])}),
                              PLAN)
    assert [lk.seeds for lk in looks] == list(PLAN.looks)
    assert looks[-1].decision.label == "NOT TESTABLE HERE" and "0.3%" in looks[-1].decision.untestable
