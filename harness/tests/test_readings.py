"""Readings side by side (harness.spec.Reading): declared in the spec, checked against what the claim trains,
decided on the same runs, and a test is robust only when every reading gives its label."""
from __future__ import annotations

import pytest

from harness import collect
from harness.spec import Claim, Evidence, Reading, SpecError, Verdict
from harness.results.model import ClaimResult, ReadingResult
from harness.runner import ClaimRunner
from harness.statistics.rates import RateRule
from harness.training.records import RunRecord



def _rate(exp="reg_unscaled", p0=0.5):
    return RateRule(exp, lambda r: r.metrics["test_loss"] > 1, p0, "greater", "diverge", (p0 - 0.1, p0 + 0.1))


def _claim(**kw):
    base = dict(id="c", section="1", quote="q", interpretation="i", rule="r", experiments=("reg_unscaled",),
                metric="m", metric_fn=float, decide=_rate())
    return Claim(**{**base, **kw})


def test_a_reading_of_an_experiment_the_claim_does_not_train_names_both():
    with pytest.raises(SpecError, match="claim c: reading 'other' decides on reg_target_standard, which the claim "
                                        "does not train"):
        _claim(readings=(Reading("other", "w", _rate("reg_target_standard")),))


def test_a_reading_of_a_metric_no_run_records_names_it():
    with pytest.raises(SpecError, match="claim c: reading 'acc' reads 'val_accuracy', which no run of reg_unscaled "
                                        "records"):
        _claim(readings=(Reading("acc", "w", _rate(), ("val_accuracy",)),))
    _claim(readings=(Reading("loss", "w", _rate(), ("loss", "initial_gradient")),))  # both recorded there


def test_a_reading_needs_a_zone_and_unique_names_and_not_both_kinds():
    with pytest.raises(SpecError, match="claim c: reading names repeat"):
        _claim(readings=(Reading("a", "w", _rate()), Reading("a", "w", _rate())))
    with pytest.raises(SpecError, match="cannot also be uncontested"):
        _claim(readings=(Reading("a", "w", _rate()),), uncontested="nothing to read")
    with pytest.raises(SpecError, match="zone"):
        _claim(readings=(Reading("z", "w", RateRule("reg_unscaled", bool, 0.5, "greater", "x", (0.6, 0.7))),))


def test_every_suite_claim_shows_readings_or_says_why_not():
    for c in collect.all_claims():
        assert c.readings or c.uncontested, c.id
        assert not (c.readings and c.uncontested), c.id
        assert len(c.readings) <= 3, c.id
    bare = _claim()
    with pytest.raises(SpecError, match="claim c: give its alternative readings"):
        bare.check_readings_given()


def test_the_five_contested_claims_of_issue_26_have_readings():
    by_id = {c.id: c for c in collect.all_claims()}
    for cid in ("deep_relu_converges_about_200", "input_scaling_normalized_tighter",
                "unscaled_gradients_hundreds_to_thousands", "standardized_target_no_over_or_underfit",
                "standardized_target_converges", "relu15_learns_some_of_the_time", "relu20_no_longer_learns"):
        assert by_id[cid].readings, cid
    # the two relu claims each read the other's line, so one rate reads one way in both
    assert by_id["relu15_learns_some_of_the_time"].readings[0].decide.p0 == by_id["relu20_no_longer_learns"].decide.p0
    assert by_id["relu20_no_longer_learns"].readings[0].decide.p0 == by_id["relu15_learns_some_of_the_time"].decide.p0


def _runs(values):
    return [RunRecord("reg_unscaled", "fp", s, "batched", 1, {"loss": [1.0]}, {"test_loss": float(v)})
            for s, v in enumerate(values)]


def test_readings_are_decided_on_the_same_runs_and_robustness_follows():
    # 30 of 30 diverge: the primary (> 0.5) and a reading at 0.5 agree; a reading of a stricter line does too;
    # one that needs a loss above 100 sees 0/30 and says REFUTED: the test is reading-dependent
    runner = ClaimRunner.__new__(ClaimRunner)
    runner.engine, runner.design = "batched", type("D", (), {"alpha": 0.00125})()
    hi = RateRule("reg_unscaled", lambda r: r.metrics["test_loss"] > 100, 0.5, "greater", "explode", (0.4, 0.6))
    claim = _claim(readings=(Reading("same", "w", _rate()), Reading("strict", "w", hi)))
    got = runner.read(claim, Evidence({"reg_unscaled": _runs([2.0] * 30)}))
    assert [r.label for r in got] == ["SUPPORTED", "REFUTED"]
    assert got[0].seeds == 30 and got[0].effect.value == 1.0 and got[1].effect.value == 0.0
    result = ClaimResult(id="c", verdict=Verdict.SUPPORTED, readings=tuple(got))
    assert result.robust is False and result.differing_readings == ("strict",)
    assert ClaimResult(id="c", verdict=Verdict.SUPPORTED, readings=tuple(got[:1])).robust is True
    assert ClaimResult(id="c", verdict=Verdict.SUPPORTED).robust is None


def test_a_bad_reading_is_a_collection_error_naming_claim_and_reading(tmp_path):
    from harness.tests.test_claim_specs import collect_spec

    out = collect_spec(tmp_path,
                       "r = RateRule('reg_unscaled', bool, 0.5, 'greater', 'hit', (0.4, 0.6))\n"
                       "CLAIMS = [Claim(id='reads_too_much', section='1', quote='q', interpretation='i', rule='r',\n"
                       "                experiments=('reg_unscaled',), metric='m', metric_fn=float, decide=r,\n"
                       "                readings=(Reading('accuracy', 'w', r, ('val_accuracy',)),))]\n")
    assert out.returncode != 0
    assert "claim reads_too_much: reading 'accuracy' reads 'val_accuracy'" in out.stdout + out.stderr


def test_a_reading_result_round_trips_through_the_codec():
    from harness.results import codec

    r = ReadingResult(name="n", words="w", verdict=Verdict.INCONCLUSIVE, at_threshold=True, seeds=30)
    c = ClaimResult(id="c", verdict=Verdict.REFUTED, readings=(r,), uncontested="")
    back = codec.as_type(ClaimResult, codec.to_data(c), "test")
    assert back.readings == (r,) and back.readings[0].label == "ON THE LINE" and back.robust is False


def test_every_rule_and_reading_can_say_no_within_the_design():
    # A rule that could not say no on any data would decide nothing: at the design's last look each claim's
    # rule, and each reading's, can reach REFUTED (and SUPPORTED) at the design's alpha.
    from harness.statistics.sequential import LOOKS, design

    alpha = design(LOOKS[0], LOOKS[-1]).alpha
    for c in collect.all_claims():
        for what, rule in ((c.id, c.decide), *((f"{c.id}: {r.name}", r.decide) for r in c.readings)):
            can_support, can_refute = rule.reachable(LOOKS[-1], alpha)
            assert can_support and can_refute, what
    never = RateRule("x", bool, 0.5, "greater", "hit", (0.4, 0.6))
    assert never.reachable(5, alpha) == (False, False)  # the check can say no


def test_a_probe_reading_is_not_testable_on_the_keras_engine():
    runner = ClaimRunner.__new__(ClaimRunner)
    runner.engine, runner.design = "keras", type("D", (), {"alpha": 0.00125})()
    probe = RateRule("reg_unscaled", lambda r: r.extra["initial_gradient"]["median_abs"] > 100, 0.5, "greater",
                     "start large", (0.4, 0.6))
    claim = _claim(readings=(Reading("median", "w", probe, ("initial_gradient",)),))
    got = runner.read(claim, Evidence({"reg_unscaled": _runs([2.0] * 30)}))
    assert got[0].label == "NOT TESTABLE HERE" and "batched engine only" in got[0].untestable
