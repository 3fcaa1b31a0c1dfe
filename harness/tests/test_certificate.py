"""Certificates: a valid one round-trips; a truncated, edited, foreign, other-code,
other-environment, other-order or older-schema one is refused with the check it
failed (and the field, for a window), and never used.  All on constructed data."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from harness.certification import certificate, windows
from harness.training import experiments, records
from harness.training.records import RunRecord

NAMES = ["reg_unscaled", "circles_tanh1"]
ENV = {"python": "3.11.7", "implementation": "cpython", "platform": "Linux-x86_64", "tensorflow": "2.21.0",
       "keras": "3.15.1", "keras_major": 3, "legacy_keras": False, "numpy": "2.4.6", "scipy": "1.17",
       "scikit_learn": "1.8.0", "matplotlib": "3.10", "device": "cpu", "fingerprint": "tf2.21.0-keras3.15.1-cpu-test"}


def _run(name, seed):
    exp = experiments.get(name)
    hist = {"loss": [1.5, math.nan, math.inf][: 3], "val_loss": [1.25, 0.5, 0.25]}
    if exp.classification:
        hist.update(accuracy=[0.5, 0.625, 0.75], val_accuracy=[0.5, 0.5, 0.875])
    return RunRecord(name, exp.fingerprint, seed, "keras", 3, hist,
                     {"test_loss": 0.1 * seed, "train_loss": math.nan, "first_nonfinite_epoch": 2}, 1.0)


def _state(exp, seed, epoch):
    """Distinct float32 values per (seed, epoch), in the configuration's shapes."""
    rng = np.random.default_rng([seed, epoch])
    shapes = windows.param_shapes(exp)
    return {"weights": [rng.standard_normal(s).astype(np.float32) for s in shapes],
            "momentums": [rng.standard_normal(s).astype(np.float32) for s in shapes]}


def _window(exp, seed, epoch, source):
    w = windows.window_epochs(exp.name)
    keys = ["loss", "val_loss"] + (["accuracy", "val_accuracy"] if exp.classification else [])
    history = {k: [float(np.float32(0.5 + 0.01 * (epoch + i))) for i in range(w)] for k in keys}
    final = {"test_loss": 0.25, "train_loss": 0.5} if epoch + w == exp.epochs else None
    grad0 = 2.0 if epoch == 0 and source == "keras" else None
    envelope = {"history": {k: [1e-7 * i for i in range(w)] for k in keys},
                "final": None if final is None else {k: 1e-8 for k in final}}
    return certificate.encode_window(seed, epoch, source, _state(exp, seed, epoch), history, final, grad0, envelope)


def _windows(name):
    exp = experiments.get(name)
    out = [_window(exp, s, c, "keras") for s in certificate.SEEDS for c in windows.checkpoints(exp)]
    return out + [_window(exp, windows.LATER_SEEDS[0], windows.later_checkpoints(exp)[0], "batched")]


def _build(env=ENV):
    refs = {n: [_run(n, s) for s in certificate.SEEDS] for n in NAMES}
    return certificate.build(env, refs, {n: _windows(n) for n in NAMES}, checks=[{"passed": True}],
                             plan={"windows": {"rtol": windows.RTOL}}, seed_independence={},
                             cost={"keras_core_seconds": 1.0}, created="2026-11-27T00:00:00+00:00")


@pytest.fixture(scope="module")
def built():
    return _build()


@pytest.fixture
def cert_path(tmp_path, built):
    return certificate.write(built, tmp_path)


def _load(path, env=ENV):
    return certificate.load(path, env, experiment_names=NAMES)


def _rewrite(path, change):
    data = records.loads(path.read_text())
    change(data)
    data["sha256"] = certificate.checksum(data)  # a consistent forgery: only the content check can catch it
    path.write_text(records.dumps(data))


def _refused(path, match):
    with pytest.raises(certificate.CertificateError, match=match) as info:
        _load(path)
    return str(info.value)


def test_a_valid_certificate_round_trips_runs_exactly(cert_path):
    assert cert_path.name == f"{ENV['fingerprint']}.json"
    cert = _load(cert_path)
    runs = cert.runs("circles_tanh1")
    assert [r.seed for r in runs] == list(certificate.SEEDS) == [0, 1, 2]
    r = runs[2]
    assert r.history["accuracy"] == [0.5, 0.625, 0.75] and r.metrics["test_loss"] == pytest.approx(0.2)
    loss = cert.runs("reg_unscaled")[0].history["loss"]
    assert loss[0] == 1.5 and math.isnan(loss[1]) and loss[2] == math.inf
    assert math.isnan(r.metrics["train_loss"])


def test_a_valid_certificate_round_trips_its_windows_exactly(cert_path):
    cert = _load(cert_path)
    exp = experiments.get("reg_unscaled")
    wins = cert.windows("reg_unscaled")
    assert cert.window_epochs("reg_unscaled") == 10 and len(wins) == 3 * 10 + 1
    w = wins[13]  # seed 1, checkpoint 30
    assert (w["seed"], w["epoch"], w["source"]) == (1, 30, "keras")
    want = _state(exp, 1, 30)
    assert all(np.array_equal(a, b) for a, b in zip(w["state"]["weights"], want["weights"]))
    assert all(np.array_equal(a, b) for a, b in zip(w["state"]["momentums"], want["momentums"]))
    assert w["state"]["iterations"] == 30 * 16  # 16 batches an epoch
    assert w["keras"]["history"]["loss"] == [float(np.float32(0.5 + 0.01 * (30 + i))) for i in range(10)]
    assert w["keras"]["final"] is None and w["keras"]["init_grad_max_abs"] is None
    assert wins[0]["keras"]["init_grad_max_abs"] == 2.0 and wins[9]["keras"]["final"]["test_loss"] == 0.25
    assert wins[-1]["source"] == "batched" and wins[-1]["seed"] == windows.LATER_SEEDS[0]
    assert w["envelope"]["history"]["val_loss"] == [float(np.float32(1e-7 * i)) for i in range(10)]
    assert w["envelope"]["final"] is None and wins[9]["envelope"]["final"] == {"test_loss": 1e-8, "train_loss": 1e-8}
    circles = cert.windows("circles_tanh1")
    assert len(circles) == 3 * 50 + 1 and set(circles[0]["keras"]["history"]) == {
        "loss", "val_loss", "accuracy", "val_accuracy"}
    summary = cert.for_results()
    assert summary["batch_order"] == "lesson" and summary["window_epochs"] == {"reg_unscaled": 10, "circles_tanh1": 10}


def test_series_encoding_is_lossless_for_float32_and_refuses_others():
    values = [float(np.float32(0.1)), -2.5, math.nan, -math.inf]  # float32 0.1 as a double
    out = certificate.decode_series(certificate.encode_series(values))
    assert out[0] == values[0] and out[1] == -2.5 and math.isnan(out[2]) and out[3] == -math.inf
    with pytest.raises(ValueError, match="float32"):
        certificate.encode_series([0.1])  # a double that float32 would round


def test_truncated_certificate_is_refused(cert_path):
    text = cert_path.read_text()
    cert_path.write_text(text[: len(text) // 2])
    _refused(cert_path, r"JSON: not valid JSON, truncated")


def test_edited_certificate_fails_its_checksum(cert_path):
    data = json.loads(cert_path.read_text())
    data["experiments"]["reg_unscaled"]["runs"][0]["metrics"]["test_loss"] = 0.001
    cert_path.write_text(json.dumps(data))
    _refused(cert_path, "checksum")


def test_foreign_file_fails_the_schema_check(cert_path):
    cert_path.write_text('{"schema": "lesson-claims/summary/1", "claims": []}')
    _refused(cert_path, "schema: expected 'lesson-claims/certificate/2'")
    cert_path.write_text("[1, 2]")
    _refused(cert_path, "schema")


def test_schema_1_is_refused_naming_the_command(cert_path):
    _rewrite(cert_path, lambda d: d.update(schema="lesson-claims/certificate/1"))
    msg = _refused(cert_path, "schema: ")
    assert "python -m harness certify" in msg and "replayed" in msg


def test_missing_top_level_fields_are_named(cert_path):
    _rewrite(cert_path, lambda d: (d.pop("batch_order"), d.pop("orders_digest")))
    _refused(cert_path, r"schema: missing fields \['batch_order', 'orders_digest'\]")


def test_a_replayed_order_certificate_is_refused(cert_path):
    _rewrite(cert_path, lambda d: d.update(batch_order="replayed"))
    msg = _refused(cert_path, "batch order: certifies the 'replayed' batch order, this suite trains 'lesson'")
    assert "python -m harness certify" in msg


def test_other_order_draws_are_refused(cert_path):
    _rewrite(cert_path, lambda d: d.update(orders_digest="0" * 64))
    _refused(cert_path, "batch order: the lesson's orders drawn here differ")


def test_another_digest_scheme_is_refused(cert_path):
    _rewrite(cert_path, lambda d: d["code"].update(digest_scheme="files/1"))
    _refused(cert_path, "code: digest scheme 'files/1'.*python -m harness certify")


def test_another_environment_is_refused_naming_the_field(cert_path):
    with pytest.raises(certificate.CertificateError,
                       match=r"environment: .*tensorflow: certificate '2.21.0', here '2.15.1'"):
        _load(cert_path, {**ENV, "tensorflow": "2.15.1"})


def test_other_code_is_refused_naming_the_modules(cert_path):
    _rewrite(cert_path, lambda d: (d["code"].update(digest="0" * 64),
                                   d["code"]["modules"].update({"keras engine": "0" * 64})))
    msg = _refused(cert_path, r"code: certifies other code: keras engine \(harness.training.engines.keras_engine\) changed")
    assert "python -m harness certify" in msg


def test_changed_experiment_or_data_is_refused(cert_path):
    _rewrite(cert_path, lambda d: d["experiments"]["reg_unscaled"].update(fingerprint="ffff"))
    _refused(cert_path, "experiments: reg_unscaled: fingerprint ffff")
    _rewrite(cert_path, lambda d: d["experiments"]["reg_unscaled"].update(
        fingerprint=experiments.get("reg_unscaled").fingerprint, data_digest="0" * 64))
    _refused(cert_path, "data: reg_unscaled")


def test_missing_configuration_is_refused(cert_path):
    with pytest.raises(certificate.CertificateError, match="no references for circles_relu5"):
        certificate.load(cert_path, ENV, experiment_names=NAMES + ["circles_relu5"])


# -- windows: each field checked, the error names it ---------------------------------
WHERE = "windows: experiments.reg_unscaled.windows"


def _win(i, change):
    def edit(d):
        change(d["experiments"]["reg_unscaled"]["windows"][i])
    return edit


def test_a_window_without_a_field_is_refused(cert_path):
    _rewrite(cert_path, _win(3, lambda w: w.pop("state")))
    _refused(cert_path, rf"{WHERE}\[3\]: missing fields \['state'\]")


def test_a_truncated_state_is_refused(cert_path):
    _rewrite(cert_path, _win(3, lambda w: w.update(state=w["state"][:-8])))  # still base64, 6 bytes short
    _refused(cert_path, rf"{WHERE}\[3\].state: .*truncated")
    _rewrite(cert_path, _win(3, lambda w: w.update(state="not base64!")))
    _refused(cert_path, rf"{WHERE}\[3\].state: not base64")


def test_a_state_of_another_architecture_is_refused(cert_path):
    other = _state(experiments.get("circles_tanh1"), 0, 30)
    _rewrite(cert_path, _win(3, lambda w: w.update(state=windows.encode_state(other))))
    _refused(cert_path, rf"{WHERE}\[3\].state: 168 bytes, expected 4408 .*of another architecture")


def test_a_history_of_the_wrong_length_is_refused(cert_path):
    _rewrite(cert_path, _win(3, lambda w: w["history"].update(loss=windows.encode_series([0.5] * 9))))
    _refused(cert_path, rf"{WHERE}\[3\].history.loss: 9 epochs, expected 10")


def test_a_history_with_other_keys_is_refused(cert_path):
    _rewrite(cert_path, _win(3, lambda w: w["history"].pop("val_loss")))
    _refused(cert_path, rf"{WHERE}\[3\].history: keys \['loss'\], expected \['loss', 'val_loss'\]")


def test_a_bad_chaos_envelope_is_refused(cert_path):
    _rewrite(cert_path, _win(3, lambda w: w.pop("envelope")))
    _refused(cert_path, rf"{WHERE}\[3\]: missing fields \['envelope'\]")


def test_an_envelope_of_the_wrong_length_is_refused(cert_path):
    _rewrite(cert_path, _win(4, lambda w: w["envelope"]["history"].update(loss=windows.encode_series([0.0] * 3))))
    _refused(cert_path, rf"{WHERE}\[4\].envelope.history.loss: 3 epochs, expected 10")


def test_an_envelope_without_the_windows_keys_is_refused(cert_path):
    _rewrite(cert_path, _win(4, lambda w: w["envelope"]["history"].pop("loss")))
    _refused(cert_path, rf"{WHERE}\[4\].envelope: expected the keys \['loss', 'val_loss'\]")


def test_an_envelope_final_only_where_the_window_ends_the_run(cert_path):
    _rewrite(cert_path, _win(9, lambda w: w["envelope"].update(final=None)))
    _refused(cert_path, rf"{WHERE}\[9\].envelope.final: ")


def test_a_checkpoint_outside_the_run_is_refused(cert_path):
    _rewrite(cert_path, _win(3, lambda w: w.update(epoch=95)))
    _refused(cert_path, rf"{WHERE}\[3\].epoch: 95, expected a checkpoint in 0..90")


def test_the_final_metrics_belong_to_the_last_window_only(cert_path):
    _rewrite(cert_path, _win(9, lambda w: w.update(final=None)))
    _refused(cert_path, rf"{WHERE}\[9\].final: missing for the window that ends the run")
    _rewrite(cert_path, _win(9, lambda w: w.update(final={"test_loss": 0.25})))
    _rewrite(cert_path, _win(3, lambda w: w.update(final={"test_loss": 0.25})))
    _refused(cert_path, rf"{WHERE}\[3\].final: present mid-run")


def test_trajectory_windows_must_tile_the_run(cert_path):
    _rewrite(cert_path, lambda d: d["experiments"]["reg_unscaled"]["windows"].pop(14))  # seed 1, checkpoint 40
    _refused(cert_path, r"windows: experiments.reg_unscaled.windows: seed 1's checkpoints .* do not tile")


def test_no_windows_or_a_bad_window_length_is_refused(cert_path):
    _rewrite(cert_path, lambda d: d["experiments"]["reg_unscaled"].update(windows=[]))
    _refused(cert_path, r"experiments.reg_unscaled.windows: missing or empty")
    _rewrite(cert_path, lambda d: d["experiments"]["reg_unscaled"].update(window_epochs=0))
    _refused(cert_path, r"experiments.reg_unscaled.window_epochs: 0, expected a positive integer")


# -- finding ----------------------------------------------------------------------
def test_no_certificate_names_the_command_and_what_is_on_file(cert_path):
    other = {**ENV, "tensorflow": "2.18.1", "fingerprint": "tf2.18.1-keras3.15.1-cpu-x"}
    with pytest.raises(certificate.CertificateError) as info:
        certificate.find(cert_path.parent, other, NAMES)
    msg = str(info.value)
    assert "python -m harness certify" in msg and "--claims-engine keras" in msg
    assert f"{cert_path.name} (tensorflow 2.21.0 vs 2.18.1)" in msg


def test_find_returns_the_verified_certificate(cert_path):
    assert certificate.find(cert_path.parent, ENV, NAMES).path == cert_path
