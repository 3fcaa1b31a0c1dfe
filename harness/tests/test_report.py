"""The evidence report: self-contained, deterministic, NaN-safe, and strict about its input."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from harness import RESULTS_SCHEMA, figures, records
from harness.report import fmt_num, fmt_p, render_from_json, write_report

EPOCHS = 6
SEEDS = list(range(5))


def _run(experiment: str, seed: int, classification: bool, diverge: bool = False) -> dict:
    loss = [1.0 / (e + 1 + seed) for e in range(EPOCHS)]
    if diverge:
        loss = [1e3, 1e8, math.inf] + [math.nan] * (EPOCHS - 3)
    history = {"loss": loss, "val_loss": [v * 1.1 for v in loss]}
    if classification:
        history["accuracy"] = [0.5 + 0.05 * e for e in range(EPOCHS)]
        history["val_accuracy"] = [0.48 + 0.05 * e for e in range(EPOCHS)]
    return {"experiment": experiment, "fingerprint": f"fp-{experiment}", "seed": seed, "engine": "batched",
            "epochs": EPOCHS, "history": history,
            "metrics": {"test_loss": history["loss"][-1], "first_nonfinite_epoch": 3 if diverge else None},
            "wall_seconds": 0.5, "device": "cpu"}


def _results() -> dict:
    runs = [_run("reg_unscaled", s, False, diverge=(s == 2)) for s in SEEDS]
    runs += [_run("circles_relu", s, True) for s in SEEDS]
    reg_mse = [r["history"]["val_loss"][-1] for r in runs[:5]]
    return {
        "schema": RESULTS_SCHEMA,
        "suite_version": "0.1.0",
        "environment": {"python": "3.12", "tensorflow": "2.x", "numpy": "2.x", "device": "cpu",
                        "engine": "batched", "seeds": 5, "wall_seconds": 12.5,
                        "nested": {"a": 1, "b": [1, 2]}},
        "claims": [
            {"id": "unscaled_diverges", "title": "Unscaled target diverges", "section": "2.1.2.1",
             "quote": "the model almost immediately results in a NaN <mean squared error> & more",
             "interpretation": "diverges = training loss non-finite by the last epoch",
             "rule": "SUPPORTED if the divergence rate's lower bound > 0.5",
             "verdict": "INCONCLUSIVE", "expected_verdict": "SUPPORTED", "test": "exact binomial",
             "statistic": 0.2, "p_value": 3.2e-05, "p_holm_suite": math.nan, "alpha": 0.01,
             "effect": {"name": "rate", "value": 0.2, "ci_low": 0.01, "ci_high": math.inf},
             "seeds": 5, "experiments": ["reg_unscaled"], "metric": "val_loss",
             "metric_values": {"reg_unscaled": reg_mse}, "detail": "1/5 diverged", "seeds_needed": 40},
            {"id": "relu_learns", "title": "ReLU learns circles", "section": "2.2.3.1",
             "quote": "the model learns the problem", "interpretation": "test accuracy > 0.8",
             "rule": "median > 0.8", "verdict": "SUPPORTED", "expected_verdict": "SUPPORTED",
             "test": "Wilcoxon", "statistic": 15.0, "p_value": 0.041, "p_holm_suite": 0.082,
             "alpha": 0.01, "effect": {"name": "median", "value": 0.75, "ci_low": 0.7, "ci_high": 0.8},
             "seeds": SEEDS, "experiments": ["circles_relu", "not_run"], "metric": "test_accuracy",
             "metric_values": {"circles_relu": [0.75, 0.74, 0.76, 0.73, 0.75]}, "detail": "", "seeds_needed": None},
        ],
        "runs": runs,
        "experiments": {
            "reg_unscaled": {"wall_seconds": 2.5, "engine": "batched", "seeds": 5, "fingerprint": "fp-reg_unscaled",
                             "section": "2.1.2.1", "description": "unscaled inputs and target"},
            "circles_relu": {"wall_seconds": 3.0, "engine": "batched", "seeds": 5, "fingerprint": "fp-circles_relu",
                             "section": "2.2.3.1", "description": "relu"},
        },
        "equivalence": [{"experiment": "circles_relu", "level": "distribution", "passed": True, "seeds": 5,
                         "detail": "KS p=0.9", "ks_p": 0.9},
                        {"experiment": "reg_unscaled", "level": "trajectory", "passed": False, "seeds": 2,
                         "detail": "max rel diff", "max_rel_diff": math.nan}],
        "notes": ["a note with <html> & stuff"],
    }


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    results = _results()
    return results, a, b, write_report(results, a), write_report(_results(), b)


def test_index_is_self_contained_and_complete(rendered):
    results, a, _, index, _ = rendered
    assert index == a / "index.html" and index.exists()
    page = index.read_text(encoding="utf-8")
    assert "lesson-claims evidence report" in page
    for claim in results["claims"]:
        assert claim["id"] in page
        assert f'id="{claim["id"]}"' in page
        assert claim["verdict"] in page
    assert "data:image/png;base64," in page
    assert 'src="http' not in page and "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page
    assert "&lt;mean squared error&gt; &amp; more" in page  # escaped
    assert "&lt;html&gt;" in page
    assert "3.2e-05" in page and "0.041" in page
    assert "NaN" in page and "inf" in page
    assert "seeds needed" in page  # INCONCLUSIVE claim
    for section in ("s own figures", "Engine equivalence", "Environment", "Wall time per experiment"):
        assert section in page


def test_figure_files_have_deterministic_names(rendered):
    _, a, _, _, _ = rendered
    names = {p.name for p in (a / "figures").iterdir()}
    assert {"unscaled_diverges__curves_reg_unscaled.png", "unscaled_diverges__metric.png",
            "relu_learns__curves_circles_relu.png", "relu_learns__metric.png",
            "lesson_regression_histograms.png", "lesson_circles_scatter.png"} <= names
    assert "lesson_input_scaling_boxplot.png" not in names  # no input_scaling claim
    for n in names:
        assert (a / "figures" / n).read_bytes().startswith(b"\x89PNG")


def test_same_input_gives_identical_bytes(rendered):
    _, a, b, _, _ = rendered
    fa, fb = _files(a), _files(b)
    assert fa.keys() == fb.keys() and fa == fb


def test_results_json_round_trips_with_nan(rendered):
    _, a, _, _, _ = rendered
    text = (a / "results.json").read_text(encoding="utf-8")
    assert "NaN" in text and "Infinity" in text
    back = records.loads(text)
    assert back["schema"] == RESULTS_SCHEMA
    assert math.isnan(back["claims"][0]["p_holm_suite"])
    assert math.isinf(back["claims"][0]["effect"]["ci_high"])
    assert math.isnan(back["runs"][2]["history"]["loss"][-1])


def test_render_from_json_rerenders_same_bytes(rendered, tmp_path):
    _, a, _, _, _ = rendered
    c = tmp_path / "c"
    c.mkdir()
    (c / "results.json").write_bytes((a / "results.json").read_bytes())
    (c / "figures").mkdir()
    (c / "figures" / "gone__metric.png").write_bytes(b"stale")
    index = render_from_json(c / "results.json")
    assert index == c / "index.html"
    assert _files(c) == _files(a)  # stale figure removed, the rest identical


def test_input_scaling_boxplot_uses_claim(tmp_path):
    results = _results()
    results["claims"] = [{"id": "input_scaling", "verdict": "REFUTED",
                          "metric_values": {"reg_target_standard": [0.1, 0.2, math.nan],
                                            "reg_input_minmax": [0.05, 0.06],
                                            "reg_input_standard": [0.1, 0.11]}}]
    results["runs"] = []
    del results["experiments"], results["equivalence"], results["environment"]
    index = write_report(results, tmp_path)
    assert (tmp_path / "figures" / "lesson_input_scaling_boxplot.png").exists()
    page = index.read_text(encoding="utf-8")
    assert "REFUTED" in page and "No runs of this experiment" in page


def test_render_from_json_rejects_non_results(tmp_path):
    write_report(_results(), tmp_path)
    good = (tmp_path / "results.json").read_text(encoding="utf-8")
    truncated = tmp_path / "truncated.json"
    truncated.write_text(good[: len(good) // 2], encoding="utf-8")
    with pytest.raises(ValueError, match="truncated.json"):
        render_from_json(truncated)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(records.dumps({"schema": "something/else/9", "claims": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="wrong.json"):
        render_from_json(wrong)
    missing = tmp_path / "noschema.json"
    missing.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match="noschema.json"):
        render_from_json(missing)


def test_formatting():
    assert fmt_p(3.2e-05) == "3.2e-05"
    assert fmt_p(0.041) == "0.041"
    assert fmt_p(math.nan) == "NaN" and fmt_p(None) == "—"
    assert fmt_num(math.inf) == "inf" and fmt_num(-math.inf) == "-inf" and fmt_num(math.nan) == "NaN"


def test_nan_majority_epoch_has_infinite_median():
    nan = math.nan
    series = [np.array([1.0, nan, nan]), np.array([1.0, 2.0, nan]), np.array([1.0, 0.5, 0.4])]
    q25, med, q75 = figures._epoch_bands(series)
    assert med[0] == 1.0 and med[1] == 2.0  # a NaN ranks as the worst value, never dropped
    assert math.isinf(med[2]) and math.isinf(q25[2])  # a NaN-majority epoch is not drawn
    # a run stopped on NaN stays non-finite afterwards; a merely shorter run is absent
    ones = np.ones(3)
    q25, med, q75 = figures._epoch_bands([ones, ones, np.array([3.0, nan]), np.array([2.0])])
    assert med[2] == 1.0 and math.isinf(q75[2])  # 3 values at epoch 3: 1, 1, +inf


def _certificate_section(results) -> str:
    from harness.report import _Renderer

    r = _Renderer(results)
    page = r.certificate()
    return page


def test_certificate_and_mutants_sections_say_what_they_measured():
    results = _results()
    results["certificate"] = {
        "path": "reports/certificates/x.json", "created": "2026-11-27", "code_digest": "ab" * 32, "seeds": list(range(10)),
        "plan": {"tests": 47, "check_alpha": 0.000213, "family_alpha": 0.01, "keras_seeds": 10, "batched_seeds": 30,
                 "detectable_superiority": 0.979, "detectable_rate_difference": 1.0, "smallest_mann_whitney_p": 2.4e-9,
                 "trajectory": {"seeds": [0, 1, 2], "epochs": 20, "epochs_by_experiment": {}, "rtol": 1e-4}},
        "checks": [{"passed": True}, {"passed": False}],
        "seed_independence": {"batch_sizes": [10, 1000], "bit_identical_everywhere": False,
                              "by_experiment": {"a": {"10": {"bit_identical": True, "max_rel_diff": 0.0}},
                                                "b": {"1000": {"bit_identical": False, "max_rel_diff": 3e-7}}},
                              "verdicts_on_seeds_0_29": {"c1": {"same": True}, "c2": {"same": False}}},
        "cost": {"keras_core_seconds": 9060, "certify_wall_seconds": 380}}
    results["mutants"] = {"mutants": [
        {"mutant": "m1", "description": "d1", "killed": True, "check": "trajectory", "configuration": "a",
         "epoch": 1, "detail": "x"},
        {"mutant": "m2", "description": "d2", "killed": False, "check": None, "configuration": None,
         "epoch": None, "detail": "passed every check"}]}
    page = _certificate_section(results)
    assert "1/2 checks of the batched engine passed" in page
    assert "47 tests at alpha" in page and "151 core-minutes" in page
    assert "bit-identical among 30 and among 10 or 1000 seeds on 1 of 2 configurations" in page
    assert "3e-07 (b)" in page and "DIFFERENT for c2" in page
    assert "killed: 1, survived: 1" in page and "<strong>SURVIVED</strong>" in page


def test_report_without_certificate_says_so():
    page = _certificate_section(_results())
    assert "No certificate in this results file" in page and "python -m harness mutants" in page
