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
def test_bad_seeds_is_a_usage_error(value, message, pytester):
    res = pytester.runpytest_inprocess("--claims-seeds", value, "--claims-store-dir", "store")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert message in res.stderr.str()
    assert not (pytester.path / "store").exists()  # nothing was trained


def test_unwritable_report_dir_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    res = _pytest("--claims-report-dir", str(blocker / "sub"), "--claims-store-dir", str(tmp_path / "store"))
    assert res.returncode == 4, res.stdout + res.stderr
    assert "--claims-report-dir" in res.stderr and "not writable" in res.stderr
    assert not (tmp_path / "store").exists()


def test_bad_engine_is_a_usage_error(pytester):
    res = pytester.runpytest_inprocess("--claims-engine", "jax")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert "invalid choice" in res.stderr.str()


def test_the_cache_provider_is_on_so_last_failed_works(pytester):
    """A run remembers its failures: --lf reruns only them (pytest's cache provider is not switched off)."""
    pytester.makepyfile(test_a="def test_ok():\n    pass\n\ndef test_bad():\n    assert False\n")
    pytester.runpytest_inprocess("-p", "no:xdist").assert_outcomes(passed=1, failed=1)
    again = pytester.runpytest_inprocess("-p", "no:xdist", "--lf").parseoutcomes()
    assert again.get("failed") == 1 and "passed" not in again, again


def test_auto_workers_leave_the_environment_variable_to_xdist(monkeypatch):
    """PYTEST_XDIST_AUTO_NUM_WORKERS is the user's: the plugin does not answer for -n auto then."""
    from harness import pytest_plugin

    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "3")
    assert pytest_plugin.pytest_xdist_auto_num_workers(None) is None
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS")
    assert pytest_plugin.pytest_xdist_auto_num_workers(None) >= 1


def test_deprecation_warnings_are_shown_not_ignored(pytester):
    """TensorFlow's and Keras' deprecation warnings announce the next release's breakage: the project's
    configuration shows them in the warnings summary."""
    import tomllib

    filters = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["filterwarnings"]
    assert not any(f.startswith("ignore") and "Deprecation" in f for f in filters)
    pytester.makeini("[pytest]\nfilterwarnings =\n    " + "\n    ".join(filters) + "\n")
    pytester.makepyfile(test_w="import warnings\n\ndef test_w():\n    warnings.warn('old', DeprecationWarning)\n")
    res = pytester.runpytest_inprocess("-p", "no:xdist")
    res.assert_outcomes(passed=1)
    assert "DeprecationWarning: old" in res.stdout.str()


def test_settings_are_resolved_once_and_not_written_back(pytester):
    """The profile's values live in the stashed settings; the options keep what the user gave (None here)."""
    from harness import pytest_plugin

    config = pytester.parseconfigure("--claims-profile=thorough", "-p", "no:xdist")
    settings = config.stash[pytest_plugin.SETTINGS]
    assert (settings.profile, settings.seeds) == ("thorough", 100)
    assert config.getoption("claims_seeds") is None and config.getoption("claims_max_seeds") is None


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


def test_the_readmes_options_table_is_the_options_table():
    """The README's table names every pytest option of harness.options, with its default (the profile's for
    the seed counts), and no other."""
    import re

    from harness import options, settings

    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("## Options"):readme.index("## Without pytest")]
    rows = dict(re.findall(r"^\| `--claims-([a-z-]+)[^`]*` \|\s*([^|]*?)\s*\|", block, flags=re.M))
    assert set(rows) == {o.flag for o in options.PYTEST}
    profile = settings.Settings()
    resolved = {"seeds": profile.seeds, "max-seeds": profile.design().looks[-1]}
    for o in options.PYTEST:
        default = resolved.get(o.flag, o.default)
        shown = rows[o.flag].strip().strip("`")
        if default is None or o.action:
            assert shown in ("", "none") or shown.startswith("<"), (o.flag, shown)
        else:
            assert shown == str(default), (o.flag, shown, default)
