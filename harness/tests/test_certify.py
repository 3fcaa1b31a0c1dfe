"""Pieces of `python -m harness certify` and the cold-run tooling, on constructed data."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from harness import certify, cold
from harness.records import RunRecord

ROOT = Path(__file__).resolve().parents[2]


def _runs(n, bump_seed=None, delta=0.0):
    return [RunRecord("reg_unscaled", "fp", s, "batched", 2,
                      {"loss": [1.0 + (delta if s == bump_seed else 0.0), math.nan]},
                      {"test_loss": 0.5, "first_nonfinite_epoch": 2}) for s in range(n)]


def test_seed_independence_reports_bit_identity_and_the_largest_difference():
    runs30 = {"reg_unscaled": _runs(30)}
    same = certify.seed_independence(["reg_unscaled"], runs30, 100, ["reg_unscaled"], lambda exp, seeds: _runs(len(seeds)))
    assert same["bit_identical_everywhere"]
    assert same["by_experiment"]["reg_unscaled"]["100"]["seeds_compared"] == 30
    differs = certify.seed_independence(["reg_unscaled"], runs30, 100, ["reg_unscaled"],
                                        lambda exp, seeds: _runs(len(seeds), bump_seed=3, delta=6e-8))
    assert not differs["bit_identical_everywhere"]
    row = differs["by_experiment"]["reg_unscaled"]
    assert row["10"]["max_abs_diff"] == pytest.approx(6e-8) and not row["100"]["bit_identical"]


def test_quick_start_is_two_lines_and_ci_runs_them():
    first, second = cold.quick_start()
    assert "pytest -n auto" in first and "harness/tests" in second
    ci = (ROOT / ".ci" / "run").read_text()
    assert "quick_start()" in ci and 'bash -c "${QUICK[0]}"' in ci and "python -m harness mutants" in ci


def test_quick_start_refuses_a_readme_without_it(tmp_path):
    bad = tmp_path / "README.md"
    bad.write_text("# x\n\n## Quick start\n\n```\none line\n```\n")
    with pytest.raises(ValueError, match="two command lines, found 1"):
        cold.quick_start(bad)


def test_references_already_stored_are_not_trained_again(tmp_path, capsys):
    """Certifying resumes: what the store holds for this code is reused, and the cost announced is what is left."""
    import io

    from harness import experiments, references
    from harness.store import RunStore

    store = RunStore(tmp_path / "store", "env")
    exp = experiments.get("reg_unscaled")
    for s in range(3):
        store.write(RunRecord(exp.name, exp.fingerprint, s, "keras", 1, {"loss": [1.0]}, {}))
    out = io.StringIO()
    result = references.train(store, ["reg_unscaled"], [0, 1, 2], workers=2, out=out)
    assert result["trained"] == 0
    assert "0 Keras reference runs to train (3 already stored)" in out.getvalue()


def test_cost_estimate_grows_with_epochs():
    from harness import experiments, references

    assert references.estimate_seconds(experiments.get("circles_relu5")) > \
        references.estimate_seconds(experiments.get("reg_unscaled"))
