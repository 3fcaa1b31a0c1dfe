"""Nothing lost, nothing mixed (issue 27): the report folder as one unit, a full disk after the verdicts, links
never followed, a killed commit finished, partial runs marked."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from harness.storage import unit

ROOT = Path(__file__).resolve().parents[2]
ONE = "unscaled_target_nan_immediately"
TWO = "standardized_target_converges"


def _pytest(*args, wait=True):
    cmd = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", f"--claims-store-dir={ROOT / '.store'}", *args]
    if not wait:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def _ids(folder: Path) -> set[str]:
    return {c["id"] for c in json.loads((folder / "results.json").read_text(encoding="utf-8"))["claims"]}


# -- the unit itself, on constructed folders ------------------------------------------------------------------

def test_a_commit_killed_half_way_is_finished_by_the_next_writer(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "results.json").write_text("old results")
    (folder / "index.html").write_text("old page")
    stage = unit.staging(folder)
    (stage / "results.json").write_text("new results")
    (stage / "index.html").write_text("new page")
    moves = [(stage / "results.json", folder / "results.json"), (stage / "index.html", folder / "index.html")]
    # the journal written and the first move done, then the process died
    (folder / unit.JOURNAL).write_text(json.dumps({"staging": str(stage), "moves": [[str(s), str(d)] for s, d in moves]}))
    os.replace(stage / "results.json", folder / "results.json")
    assert (folder / "index.html").read_text() == "old page"  # mixed, for now
    assert unit.recover(folder) == str(stage)
    assert (folder / "results.json").read_text() == "new results" and (folder / "index.html").read_text() == "new page"
    assert not stage.exists() and not (folder / unit.JOURNAL).exists()
    assert unit.recover(folder) is None  # nothing left to finish


def test_a_failed_build_leaves_the_folder_as_it_was(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "index.html").write_text("complete")
    with pytest.raises(OSError):
        with unit.locked(folder):
            stage = unit.staging(folder)
            try:
                raise OSError(28, "No space left on device", str(stage / "results.json"))
            except OSError:
                unit.discard(stage)
                raise
    assert (folder / "index.html").read_text() == "complete"
    assert not list(folder.glob(unit.STAGING_PREFIX + "*"))


def test_a_second_writer_waits_then_says_who_holds_the_folder(tmp_path):
    folder = tmp_path / "r"
    with unit.locked(folder, run="abcdef123"):
        with pytest.raises(unit.FolderBusy, match=rf"{folder}: being written by another run \(pid {os.getpid()}, "
                                                  r"run abcdef12\); waited 0 s"):
            with unit.locked(folder, wait=0.2):
                pass


def test_a_commit_replaces_a_planted_link_instead_of_writing_through_it(tmp_path):
    folder, victim = tmp_path / "r", tmp_path / "victim.txt"
    folder.mkdir()
    victim.write_text("precious")
    (folder / "index.html").symlink_to(victim)
    with unit.locked(folder):
        stage = unit.staging(folder)
        (stage / "index.html").write_text("page")
        unit.commit(folder, stage, [(stage / "index.html", folder / "index.html")])
    assert victim.read_text() == "precious" and not (folder / "index.html").is_symlink()


def test_the_progress_log_is_never_written_through_a_planted_link(tmp_path):
    from harness.pytest_plugin import append_line

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "progress.log").symlink_to(victim)
    with pytest.raises(OSError):
        append_line(tmp_path / "progress.log", "a line\n")
    assert victim.read_text() == "precious"


# -- whole runs ---------------------------------------------------------------------------------------------

def test_two_runs_into_one_folder_leave_one_runs_files(tmp_path):
    folder = tmp_path / "r"
    a = _pytest("-k", ONE, f"--claims-report-dir={folder}", wait=False)
    time.sleep(0.3)
    b = _pytest("-k", TWO, f"--claims-report-dir={folder}", wait=False)
    for p in (a, b):
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, (out + err)[-3000:]
    ids = _ids(folder)
    assert ids in ({ONE}, {TWO})
    page = (folder / "index.html").read_text(encoding="utf-8")
    other = TWO if ids == {ONE} else ONE
    assert f'id="{next(iter(ids))}"' in page and f'id="{other}"' not in page  # the page is of the same run
    summary = json.loads(next((folder / "history").glob("*.json")).read_text(encoding="utf-8"))
    assert {c["id"] for c in summary["claims"]} == ids
    log = (folder / "progress.log").read_text(encoding="utf-8") if (folder / "progress.log").exists() else ""
    assert all(" run " in line for line in log.splitlines())  # each line says which run wrote it
    assert not list(folder.glob(unit.STAGING_PREFIX + "*")) and not (folder / unit.JOURNAL).exists()


def test_a_report_folder_that_is_a_link_is_refused_naming_it(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    out = _pytest("-k", ONE, f"--claims-report-dir={tmp_path / 'link'}")
    assert out.returncode == 4
    assert f"--claims-report-dir {tmp_path / 'link'}: is a link (to {real})" in out.stderr
    assert f"--claims-report-dir={real}" in out.stderr and "Traceback" not in out.stderr
    assert list(real.iterdir()) == []


def _mount_tmpfs(path: Path, size: int) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_a_full_disk_under_the_report_loses_no_verdict_and_no_earlier_report(tmp_path):
    first = tmp_path / "first"
    assert _pytest("-k", ONE, f"--claims-report-dir={first}").returncode == 0
    size = sum(f.stat().st_size for f in first.rglob("*") if f.is_file())
    full = tmp_path / "full"
    if not _mount_tmpfs(full, size + 64 * 1024):
        if os.geteuid() == 0:
            pytest.skip("root, but no tmpfs can be mounted here (and a read-only folder does not stop root)")
        full.mkdir()
        shutil.copytree(first, full, dirs_exist_ok=True)
        full.chmod(0o500)  # read-only for this user: the write fails the same way, after the verdicts
    try:
        if os.geteuid() == 0:
            shutil.copytree(first, full, dirs_exist_ok=True)  # the complete earlier report fits; a second does not
        before = (full / "index.html").read_bytes()
        out = _pytest("-k", ONE, f"--claims-report-dir={full}")
        assert out.returncode == 4, (out.stdout + out.stderr)[-3000:]
        assert f"SUPPORTED         {ONE}" in out.stdout and "1 passed" in out.stdout  # the verdicts, then pytest's
        last = out.stderr.strip().splitlines()[-1]
        assert last.startswith("lesson-claims: the report was not written") and "untouched" in last
        assert "Traceback" not in out.stdout + out.stderr
        assert (full / "index.html").read_bytes() == before  # the earlier report, whole
        assert not list(full.glob(unit.STAGING_PREFIX + "*"))
    finally:
        if os.path.ismount(full):
            subprocess.run(["umount", str(full)], check=False)
        elif full.exists():
            full.chmod(0o700)


def test_a_run_stopped_early_is_marked_and_never_a_baseline(tmp_path):
    # A baseline whose verdicts differ: the first claim fails on drift, -x stops the session before the second.
    base = json.loads((ROOT / "reports" / "baselines" / "tf2.21.0-keras3.15.1-cpu-26c161f2.json").read_text())
    for c in base["claims"]:
        if c["id"] in (ONE, TWO):
            c["verdict"] = "REFUTED"
    (tmp_path / "base.json").write_text(json.dumps(base))
    folder = tmp_path / "r"
    out = _pytest("-x", "-k", f"{ONE} or {TWO}", f"--claims-report-dir={folder}",
                  f"--claims-baseline={tmp_path / 'base.json'}")
    assert out.returncode == 1 and "1 failed" in out.stdout, (out.stdout + out.stderr)[-3000:]
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert results["interrupted"] == "interrupted: 1 of 2 tests"
    assert 'id="interrupted"' in (folder / "index.html").read_text(encoding="utf-8")
    assert "interrupted: 1 of 2 tests: the report says so" in out.stdout
    summary = next((folder / "history").glob("*.json"))
    again = _pytest("-k", ONE, f"--claims-report-dir={tmp_path / 'r2'}", f"--claims-baseline={summary}")
    assert again.returncode == 4 and "a partial run (interrupted: 1 of 2 tests)" in again.stderr


def test_a_certificate_edited_with_its_checksum_recomputed_is_named_and_blamed(tmp_path):
    from harness.certification import certificate, packed
    from harness.training import records

    shipped = next((ROOT / "reports" / "certificates").glob("*.npz"))
    doc = packed.unpack(shipped.read_bytes())
    window = doc["experiments"]["reg_target_standard"]["windows"][0]
    loss = certificate.decode_series(window["history"]["loss"])
    loss[5] = float(np.float32(loss[5] * 1.01))  # one Keras reference value, 1% off: far beyond the tolerance
    window["history"]["loss"] = certificate.encode_series(loss)
    doc["sha256"] = certificate.checksum(doc)  # the edit hides from the checksum
    certs = tmp_path / "certs"
    certs.mkdir()
    path = certificate.path_for(certs, doc["environment"]["fingerprint"])
    path.write_text(records.dumps(doc), encoding="utf-8")
    out = _pytest("-k", TWO, f"--claims-report-dir={tmp_path / 'r'}", f"--claims-certificate-dir={certs}")
    text = out.stdout + out.stderr
    # the session stops (pytest's "interrupted" status): nothing decided by an engine the certificate refused
    assert out.returncode in (1, 2) and "1 failed" in out.stdout, (out.returncode, text[-3000:])
    assert f"the Keras references of the certificate {path}" in text
    assert "the evidence points to" in text and f"rm {path} && python -m harness certify" in text
    assert "Traceback" not in text and "raise " not in text and "During handling" not in text


def test_ctrl_c_in_the_second_claims_training_marks_a_partial_report(tmp_path):
    import signal

    folder, store_dir = tmp_path / "r", tmp_path / "store"  # an empty store: each claim trains for seconds
    cmd = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", f"--claims-store-dir={store_dir}",
           f"--claims-report-dir={folder}", "-k", f"{ONE} or {TWO}"]
    # SIGINT's default action back: a child of an xdist worker inherits "ignore SIGINT" from it
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))
    log, deadline = folder / "progress.log", time.time() + 300
    while time.time() < deadline and p.poll() is None:  # SIGINT once the second claim has started training
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        if sum(": training " in line for line in lines) >= 2:
            p.send_signal(signal.SIGINT)
            break
        time.sleep(0.05)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 2, (out + err)[-3000:]  # pytest's "interrupted"
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert results["interrupted"] == "interrupted: 1 of 2 tests" and len(results["claims"]) == 1
    assert "INTERRUPTED: 1 OF 2 TESTS" in (folder / "index.html").read_text(encoding="utf-8")
    assert not list(folder.glob(unit.STAGING_PREFIX + "*")) and not (folder / unit.JOURNAL).exists()
