"""The results model and its codec; the runner without pytest; the plugin carrying outcomes on reports."""
from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import results as res
from harness.spec import Decision, Expectation, Verdict
from harness.pytest_plugin import junit_properties
from harness.outcome import ClaimOutcome
from harness.settings import PROFILES, Settings

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_1 = Path(__file__).parent / "data" / "results-schema1.json"


def _look(seeds: int, verdict: str, **kw) -> res.Look:
    return res.Look(seeds, Decision(verdict=Verdict(verdict), test="t", p_value=kw.pop("p_value", None),
                                    alpha=0.00125, effect_name="rate", effect=kw.pop("effect", None), **kw), 0.5)


def _claim(**kw) -> res.ClaimResult:
    base = dict(id="c", verdict=Verdict.SUPPORTED, p_value=1e-9, alpha=0.00125,
                effect=res.Effect(name="rate", value=1.0, ci_low=0.8, ci_high=1.0, threshold=0.5, zone=(0.4, 0.6)),
                metric_samples={"x": [1.0, math.inf, math.nan]}, outcomes={"x": [True, False, False]},
                looks=(_look(30, "INCONCLUSIVE"), _look(100, "SUPPORTED")),
                amendments=(res.Amendment("2026-11-28", "old", "new", "why", "INCONCLUSIVE"),),
                expectation=Expectation(pins={"tf2.21.0-keras3.15.1-cpu": {"effect": (0.9, 1.0)}}, why="measured"))
    base.update(kw)
    return res.ClaimResult(**base)


ENV = res.Environment(fingerprint="fp")


def test_round_trip_keeps_every_field_and_non_finite_values():
    r = res.Results(claims=(_claim(),), environment=ENV)
    back = res.decode(res.encode(r))
    c = back.claims[0]
    assert c.looks[1].seeds == 100 and c.looks[1].decision.verdict is Verdict.SUPPORTED
    assert c.amendments[0].old_verdict == "INCONCLUSIVE" and isinstance(c.amendments[0], res.Amendment)
    assert c.metric_samples["x"][1] == math.inf and math.isnan(c.metric_samples["x"][2])
    assert c.outcomes == {"x": [True, False, False]} and c.effect.zone == (0.4, 0.6)
    assert c.expectation.pins == {"tf2.21.0-keras3.15.1-cpu": {"effect": (0.9, 1.0)}} and c.as_expected
    assert res.encode(back) == res.encode(r)


def test_round_trip_keeps_labels_counts_and_sentences():
    untestable = _claim(id="u", verdict=Verdict.INCONCLUSIVE, untestable="never acted", p_value=None, counts="claim",
                        sentence="c", effect=res.Effect(name="d", value=0.0, threshold=0.1, zone=(0.05, 0.15)),
                        looks=(_look(30, "INCONCLUSIVE", untestable="never acted"),))
    on_line = _claim(id="l", verdict=Verdict.INCONCLUSIVE, at_threshold=True, zone_factor=0.7, counts="derived")
    r = res.Results(claims=(_claim(zone_factor=1.4), untestable, on_line), environment=ENV)
    back = res.decode(res.encode(r))
    assert res.encode(back) == res.encode(r)
    c, u, line = back.claims
    assert (c.label, u.label, line.label) == ("SUPPORTED", "NOT TESTABLE HERE", "ON THE LINE")
    assert (c.zone_factor, line.zone_factor, u.untestable, u.looks[0].decision.untestable) == (
        1.4, 0.7, "never acted", "never acted")
    assert (u.counts, u.sentence, line.counts) == ("claim", "c", "derived")
    assert back.sentences() == {"c": [c, u]}  # the derived prediction is not a claim of the lesson
    assert res.sentence_label(back.sentences()["c"]) == "SUPPORTED"


@pytest.mark.parametrize("data, message", [
    ({"schema": "someone/1", "claims": [{"id": "a", "verdict": "SUPPORTED"}]}, "schema 'someone/1'"),
    ({"schema": res.SCHEMA, "claims": []}, "no claims (field 'claims' is empty)"),
    ({"schema": res.SCHEMA}, "no claims (field 'claims' is missing)"),
    ({"schema": res.SCHEMA, "claims": [{"id": "a", "verdict": "SUPPORTED"}]}, "f.json: missing field 'environment'"),
    ({"schema": res.SCHEMA, "claims": [{"id": "a"}], "environment": {"fingerprint": "fp"}},
     "f.json: claim 'a': missing field 'verdict' (one of SUPPORTED, REFUTED, INCONCLUSIVE)"),
    ({"schema": res.SCHEMA, "claims": [{"id": "a", "verdict": "MAYBE"}], "environment": {"fingerprint": "fp"}},
     "f.json: claim 'a': verdict: 'MAYBE' is not one of SUPPORTED, REFUTED, INCONCLUSIVE"),
    # a field of the wrong type: the file, the field's path and the type expected
    ({"schema": res.SCHEMA, "claims": [{"id": "a", "verdict": "SUPPORTED", "seeds": "30"}],
      "environment": {"fingerprint": "fp"}}, "f.json: claim 'a': seeds: str '30', expected an integer or null"),
    ({"schema": res.SCHEMA, "claims": [{"id": "a", "verdict": "SUPPORTED", "p_value": True}],
      "environment": {"fingerprint": "fp"}}, "f.json: claim 'a': p_value: bool true, expected a number or null"),
    ({"schema": res.SCHEMA, "claims": [{"id": "a", "verdict": "SUPPORTED", "metric_samples": {"x": 3}}],
      "environment": {"fingerprint": "fp"}}, "f.json: claim 'a': metric_samples.x: int 3, expected a list"),
    ({"schema": res.SCHEMA, "claims": [{"id": "a", "verdict": "SUPPORTED", "looks": [{"verdict": "x"}]}],
      "environment": {"fingerprint": "fp"}}, "f.json: claim 'a': looks[0]: missing field 'seeds' (an integer)"),
    ({"schema": res.SCHEMA, "claims": [{"id": "a", "verdict": "SUPPORTED"}],
      "environment": {"fingerprint": "fp", "devices": {"gpus": "two"}}},
     "f.json.environment.devices.gpus: str 'two', expected an integer or null"),
])
def test_decode_refuses_bad_results_naming_the_field(data, message):
    with pytest.raises(res.ResultsError, match=re.escape(message)):
        res.from_data(data, "f.json")


def test_decode_refuses_truncated_json():
    with pytest.raises(res.ResultsError, match="not valid JSON"):
        res.decode('{"schema": "lesson-claims/results/3", "cla', "f.json")


def test_schema_1_files_are_migrated_by_the_decoder():
    # Two claims of a real schema-1 results.json (TF 2.21, 2026-11-27), samples cut to 5 seeds.
    old, runs, note = res.read(SCHEMA_1)
    assert old.schema == res.SCHEMA and len(old.claims) == 2 and isinstance(runs, list)
    assert all(isinstance(c.verdict, Verdict) and not c.looks and c.seeds for c in old.claims)
    # written before the labels: each test is a claim of its own, labelled by its verdict
    assert all(c.counts == "claim" and c.untestable is None and c.label == c.verdict.value for c in old.claims)


def test_schema_2_results_are_migrated_by_the_decoder():
    """The committed TF 2.21 results.json (schema 2) reads as the typed model: looks with their decisions,
    the expectation as its spec, the certificate's checks typed."""
    results, runs, note = res.read(ROOT / "reports" / "results.json")
    c = results.claim("relu20_no_longer_learns")
    assert c.looks[-1].decision.verdict is c.verdict and c.looks[-1].seeds == c.seeds
    assert c.expected_label == "ON THE LINE" and c.as_expected
    assert isinstance(results.certificate.checks[0], res.EquivalenceCheck) and results.environment.devices.gpus == 0
    assert res.decode(res.encode(results)) == results


def test_a_summary_is_not_a_results_file_to_render(tmp_path):
    old = ROOT / "reports" / "baselines" / "tf2.15.1-keras2.15.0-cpu-df4c24d7.json"
    with pytest.raises(res.ResultsError, match="is a summary, not a results file"):
        res.read(old)


def test_outcome_travels_as_one_string():
    check = res.EquivalenceCheck(experiment="x", level="window", passed=True)
    o = ClaimOutcome(_claim(), runs={"x": {"runs": [], "info": {}}}, equivalence=[check])
    back = ClaimOutcome.decode(o.encode())
    assert back.result == o.result and back.runs == o.runs and back.equivalence == [check] and back.failure is None


def test_profiles_bundle_settings_and_options_override():
    assert Settings.from_profile("quick").design().looks == (30,)
    assert Settings.from_profile("default").design().looks == (30, 100, 300, 1000)
    assert Settings.from_profile("thorough").design().looks == (100, 300, 1000)
    assert Settings.from_profile("quick", max_seeds=100).design().looks == (30, 100)
    assert Settings.from_profile("default", engine="keras").design().looks == (30,)
    with pytest.raises(ValueError, match="unknown profile"):
        Settings.from_profile("fast")
    assert set(PROFILES) == {"default", "quick", "thorough"}


def _self_certified(monkeypatch):
    """This environment's certificate lookup answers with the batched engine's certificate of
    itself on reg_target_standard (harness.tests.selfcert): no Keras training, any environment."""
    from harness.certification import certificate
    from harness.tests import selfcert

    cert = selfcert.certificate_for((selfcert.CHEAP,))
    monkeypatch.setattr(certificate, "find", lambda directory, environment, experiment_names=None: cert)
    return cert


def test_check_claims_runs_without_pytest(tmp_path, monkeypatch):
    from harness import collect
    from harness.runner import check_claims

    _self_certified(monkeypatch)
    claim = next(c for c in collect.all_claims() if c.id == "standardized_target_converges")
    messages = []
    results, runs = check_claims([claim], Settings(seeds=10, max_seeds=10, store_dir=str(tmp_path / "store")),
                                 progress=messages.append)
    (c,) = results.claims
    assert c.id == claim.id and isinstance(c.verdict, Verdict) and c.seeds == 10
    # the window check and (the configuration is calm) the continuity check, both passed
    assert [(e.experiment, e.level, e.passed, e.ran) for e in results.equivalence] == [
        ("reg_target_standard", "continuity", True, True), ("reg_target_standard", "window", True, True)]
    assert results.environment.batch_order == "lesson"
    assert {r["extra"]["batch_order"] for r in runs} == {"lesson"}
    # the machine on the record, the run's and the certificate's (here the same process made both)
    assert results.environment.machine.cores >= 1 and results.environment.machine.workers == 1
    assert results.certificate.machine.cpu == results.environment.machine.cpu
    assert len(c.metric_samples["reg_target_standard"]) == 10 and len(runs) == 10
    assert any("training reg_target_standard: 10 seeds" in m for m in messages)
    assert any("trained reg_target_standard: 10 seeds in" in m for m in messages)
    assert res.decode(res.encode(results)).claims[0] == c


def test_plugin_carries_outcomes_on_reports_and_leaves_no_side_directory(tmp_path):
    import os

    report = tmp_path / "r"
    # the certificate: the batched engine's of itself (harness.tests.selfcert), not this environment's
    proc = subprocess.run([sys.executable, "-m", "pytest", "claims/test_claims.py", "-p", "no:xdist",
                           "-p", "harness.tests.selfcert", "-k", "standardized_target_converges",
                           f"--claims-report-dir={report}", f"--claims-store-dir={tmp_path / 'store'}", "--claims-profile=quick",
                           f"--junitxml={tmp_path / 'junit.xml'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "LESSON_CLAIMS_SELF_CERT": "reg_target_standard"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = res.load(report / "results.json")
    assert [c.id for c in results.claims] == ["standardized_target_converges"]
    assert results.environment.profile == "quick"
    assert not (report / ".parts").exists()
    assert "lesson-claims: profile quick" in proc.stdout
    # The outcome rides on the report, not in user properties: JUnit XML gets no histories, only the verdict.
    junit = (tmp_path / "junit.xml").read_text(encoding="utf-8")
    assert "lesson_claims" not in junit and len(junit) < 5_000
    (case,) = ET.fromstring(junit).iter("testcase")
    assert {p.get("name"): p.get("value") for p in case.iter("property")} == dict(
        junit_properties(results.claims[0])) and dict(junit_properties(results.claims[0]))["seeds"] == "30"
    assert results.runs_file and len(res.load(report / "results.json").claims[0].metric_samples) == 1
    assert "1 claim of the lesson: 1 SUPPORTED, 0 REFUTED" in proc.stdout  # the terminal counts lesson claims
    assert "batch order lesson" in proc.stdout and "self-certificate.json" in proc.stdout
    assert [(e.experiment, e.level, e.passed) for e in results.equivalence] == [
        ("reg_target_standard", "continuity", True), ("reg_target_standard", "window", True)]
    progress = (report / "progress.log").read_text()
    assert "training reg_target_standard: 30 seeds" in progress and "trained reg_target_standard" in progress


def test_drift_compares_verdicts_only_under_the_same_rules():
    from types import SimpleNamespace

    from harness.spec import RULES, Verdict
    from harness.runner import ClaimRunner

    claim = SimpleNamespace(id="c", metric="m", experiments=("x",))
    decision = SimpleNamespace(verdict=Verdict.SUPPORTED)
    samples = {"x": [1.0, 2.0, 3.0, 4.0, 5.0]}

    def run(rules):
        base = res.Results(claims=(res.ClaimResult(id="c", verdict=Verdict.INCONCLUSIVE,
                                                   metric_samples={"x": [1.0, 2.0, 3.0, 4.0, 5.0]}),),
                           environment=ENV, rules=rules)
        out = ClaimOutcome(_claim())
        error = ClaimRunner.check_drift(SimpleNamespace(baseline=base, baseline_path="b.json"), claim, decision,
                                        samples, out)
        return error, out.drift[0]

    error, row = run(RULES)
    assert error is not None and "verdict changed INCONCLUSIVE -> SUPPORTED" in str(error)
    assert row.baseline == "b.json"
    error, row = run(None)  # a baseline from before the current rules
    assert error is None and not row.drifted and "verdicts not compared" in row.message


def test_a_session_without_claims_imports_no_tensorflow():
    code = ("import pytest, sys; rc = pytest.main(['harness/tests/test_stats.py', '-q', '-p', 'no:xdist']); "
            "print('TF_IMPORTED', 'tensorflow' in sys.modules); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "TF_IMPORTED False" in proc.stdout


def test_estimate_seconds_interpolates_the_benchmark(tmp_path):
    from harness.schedule import estimate_seconds

    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"rows": [{"configuration": "a", "keras_seconds_per_seed": 10.0,
                                           "batched_seconds_by_seeds": {"30": 3.0, "1000": 100.0}}]}))
    assert estimate_seconds("batched", "a", 30, bench) == 3.0
    assert estimate_seconds("batched", "a", 515, bench) == pytest.approx(51.5)
    assert estimate_seconds("batched", "a", 2000, bench) == pytest.approx(200.0)
    assert estimate_seconds("keras", "a", 3, bench) == 30.0
    assert estimate_seconds("batched", "b", 30, bench) is None
    assert estimate_seconds("batched", "a", 30, tmp_path / "missing.json") is None


def test_merge_keeps_one_window_row_per_experiment_a_failed_one_first():
    from harness.merge import merge

    row = res.EquivalenceCheck(level="window", experiment="x", passed=True, detail="ok")
    failed = res.EquivalenceCheck(level="window", experiment="x", passed=False, detail="seed 0, checkpoint epoch 20")
    a = ClaimOutcome(_claim(id="a"), equivalence=[row, res.EquivalenceCheck(level="window", experiment="w",
                                                                            passed=True)])
    b = ClaimOutcome(_claim(id="b"), equivalence=[failed])  # another worker checked x too, and it failed
    c = ClaimOutcome(_claim(id="c"), equivalence=[row])
    results, _ = merge([a, b, c], Settings(), certificate=None, wall_seconds=1.0, workers=2, devices=None,
                       baseline_path=None, mutants=None)
    assert [(r.experiment, r.passed) for r in results.equivalence] == [("w", True), ("x", False)]
    assert [c.id for c in results.claims] == ["a", "b", "c"] and results.rules
    assert results.environment.batch_order == "lesson"


def test_the_replayed_order_verdicts_never_outlive_their_code(tmp_path):
    """The committed replayed-order summary is shown beside a run only when the same engine code
    decided it; another code digest is named as stale, with the command that remakes it."""
    import json

    from harness import variants

    committed = sorted((ROOT / "reports" / "variants" / "replayed").glob("*.json"))
    assert committed, "the replayed-order summary is committed"
    summary = json.loads(committed[0].read_text())
    fp, digest = summary["environment"]["fingerprint"], summary["environment"]["code_digest"]
    (tmp_path / "replayed").mkdir()
    (tmp_path / "replayed" / f"{fp}.json").write_text(json.dumps(summary))
    same = variants.variant_verdicts(fp, "lesson", digest, tmp_path)["replayed"]
    assert same.error is None and same.claims
    stale = variants.variant_verdicts(fp, "lesson", "0" * 64, tmp_path)["replayed"]
    assert "other engine code" in stale.error and "--claims-batch-order=replayed" in stale.error and not stale.claims
    assert variants.variant_verdicts(fp, "replayed", digest, tmp_path) == {}  # a variant run compares with nothing
