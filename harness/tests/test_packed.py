"""The packed certificate (``.npz``): the same document after a round trip, loaded and verified like the
JSON one; a truncated, corrupted or edited packed file is refused naming the file, the check and the
command that remakes it.  And the shipped certificate itself: at most 4 MiB, for this code."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from harness import lockfiles
from harness.certification import certificate, packed
from harness.certification.certify import SHIP_LIMIT
from harness.tests.test_certificate import ENV, NAMES, built  # noqa: F401 - built: the shared fixture
from harness.training import provenance, records


@pytest.fixture
def shipped(tmp_path, built):
    return certificate.write_shipped(built, tmp_path)


def test_round_trip_is_the_same_document(built, shipped):
    assert shipped.name.endswith(".npz")
    assert records.loads(certificate.read_text(shipped)) == built
    cert = certificate.load(shipped, ENV, experiment_names=NAMES)  # every check of a JSON certificate
    assert cert.data["sha256"] == built["sha256"]
    assert certificate.on_file(shipped.parent, ENV["fingerprint"]) == shipped


def test_smaller_than_the_json(built, tmp_path, shipped):
    as_json = certificate.write(built, tmp_path / "json")
    assert shipped.stat().st_size < as_json.stat().st_size


def test_shuffle_is_lossless_on_awkward_floats():
    rows = np.array([[0.0, -0.0, np.nan, np.inf], [1e-38, -np.inf, 3.5, np.float32(1) / 3]], "<f4")
    back = packed._unshuffle(packed._shuffle(rows), *rows.shape)
    assert back.tobytes() == rows.tobytes()


def test_a_truncated_file_is_refused_with_the_remake_command(shipped):
    shipped.write_bytes(shipped.read_bytes()[:-200])
    with pytest.raises(certificate.CertificateError) as err:
        certificate.load(shipped, ENV, experiment_names=NAMES)
    msg = str(err.value)
    assert str(shipped) in msg and "packed file" in msg and "python -m harness certify --ship" in msg


def _replace_array(path, name_prefix, change):
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    key = next(k for k in arrays if k.startswith(name_prefix))
    arrays[key] = change(arrays[key])
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path.write_bytes(buf.getvalue())


def test_an_edited_state_fails_the_checksum(shipped):
    import lzma

    def flip(arr):  # one byte of the states changed, the block re-compressed: a consistent edit of the array
        raw = bytearray(lzma.decompress(arr.tobytes()))
        raw[len(raw) // 2] ^= 0x01
        return np.frombuffer(lzma.compress(bytes(raw)), np.uint8)

    _replace_array(shipped, "states_", flip)
    with pytest.raises(certificate.CertificateError, match=r"checksum: .*certify --ship"):
        certificate.load(shipped, ENV, experiment_names=NAMES)


def test_an_edited_skeleton_fails_the_checksum(shipped):
    def edit(arr):
        head = json.loads(arr.tobytes())
        head["doc"]["created"] = "2020-01-01T00:00:00+00:00"
        return np.frombuffer(json.dumps(head).encode(), np.uint8)

    _replace_array(shipped, "skeleton", edit)
    with pytest.raises(certificate.CertificateError, match="checksum"):
        certificate.load(shipped, ENV, experiment_names=NAMES)


def test_a_placeholder_that_points_nowhere_is_refused(shipped):
    def edit(arr):
        text = arr.tobytes().decode().replace('{"$state":[', '{"$state":[7,', 1)
        return np.frombuffer(text.encode(), np.uint8)

    _replace_array(shipped, "skeleton", edit)
    with pytest.raises(certificate.CertificateError, match="packed file"):
        certificate.load(shipped, ENV, experiment_names=NAMES)


def test_not_a_zip_is_refused(tmp_path):
    path = tmp_path / f"{ENV['fingerprint']}.npz"
    path.write_bytes(b"not a zip file")
    with pytest.raises(certificate.CertificateError, match="packed file"):
        certificate.load(path, ENV, experiment_names=NAMES)
    assert not zipfile.is_zipfile(path)


def _shipped_files():
    return sorted((lockfiles.ROOT / certificate.DEFAULT_DIR).glob(f"*{packed.SUFFIX}"))


def test_the_shipped_certificate_fits_and_is_for_this_code():
    files = _shipped_files()
    assert len(files) == 1, f"expected the default cell's shipped certificate, found {files}"
    path = files[0]
    assert path.stat().st_size <= SHIP_LIMIT
    cert = certificate.read_for_comparison(path)  # checksum verified
    d = cert.data
    assert d["environment"]["fingerprint"] == path.name[: -len(packed.SUFFIX)]
    assert d["suite_version"] == provenance.__version__
    assert d["code"]["digest"] == provenance.code_digest("keras"), (
        f"{path} certifies other code: the engine changed since it was made; remake it with "
        "`python -m harness certify --ship` in the locked environment and commit it")
    assert all(c.get("passed") for c in d["checks"]) and "transfer" not in d
    locked = lockfiles.check().pins
    env = d["environment"]
    assert env["tensorflow"] == locked["tensorflow-cpu"] and env["numpy"] == locked["numpy"]
    assert env["scikit_learn"] == locked["scikit-learn"] and env["keras"] == locked["keras"]
