"""Certificates: a valid one round-trips; a truncated, edited, foreign, other-code
or other-environment one is refused with the check it failed, and never used."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from harness import certificate, experiments, records
from harness.records import RunRecord

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


@pytest.fixture
def cert_path(tmp_path):
    refs = {n: [_run(n, s) for s in certificate.SEEDS] for n in NAMES}
    cert = certificate.build(ENV, refs, checks=[{"passed": True}], plan={"tests": 1}, seed_independence={},
                             cost={"keras_core_seconds": 1.0}, created="2026-11-27T00:00:00+00:00")
    return certificate.write(cert, tmp_path)


def _load(path, env=ENV):
    return certificate.load(path, env, experiment_names=NAMES)


def _rewrite(path, change):
    data = records.loads(path.read_text())
    change(data)
    data["sha256"] = certificate.checksum(data)  # a consistent forgery: only the content check can catch it
    path.write_text(records.dumps(data))


def test_a_valid_certificate_round_trips_runs_exactly(cert_path):
    assert cert_path.name == f"{ENV['fingerprint']}.json"
    cert = _load(cert_path)
    runs = cert.runs("circles_tanh1")
    assert [r.seed for r in runs] == list(certificate.SEEDS)
    r = runs[3]
    assert r.history["accuracy"] == [0.5, 0.625, 0.75] and r.metrics["test_loss"] == pytest.approx(0.3)
    loss = cert.runs("reg_unscaled")[0].history["loss"]
    assert loss[0] == 1.5 and math.isnan(loss[1]) and loss[2] == math.inf
    assert math.isnan(r.metrics["train_loss"])


def test_series_encoding_is_lossless_for_float32_and_refuses_others():
    values = [float(np.float32(0.1)), -2.5, math.nan, -math.inf]  # float32 0.1 as a double
    out = certificate.decode_series(certificate.encode_series(values))
    assert out[0] == values[0] and out[1] == -2.5 and math.isnan(out[2]) and out[3] == -math.inf
    with pytest.raises(ValueError, match="float32"):
        certificate.encode_series([0.1])  # a double that float32 would round


def test_truncated_certificate_is_refused(cert_path):
    text = cert_path.read_text()
    cert_path.write_text(text[: len(text) // 2])
    with pytest.raises(certificate.CertificateError, match=r"JSON: not valid JSON, truncated"):
        _load(cert_path)


def test_edited_certificate_fails_its_checksum(cert_path):
    data = json.loads(cert_path.read_text())
    data["experiments"]["reg_unscaled"]["runs"][0]["metrics"]["test_loss"] = 0.001
    cert_path.write_text(json.dumps(data))
    with pytest.raises(certificate.CertificateError, match="checksum"):
        _load(cert_path)


def test_foreign_file_fails_the_schema_check(cert_path):
    cert_path.write_text('{"schema": "lesson-claims/summary/1", "claims": []}')
    with pytest.raises(certificate.CertificateError, match="schema: expected 'lesson-claims/certificate/1'"):
        _load(cert_path)
    cert_path.write_text("[1, 2]")
    with pytest.raises(certificate.CertificateError, match="schema"):
        _load(cert_path)


def test_another_environment_is_refused_naming_the_field(cert_path):
    with pytest.raises(certificate.CertificateError,
                       match=r"environment: .*tensorflow: certificate '2.21.0', here '2.15.1'"):
        _load(cert_path, {**ENV, "tensorflow": "2.15.1"})


def test_other_code_is_refused_naming_the_files(cert_path):
    _rewrite(cert_path, lambda d: (d["code"].update(digest="0" * 64),
                                   d["code"]["files"].update({"engines/keras_engine.py": "0" * 64})))
    with pytest.raises(certificate.CertificateError, match=r"code: certifies other code: harness/engines/keras_engine.py"):
        _load(cert_path)


def test_changed_experiment_or_data_is_refused(cert_path, tmp_path):
    _rewrite(cert_path, lambda d: d["experiments"]["reg_unscaled"].update(fingerprint="ffff"))
    with pytest.raises(certificate.CertificateError, match="experiments: reg_unscaled: fingerprint ffff"):
        _load(cert_path)
    _rewrite(cert_path, lambda d: d["experiments"]["reg_unscaled"].update(
        fingerprint=experiments.get("reg_unscaled").fingerprint, data_digest="0" * 64))
    with pytest.raises(certificate.CertificateError, match="data: reg_unscaled"):
        _load(cert_path)


def test_missing_configuration_is_refused(cert_path):
    with pytest.raises(certificate.CertificateError, match="no references for circles_relu5"):
        certificate.load(cert_path, ENV, experiment_names=NAMES + ["circles_relu5"])


def test_no_certificate_names_the_command_and_what_is_on_file(cert_path):
    other = {**ENV, "tensorflow": "2.18.1", "fingerprint": "tf2.18.1-keras3.15.1-cpu-x"}
    with pytest.raises(certificate.CertificateError) as info:
        certificate.find(cert_path.parent, other, NAMES)
    msg = str(info.value)
    assert "python -m harness certify" in msg and "--engine keras" in msg
    assert f"{cert_path.name} (tensorflow 2.21.0 vs 2.18.1)" in msg


def test_find_returns_the_verified_certificate(cert_path):
    assert certificate.find(cert_path.parent, ENV, NAMES).path == cert_path
