"""The sweeps' reduced certificate (harness.certification.sweep_check): refused when it is not this code's, this
environment's, or when it was edited; a point it does not hold is a failed check, never a pass."""
from __future__ import annotations

import json

import pytest

from harness.certification import sweep_check as sc

ENV = "tf0.0.0-keras0.0.0-cpu-00000000"


def _doc(point="depth_relu_02", passed=True):
    exp = sc.sweeps.POINTS[point]
    row = {"experiment": point, "fingerprint": exp.fingerprint, "passed": passed, "windows": 4, "window_epochs": 10,
           "epochs": [0, 400], "seeds": [0, 1], "max_rel_diff": 1e-7, "failures": [], "detail": "d", "seconds": 1.0}
    return sc.build(ENV, [row], 1.0)


def test_a_valid_certificate_loads_and_gives_its_points_rows(tmp_path):
    path = sc.write(_doc(), tmp_path)
    doc = sc.load(tmp_path, ENV)
    row = sc.result(doc, "depth_relu_02", str(path))
    assert row["passed"] and row["level"] == "sweep" and "reduced certificate" in row["detail"]
    missing = sc.result(doc, "depth_relu_03", str(path))  # must say no: no result for this point
    assert not missing["passed"] and "certify --sweep" in missing["detail"]
    assert not sc.result(sc.load(tmp_path, ENV) | {"points": {}}, "depth_relu_02", str(path))["passed"]


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["points"]["depth_relu_02"].update(passed=False), "checksum"),
    (lambda d: d.update(code={**d["code"], "check": "0" * 64}), "checksum"),
])
def test_an_edited_certificate_is_refused(tmp_path, edit, message):
    path = sc.write(_doc(), tmp_path)
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(sc.SweepCertificateError, match=message):
        sc.load(tmp_path, ENV)


def test_another_environment_or_other_code_is_refused_naming_the_command(tmp_path):
    sc.write(_doc(), tmp_path)
    with pytest.raises(sc.SweepCertificateError, match="no reduced certificate"):
        sc.load(tmp_path, "tf9.9.9-keras9.9.9-cpu-11111111")
    doc = _doc()
    doc["code"] = {**doc["code"], "check": "0" * 64}  # a check of other code, resealed
    doc["checksum"] = sc._checksum(doc)
    sc.write(doc, tmp_path)
    with pytest.raises(sc.SweepCertificateError, match="other engine code.*certify --sweep"):
        sc.load(tmp_path, ENV)
    (tmp_path / f"sweep-{ENV}.json").write_text("{torn")
    with pytest.raises(sc.SweepCertificateError, match="unreadable"):
        sc.load(tmp_path, ENV)


def test_the_full_certificate_covers_the_lessons_own_depths():
    assert set(sc.to_certify()).isdisjoint({"depth_relu_05", "depth_relu_15", "depth_relu_20", "depth_tanh_01",
                                            "depth_tanh_05"})
    assert len(sc.to_certify()) == 28
