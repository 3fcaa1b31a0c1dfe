"""The plugin loads wherever pytest's rootdir lands: through the package's pytest11 entry point, and from the
repository's conftest.py for an uninstalled checkout, never twice (issue 27)."""
from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_entry_point_names_the_plugin_module():
    eps = [ep for ep in entry_points(group="pytest11") if ep.value == "harness.pytest_plugin"]
    assert eps and eps[0].name == "harness.pytest_plugin"  # the conftest's pytest_plugins then finds it loaded


def _run(args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-k", "unscaled_target_nan_immediately", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


def test_a_report_dir_outside_the_checkout_in_the_space_form(tmp_path):
    # Not existing yet: the workers know the option (the entry point), the run decides the claim and writes there.
    target = tmp_path / "r"
    out = _run(["-n", "1", "--claims-report-dir", str(target)])
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-3000:]
    assert "unrecognized arguments" not in text and "maximum crashed workers" not in text
    assert "1 passed" in text and (target / "index.html").is_file() and (target / "results.json").is_file()
    # Existing: pytest has taken it for a test path and rooted itself elsewhere before any plugin option was
    # known; the run stops before any work, naming the option and the `=` form, in the controller and with xdist.
    for extra in (["-n", "1"], ["-p", "no:xdist"]):
        out = _run([*extra, "--claims-report-dir", str(target)])
        text = out.stdout + out.stderr
        assert out.returncode == 4, text[-3000:]
        assert f"--claims-report-dir {target}: written with a space" in text
        assert f"write --claims-report-dir={target}" in text and "Traceback" not in text
    out = _run(["-p", "no:xdist", f"--claims-report-dir={target}"])  # the = form, as the README writes it
    assert out.returncode == 0 and "1 passed" in out.stdout
