"""Transfer (carrying a certificate of one Keras line to another environment of it), on constructed
evidence: the windows sampled; Keras here that agrees with the source is accepted, and a reference
edited at the last window of one configuration, a History that differs only in how the loss is reported
(the Keras 3.0.5 case), a source of the other Keras line or of other code are each refused, named."""
from __future__ import annotations

import copy
import random

import pytest

from harness.certification import certificate, transfer, windows
from harness.tests.test_certificate import ENV, NAMES, _build
from harness.training import experiments

SOURCE_ENV = {**ENV, "tensorflow": "2.20.0", "keras": "3.11.2", "fingerprint": "tf2.20.0-keras3.11.2-cpu-source"}
KERAS2_ENV = {**ENV, "tensorflow": "2.20.0", "keras": "2.20.1", "keras_major": 2, "legacy_keras": True,
              "fingerprint": "tf2.20.0-keras2.20.1-cpu-source"}


def _source(env=SOURCE_ENV, tmp_path=None):
    data = _build(env)
    cert = certificate.Certificate(certificate.path_for(tmp_path or ".", env["fingerprint"]), data)
    if tmp_path is not None:
        certificate.write(data, tmp_path)
    return cert


def _agreeing(sampled):
    """What Keras here returns when it trains exactly as the source did."""
    return [{"history": copy.deepcopy(w["keras"]["history"]), "final": copy.deepcopy(w["keras"]["final"]),
             "init_grad_max_abs": w["keras"]["init_grad_max_abs"]} for w in sampled]


def test_sample_has_first_and_last_window_of_every_trajectory_seed_and_random_others():
    cert = _source()
    for name in NAMES:
        exp = experiments.get(name)
        picked = transfer.sample(cert, name, random.Random(1))
        at = [(w["seed"], w["epoch"]) for w in picked]
        last = windows.checkpoints(exp)[-1]
        for seed in certificate.SEEDS:
            assert (seed, 0) in at and (seed, last) in at
        rest = len(cert.windows(name)) - 2 * len(certificate.SEEDS)
        assert len(at) == len(set(at)) == 2 * len(certificate.SEEDS) + min(transfer.RANDOM_PER_CONFIGURATION, rest)
    many = {tuple((w["seed"], w["epoch"]) for w in transfer.sample(cert, "reg_unscaled", random.Random(d)))
            for d in range(20)}
    assert len(many) > 1  # drawn per transfer, not fixed


def test_keras_here_that_agrees_is_accepted():
    cert = _source()
    for name in NAMES:
        sampled = transfer.sample(cert, name, random.Random(0))
        judged = transfer.judge(name, sampled, _agreeing(sampled))
        assert judged["passed"], judged["detail"]
        assert judged["windows"] == [[w["seed"], w["epoch"]] for w in sampled]


def test_a_reference_edited_at_the_last_window_refuses_the_transfer():
    cert = _source()
    name = "reg_unscaled"
    sampled = transfer.sample(cert, name, random.Random(0))
    here = _agreeing(sampled)
    last = windows.checkpoints(experiments.get(name))[-1]
    i = next(i for i, w in enumerate(sampled) if w["seed"] == 2 and w["epoch"] == last)
    sampled[i]["keras"]["history"]["val_loss"][-1] *= 1.01  # the source's reference, edited
    judged = transfer.judge(name, sampled, here)
    assert not judged["passed"]
    assert f"seed 2, checkpoint epoch {last}, val_loss" in judged["detail"]
    assert judged["failures"][0]["checkpoint"] == last


def test_a_history_that_differs_only_in_how_the_loss_is_reported_refuses_it():
    """Keras 3.0.5 averages the per-batch losses unweighted: the last batch of 20 samples counts as one of 32.
    Training is bit-identical; the History's loss differs by about 0.1-1%: a transfer must not hide it."""
    cert = _source()
    name = "circles_tanh1"
    sampled = transfer.sample(cert, name, random.Random(0))
    here = _agreeing(sampled)
    for h in here:
        h["history"]["loss"] = [v * (1 + 2e-3) for v in h["history"]["loss"]]  # only "loss", every epoch
    judged = transfer.judge(name, sampled, here)
    assert not judged["passed"] and ", loss, epoch " in judged["detail"]
    assert {f["key"] for f in judged["failures"]} == {"loss"}


def test_a_certificate_of_the_other_keras_line_is_never_a_source(tmp_path):
    other = _source(KERAS2_ENV, tmp_path)
    assert "Keras 2 line" in transfer.why_not(other, ENV)
    found, passed = transfer.find_source([tmp_path], ENV)
    assert found is None and any("Keras 2 line" in p for p in passed)
    with pytest.raises(transfer.TransferRefused, match=r"cannot be a transfer source here: of the Keras 2 line"):
        transfer.read_source(certificate.path_for(tmp_path, KERAS2_ENV["fingerprint"]), ENV)


def test_a_source_of_other_code_is_refused(tmp_path):
    data = _build(SOURCE_ENV)
    data["code"]["digest"] = "0" * 64
    data["sha256"] = certificate.checksum(data)
    path = certificate.write(data, tmp_path)
    with pytest.raises(transfer.TransferRefused, match="other code"):
        transfer.read_source(path, ENV)
    assert transfer.find_source([tmp_path], ENV)[0] is None


def test_this_environments_own_or_a_transferred_certificate_is_not_a_source():
    own = _source(ENV)
    assert transfer.why_not(own, ENV) == "this environment's own"
    moved = certificate.Certificate(own.path, {**own.data, "transfer": {"from": "x"}})
    assert "itself transferred" in transfer.why_not(moved, SOURCE_ENV)


def test_the_nearest_tensorflow_of_the_line_is_chosen(tmp_path):
    far = {**SOURCE_ENV, "tensorflow": "2.17.1", "keras": "3.4.1", "fingerprint": "tf2.17.1-keras3.4.1-cpu-far"}
    _source(far, tmp_path)
    _source(SOURCE_ENV, tmp_path)
    _source(KERAS2_ENV, tmp_path)
    found, _ = transfer.find_source([tmp_path], ENV)
    assert found.data["environment"]["fingerprint"] == SOURCE_ENV["fingerprint"]


def test_the_transferred_certificate_loads_here_and_says_where_it_came_from(tmp_path):
    source = _source(SOURCE_ENV, tmp_path)
    judged = [transfer.judge(n, s, _agreeing(s))
              for n, s in ((n, transfer.sample(source, n, random.Random(3))) for n in NAMES)]
    data = transfer.transferred(source, ENV, judged, 3, 1.5, "2026-12-01T00:00:00+00:00")
    data["sha256"] = certificate.checksum(data)
    path = certificate.write(data, tmp_path / "here")
    cert = certificate.load(path, ENV, experiment_names=NAMES)
    t = cert.data["transfer"]
    assert t["from"] == SOURCE_ENV["fingerprint"] and t["from_sha256"] == source.data["sha256"]
    assert t["windows"]["reg_unscaled"] == judged[0]["windows"] and t["draw_seed"] == 3
    assert cert.data["seed_independence"]["inherited_from"] == SOURCE_ENV["fingerprint"]
    assert cert.data["experiments"]["reg_unscaled"]["runs"] == source.data["experiments"]["reg_unscaled"]["runs"]
    with pytest.raises(certificate.CertificateError, match="environment"):  # still this environment's only
        certificate.load(path, SOURCE_ENV, experiment_names=NAMES)


def test_the_report_says_where_the_certificate_came_from(tmp_path):
    from harness.report.engine import certificate_section
    from harness.report.render import section
    from harness.results import as_type
    from harness.results.model import CertificateSummary

    source = _source(SOURCE_ENV, tmp_path)
    judged = [transfer.judge(n, s, _agreeing(s))
              for n, s in ((n, transfer.sample(source, n, random.Random(3))) for n in NAMES)]
    data = transfer.transferred(source, ENV, judged, 3, 12.0, "2026-12-01T00:00:00+00:00")
    moved = as_type(CertificateSummary, certificate.Certificate(tmp_path / "x.json", {**data, "checks": [], "seed_independence": None}).for_results(), "certificate")
    html = section(certificate_section, moved)
    assert "transferred" in html and SOURCE_ENV["fingerprint"] in html and "transferred in 12 s" in html
    assert "certified in full" not in html
    full = as_type(CertificateSummary, certificate.Certificate(
        tmp_path / "y.json", {**source.data, "checks": [], "seed_independence": None, "transfer_refused": "transfer from A refused: loss differs"}).for_results(), "certificate")
    html = section(certificate_section, full)
    assert "certified in full" in html and "loss differs" in html and "transferred" not in html.split("made on")[0]
