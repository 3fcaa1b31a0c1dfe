"""The suite-wide error bound and the Holm labelling (harness.statistics.familywise, merge.familywise)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.spec import Decision, Verdict
from harness.report.labels import error_bound_text
from harness.results.model import ClaimResult
from harness.merge import familywise
from harness.statistics import familywise as fw
from harness.statistics.sequential import Design, Look

ROOT = Path(__file__).resolve().parents[2]


def test_holm_steps_down_and_stops():
    got = fw.holm({"a": 0.001, "b": 0.01, "c": 0.03, "d": 0.2}, 0.05)
    assert got == {"a": True, "b": True, "c": False, "d": False}  # 0.03 > 0.05 / 2: stop
    assert fw.holm({"a": 0.02}, 0.05) == {"a": True} and fw.holm({"a": 0.06}, 0.05) == {"a": False}


def test_adjusted_p_is_bonferroni_over_directions_and_looks():
    assert fw.adjusted([(0.001, 0.9), (0.0001, 0.99)], 8) == (0.0008, "SUPPORTED")
    assert fw.adjusted([(0.9, 0.0002)], 8) == (0.0016, "REFUTED")
    assert fw.adjusted([(None, None)], 8) == (1.0, "SUPPORTED")  # nothing tested: never rejected


def test_relabel_a_decided_test_holm_does_not_reject_becomes_inconclusive():
    tests = {"strong": ("SUPPORTED", 1e-6, "SUPPORTED"), "weak": ("REFUTED", 0.009, "REFUTED"),
             "line": ("ON THE LINE", 0.9, "SUPPORTED")}
    assert fw.relabel(tests, 0.01) == {"strong": "SUPPORTED", "weak": "INCONCLUSIVE", "line": "ON THE LINE"}
    assert fw.relabel(tests, 0.05)["weak"] == "REFUTED"


def test_the_alpha_must_lie_in_0_to_half():
    for bad in (0, 0.5, -0.1, 1.0):
        with pytest.raises(ValueError, match=r"in \(0, 0.5\)"):
            fw.check_alpha(bad)
    assert fw.check_alpha(0.05) == 0.05


def _claim(cid, verdict, looks):
    plan = Design((30, 100, 300, 1000))
    return ClaimResult(id=cid, verdict=verdict, plan=plan, looks=tuple(
        Look(n, Decision(verdict=v, test="t", p_value=min(ps), alpha=plan.alpha, effect_name="e", effect=0.5,
                         p_supported=ps[0], p_refuted=ps[1]), 0.0) for n, v, ps in looks))


def test_the_runs_tests_relabelled_from_their_recorded_looks():
    claims = [_claim("sure", Verdict.SUPPORTED, [(30, Verdict.SUPPORTED, (1e-9, 1.0))]),
              _claim("barely", Verdict.SUPPORTED, [(30, Verdict.INCONCLUSIVE, (0.01, 0.9)),
                                                    (100, Verdict.SUPPORTED, (0.001, 0.99))]),
              _claim("open", Verdict.INCONCLUSIVE, [(n, Verdict.INCONCLUSIVE, (0.3, 0.4)) for n in (30, 100, 300, 1000)])]
    got = familywise(claims, 0.05)
    assert got.tests == 3 and got.p_values["barely"] == pytest.approx(0.008)
    assert got.labels == {"sure": "SUPPORTED", "barely": "SUPPORTED", "open": "INCONCLUSIVE"}
    strict = familywise(claims, 0.01)
    assert strict.labels["barely"] == "INCONCLUSIVE"  # 0.008 > 0.01 / 2 after 'sure'
    assert "at most 3% (Bonferroni over 3 tests)" in error_bound_text(claims) and "under Holm at 0.01" in error_bound_text(claims, strict)


@pytest.mark.parametrize("value", ["0.7", "0", "abc"])
def test_a_bad_familywise_alpha_is_a_usage_error_naming_the_option(value):
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", f"--claims-familywise={value}"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 4
    assert "--claims-familywise" in out.stderr and "(0, 0.5)" in out.stderr
    assert "Traceback" not in out.stderr


def test_drift_across_cells_is_corrected_across_every_check():
    from harness.report.compare import Entry, Row, familywise_drift
    from harness.results.drift import DriftResult

    def entry(p, drifted):
        return Entry(ClaimResult(id="c", verdict=Verdict.SUPPORTED),
                     drift=(DriftResult(claim="c", drifted=drifted, message="m", experiment="e", p_value=p),))

    strong = Row("a", "1", "m", (None, entry(1e-6, True)))
    weak = Row("b", "1", "m", (None, entry(0.005, True)))
    calm = [Row(f"n{i}", "1", "m", (None, entry(0.5, False))) for i in range(8)]
    n, each, family = familywise_drift([strong, weak, *calm])
    assert n == 10 and len(each) == 2
    assert len(family) == 1 and family[0].startswith("c [e] 0:1")  # 0.005 > 0.01 / 9: chance across 10 checks
