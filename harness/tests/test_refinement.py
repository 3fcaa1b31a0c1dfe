"""Refinement (:data:`harness.certification.windows.REFINEMENT`): a window that agrees with Keras at
its first epoch and parts later is settled only by one-epoch windows from Keras' own states, each
checked like any window.  On a self-certificate of one cheap configuration (the batched engine
against itself, :mod:`harness.tests.selfcert`), with its "Keras" side edited to make a window part."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from harness.certification import certificate, certify, windows
from harness.tests import selfcert
from harness.training import experiments

NAME = selfcert.CHEAP  # 100 epochs, windows of 10: 42 windows, of which 5% is 2.1
EXP = experiments.get(NAME)


@pytest.fixture(scope="module")
def base():
    from harness.training import devices

    devices.configure()
    return selfcert.build((NAME,))


@pytest.fixture(scope="module")
def subs():
    """One-epoch windows of seed 0's windows at epochs 50, 60 and 70, from the engine's own states."""
    return {c: selfcert.refined_windows(EXP, 0, c) for c in (50, 60, 70)}


def _edit_keras(data, seed, checkpoint, at, factor=1.01, refined=False):
    """Scale the stored Keras loss of a window (or of its refined window starting at ``at``)."""
    entry = data["experiments"][NAME]
    for win in entry["refined" if refined else "windows"]:
        if win["seed"] == seed and win["epoch"] == (at if refined else checkpoint):
            i = 0 if refined else at - checkpoint
            loss = windows.decode_series(win["history"]["loss"],
                                         windows.REFINED_EPOCHS if refined else windows.window_epochs(NAME))
            loss[i] *= factor
            win["history"]["loss"] = windows.encode_series(loss)
            return
    raise AssertionError("no such window")


def _cert(base, *, parted=(), first_epoch=(), refined=(), edit_refined=None):
    data = copy.deepcopy(base)
    for c in parted:  # the 6th epoch of the window: after its first
        _edit_keras(data, 0, c, c + 5)
    for c in first_epoch:
        _edit_keras(data, 0, c, c)
    cert = certificate.Certificate(Path("refinement-test.json"), data)
    for c, rows in refined:
        cert.add_refined(NAME, copy.deepcopy(rows))
    if edit_refined is not None:
        _edit_keras(data, 0, None, edit_refined, refined=True)
        cert._windows.clear()
    return cert


def test_refinable_means_parted_after_the_first_epoch():
    late = {"seed": 0, "checkpoint": 50, "key": "loss", "epoch": 56}
    first = {**late, "epoch": 51}
    final = {**late, "key": "final test_loss", "epoch": None}
    grad = {**late, "key": "init_grad_max_abs", "epoch": None}
    assert windows.refinable([late], 50) and windows.refinable([late, final], 50)
    assert not windows.refinable([], 50)
    assert not windows.refinable([late, first], 50) and not windows.refinable([grad], 50)


def test_a_window_parted_after_its_first_epoch_asks_to_be_refined(base):
    result = windows.check(_cert(base, parted=(50,)), NAME)
    assert not result["passed"] and result["to_refine"] == [(0, 50)] and result["refined_windows"] == 0
    assert result["epoch"] == 56 and "checkpoint epoch 50" in result["detail"]


def test_its_refined_windows_settle_it_when_every_one_agrees(base, subs):
    result = windows.check(_cert(base, parted=(50,), refined=[(50, subs[50])]), NAME)
    assert result["passed"], result["detail"]
    assert result["refined_windows"] == 1 and result["refined"][0]["epoch"] == 56
    assert "refined into 1-epoch windows" in result["detail"] and "every one of which agrees" in result["detail"]
    assert result["max_rel_diff"] > 5e-3  # the window's own divergence stays on record


def test_a_refined_window_that_disagrees_fails_the_check(base, subs):
    result = windows.check(_cert(base, parted=(50,), refined=[(50, subs[50])], edit_refined=55), NAME)
    assert not result["passed"] and result["checkpoint"] == 55 and result["epoch"] == 56, result["detail"]
    assert "which failed" in result["detail"]


def test_refined_windows_count_even_where_their_window_agrees(base, subs):
    result = windows.check(_cert(base, refined=[(60, subs[60])], edit_refined=63), NAME)
    assert not result["passed"] and result["checkpoint"] == 63


def test_a_first_epoch_difference_is_never_refined(base, subs):
    result = windows.check(_cert(base, first_epoch=(50,)), NAME)
    assert not result["passed"] and result["to_refine"] == []
    result = windows.check(_cert(base, first_epoch=(50,), refined=[(50, subs[50])]), NAME)
    assert not result["passed"] and result["epoch"] == 51 and result["refined_windows"] == 0


def test_more_parted_windows_than_chance_explains_are_not_settled(base, subs):
    assert 3 > windows.MAX_REFINED_SHARE * 42 >= 2
    cert = _cert(base, parted=(50, 60, 70))
    result = windows.check(cert, NAME)
    assert not result["passed"] and result["to_refine"] == [] and "not refined" in result["detail"]
    refined = [(c, subs[c]) for c in (50, 60, 70)]
    result = windows.check(_cert(base, parted=(50, 60, 70), refined=refined), NAME)
    assert not result["passed"] and "cannot settle it" in result["detail"]
    result = windows.check(_cert(base, parted=(50, 60), refined=refined[:2]), NAME)
    assert result["passed"] and result["refined_windows"] == 2, result["detail"]


def test_repair_refines_a_failed_certificate_on_file_and_writes_it_again(base, subs, tmp_path, monkeypatch):
    data = copy.deepcopy(base)
    _edit_keras(data, 0, 50, 55)
    data["checks"] = [windows.check(certificate.Certificate(tmp_path / "x.json", data), NAME)]
    data["sha256"] = certificate.checksum(data)
    path = certificate.write(data, tmp_path)
    monkeypatch.setattr(certify.references, "refined_windows",
                        lambda exp, parent: copy.deepcopy(subs[parent["epoch"]]))
    have = certificate.Certificate(path, certificate.records.loads(path.read_text()))
    assert certify.repair(have) == 0
    again = certificate.records.loads(path.read_text())
    assert again["sha256"] == certificate.checksum(again) and again["checks"][0]["passed"]
    assert again["plan"]["windows"]["refinement"] == windows.REFINEMENT
    assert len(again["experiments"][NAME]["refined"]) == 10
    assert certify.repair(certificate.Certificate(path, again)) is None  # nothing left to do


def test_refined_windows_must_name_a_window_and_tile_it(base, subs):
    data = copy.deepcopy(base)
    data["experiments"][NAME]["refined"] = copy.deepcopy(subs[50][:9])
    with pytest.raises(certificate.CertificateError, match=r"refined windows of seed 0's window at epoch 50 start"):
        certificate.Certificate(Path("c.json"), data).refined(NAME)
    data["experiments"][NAME]["refined"] = copy.deepcopy(subs[50])
    data["experiments"][NAME]["refined"][0]["parent"] = [0, 55]
    with pytest.raises(certificate.CertificateError, match=r"refined\[0\]\.parent: \[0, 55\]"):
        certificate.Certificate(Path("c.json"), data).refined(NAME)
    data["experiments"][NAME]["refined"] = copy.deepcopy(subs[50])
    data["experiments"][NAME]["refined"][3]["history"]["loss"] = windows.encode_series([0.1, 0.2])
    with pytest.raises(certificate.CertificateError, match=r"refined\[3\]\.history\.loss: 2 epochs, expected 1"):
        certificate.Certificate(Path("c.json"), data).refined(NAME)


def test_keras_restarted_epoch_by_epoch_reproduces_its_window_or_nothing_is_refined():
    from harness.certification import references
    from harness.training import devices
    from harness.training.engines import keras_engine

    devices.configure()
    run = keras_engine.train_one(EXP, 0, snapshots=(50,))
    steps = -(-500 // EXP.batch_size)
    state = windows.decode_state(windows.encode_state(run.extra["states"][50]), EXP, 50, steps)
    keras = {"history": {k: v[50:60] for k, v in run.history.items()}, "final": None, "init_grad_max_abs": None}
    parent = {"seed": 0, "epoch": 50, "state": state, "keras": keras, "envelope": None}
    rows = references.refined_windows(EXP, parent)
    assert [r["epoch"] for r in rows] == list(range(50, 60)) and all(r["parent"] == [0, 50] for r in rows)
    got = [windows.decode_series(r["history"]["loss"], 1)[0] for r in rows]
    assert max(abs(a - b) / abs(b) for a, b in zip(got, keras["history"]["loss"])) < windows.RTOL
    keras["history"]["loss"] = [*keras["history"]["loss"][:4], keras["history"]["loss"][4] * 1.01,
                                *keras["history"]["loss"][5:]]
    with pytest.raises(RuntimeError, match="does not reproduce its own window at seed 0, checkpoint epoch 50, "
                                           "loss, epoch 55"):
        references.refined_windows(EXP, parent)
