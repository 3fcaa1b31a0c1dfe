"""Pieces of `python -m harness certify` and the cold-run tooling, on constructed data."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from harness.certification import certify
from harness.maintainer import cold
from harness.training.records import RunRecord

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


class _InProcess:
    """ProcessPoolExecutor's interface, each task run at once in this process."""

    def __init__(self, workers, mp_context=None, initializer=None, initargs=()):
        self.workers = workers

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        from concurrent.futures import Future

        fut = Future()
        fut.set_result(fn(*args))
        return fut


def test_references_already_stored_are_not_trained_again(tmp_path, monkeypatch):
    """Certifying resumes: what the store holds for this code is reused, and the cost announced is what is left."""
    import io

    from harness.training import experiments
    from harness.certification import references
    from harness.storage.store import RunStore

    store = RunStore(tmp_path / "store", "env")
    exp = experiments.get("reg_unscaled")
    for s in range(3):
        store.write(RunRecord(exp.name, exp.fingerprint, s, references.ENGINE, 1, {"loss": [1.0]}, {}))
    # the later looks' windows are not stored: they are made again (here: a stand-in, no training,
    # in this process instead of the spawned workers)
    later = []
    monkeypatch.setattr(references, "later_windows", lambda name: (later.append(name), (name, ["w"], 0.0))[1])
    monkeypatch.setattr(references, "ProcessPoolExecutor", _InProcess)
    out = io.StringIO()
    result = references.train(store, ["reg_unscaled"], [0, 1, 2], workers=2, out=out)
    assert result["trained"] == 0 and later == ["reg_unscaled"]
    assert result["later_windows"] == {"reg_unscaled": ["w"]}
    assert "0 Keras reference runs to train (3 already stored)" in out.getvalue()


def test_runs_of_another_label_are_not_references(tmp_path, monkeypatch):
    """The store keeps the certificate's references (with their states) apart from plain keras runs."""
    from harness.training import experiments
    from harness.certification import references
    from harness.storage.store import RunStore

    assert references.ENGINE == "keras-reference"
    store = RunStore(tmp_path / "store", "env")
    exp = experiments.get("reg_unscaled")
    store.write(RunRecord(exp.name, exp.fingerprint, 0, "keras", 1, {"loss": [1.0]}, {}))
    assert store.read(references.ENGINE, exp.fingerprint, 0) is None


def test_reference_windows_tile_the_keras_run():
    """Each checkpoint's stored state and the History slice after it; the last window carries the
    final metrics, the first the initial gradient."""
    import numpy as np

    from harness.certification import certificate, windows
    from harness.training import experiments

    exp = experiments.get("reg_unscaled_clipvalue")  # windows of 2 epochs
    shapes = windows.param_shapes(exp)
    states = {str(c): windows.encode_state({"weights": [np.full(s, c, np.float32) for s in shapes],
                                            "momentums": [np.full(s, -c, np.float32) for s in shapes]})
              for c in windows.checkpoints(exp)}
    history = {k: [float(np.float32(i / 7)) for i in range(exp.epochs)] for k in ("loss", "val_loss")}
    metrics = {"train_loss": 0.5, "test_loss": 0.25, "test_rmse_original_units": 3.0, "first_nonfinite_epoch": None,
               "init_grad_max_abs": 250.0}
    ref = RunRecord(exp.name, exp.fingerprint, 1, "keras-reference", exp.epochs, history, metrics,
                    extra={"states": states})
    wins = certify.reference_windows(exp, [ref])
    assert [w["epoch"] for w in wins] == list(range(0, 100, 2)) and {w["source"] for w in wins} == {"keras"}
    for w in wins:  # certify adds each window's chaos envelope afterwards
        assert "envelope" not in w
        w["envelope"] = {"history": {k: windows.encode_series([0.0, 0.0]) for k in history},
                         "final": None if w["final"] is None else {k: 0.0 for k in w["final"]}}
    decoded = certificate.decode_windows("c.json", exp.name, {"window_epochs": 2, "windows": wins})
    w = decoded[10]
    assert w["epoch"] == 20 and w["state"]["weights"][0][0, 0] == 20 and w["state"]["momentums"][0][0, 0] == -20
    assert w["keras"]["history"]["loss"] == history["loss"][20:22] and w["keras"]["final"] is None
    assert decoded[0]["keras"]["init_grad_max_abs"] == 250.0 and decoded[1]["keras"]["init_grad_max_abs"] is None
    assert decoded[-1]["keras"]["final"] == {"train_loss": 0.5, "test_loss": 0.25, "test_rmse_original_units": 3.0}


def test_cost_estimate_grows_with_epochs():
    from harness.training import experiments
    from harness.certification import references

    assert references.estimate_seconds(experiments.get("circles_relu5")) > \
        references.estimate_seconds(experiments.get("reg_unscaled"))


def _positional(seeds):
    """A batch whose runs depend on each seed's position in it modulo 8 (as measured on 2026-12-01), not on
    the batch's size."""
    return [RunRecord("reg_unscaled", "fp", s, "batched", 2, {"loss": [1.0 + s + 1e-7 * (i % 8), math.nan]},
                      {"test_loss": 0.5, "first_nonfinite_epoch": 2}) for i, s in enumerate(seeds)]


def test_seed_independence_sees_a_seeds_position_in_its_batch():
    from harness.report.engine import independence_text
    from harness.results import as_type
    from harness.results.model import SeedIndependence

    runs30 = {"reg_unscaled": _positional(range(30))}
    got = certify.seed_independence(["reg_unscaled"], runs30, 100, ["reg_unscaled"],
                                    lambda exp, seeds: _positional(seeds))
    row = got["by_experiment"]["reg_unscaled"]
    assert row["10"]["bit_identical"] and row["100"]["bit_identical"]  # other sizes, same positions: no
    assert not row[certify.SHIFTED]["bit_identical"] and row[certify.SHIFTED]["seeds_compared"] == 10
    assert got["same_positions_bit_identical"] and not got["bit_identical_everywhere"]
    text = independence_text(as_type(SeedIndependence, got, "seed_independence"))
    assert "one position earlier it differs on 1 of 1 configurations" in text
    calm = certify.seed_independence(["reg_unscaled"], {"reg_unscaled": _runs(30)}, 100, ["reg_unscaled"],
                                     lambda exp, seeds: _runs(len(seeds)))
    assert calm["bit_identical_everywhere"] and "and one position earlier" in independence_text(
        as_type(SeedIndependence, calm, "seed_independence"))
