"""Bad options stop with a usage message before any training."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pytest(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "pytest", "claims", "-q", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("value, message", [("0", "expected a positive integer, got 0"),
                                            ("abc", "expected a positive integer, got 'abc'"),
                                            ("-3", "expected a positive integer, got -3")])
def test_bad_seeds_is_a_usage_error(value, message, tmp_path):
    res = _pytest("--claims-seeds", value, "--claims-store-dir", str(tmp_path / "store"), "--claims-report-dir", str(tmp_path / "r"))
    assert res.returncode == 4, res.stdout + res.stderr  # pytest's usage-error exit code
    assert message in res.stderr
    assert not (tmp_path / "store").exists()  # nothing was trained


def test_unwritable_report_dir_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    res = _pytest("--claims-report-dir", str(blocker / "sub"), "--claims-store-dir", str(tmp_path / "store"))
    assert res.returncode == 4, res.stdout + res.stderr
    assert "--claims-report-dir" in res.stderr and "not writable" in res.stderr
    assert not (tmp_path / "store").exists()


def test_bad_engine_is_a_usage_error(tmp_path):
    res = _pytest("--claims-engine", "jax", "--claims-store-dir", str(tmp_path / "store"))
    assert res.returncode == 4
    assert "invalid choice" in res.stderr


@pytest.mark.parametrize("content, message", [('{"schema": "lesson-claims/summary/1", "cla', "not valid JSON"),
                                              ('{"schema": "someone-else/1"}', "schema 'someone-else/1'")])
def test_bad_baseline_is_a_usage_error(tmp_path, content, message):
    bad = tmp_path / "baseline.json"
    bad.write_text(content)
    res = _pytest(f"--claims-baseline={bad}", "--claims-store-dir", str(tmp_path / "store"), "--claims-report-dir", str(tmp_path / "r"))
    assert res.returncode == 4, res.stdout + res.stderr
    assert f"--claims-baseline: {bad}: " in res.stderr and message in res.stderr
    assert not (tmp_path / "store").exists()


def test_options_are_documented():
    res = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    for opt in ("--claims-seeds", "--claims-report-dir", "--claims-fresh", "--claims-engine", "--claims-store-dir", "--claims-certificate-dir",
                "--claims-baseline", "--claims-history-dir"):
        assert opt in res.stdout


def test_no_certificate_stops_the_run_naming_the_command(tmp_path):
    res = _pytest(f"--claims-certificate-dir={tmp_path / 'certs'}", f"--claims-store-dir={tmp_path / 'store'}",
                  f"--claims-report-dir={tmp_path / 'r'}")
    assert res.returncode == 4, res.stdout + res.stderr
    assert "no engine certificate for this environment" in res.stderr
    assert "python -m harness certify" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "store").exists()  # nothing was trained


def test_truncated_certificate_stops_the_run_naming_the_check(tmp_path):
    from harness.training import environment

    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / f"{environment.describe()['fingerprint']}.json").write_text('{"schema": "lesson-claims/certif')
    res = _pytest(f"--claims-certificate-dir={certs}", f"--claims-store-dir={tmp_path / 'store'}", f"--claims-report-dir={tmp_path / 'r'}")
    assert res.returncode == 4, res.stdout + res.stderr
    assert "JSON: not valid JSON, truncated?" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "store").exists()


def test_removed_equivalence_seeds_option_is_a_usage_error(tmp_path):
    res = _pytest("--equivalence-seeds=2", f"--claims-store-dir={tmp_path / 'store'}")
    assert res.returncode == 4 and "--equivalence-seeds" in res.stderr


def test_harness_tests_need_no_certificate(tmp_path):
    res = subprocess.run([sys.executable, "-m", "pytest", "harness/tests/test_windows.py", "-q",
                          f"--claims-certificate-dir={tmp_path / 'none'}"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_help_imports_no_tensorflow():
    code = ("import sys, pytest; pytest.main(['--help', '-p', 'no:cacheprovider']); "
            "print('TF-IMPORTED' if 'tensorflow' in sys.modules else 'NO-TF')")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "--claims-certificate-dir" in res.stdout and res.stdout.strip().endswith("NO-TF"), res.stdout[-500:]
