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
    # Not existing yet, with xdist workers; then existing (pytest would take it for a test path and move its
    # rootdir there if the option were unknown when it looks), in the controller alone.
    target = tmp_path / "r"
    for extra in (["-n", "1"], ["-p", "no:xdist"]):
        out = _run([*extra, "--claims-report-dir", str(target), "--claims-store-dir", str(ROOT / ".store")])
        text = out.stdout + out.stderr
        assert out.returncode == 0, text[-3000:]
        assert "unrecognized arguments" not in text and "maximum crashed workers" not in text
        assert "1 passed" in text  # the claim ran: its rootdir, config and claims were the checkout's
        assert (target / "index.html").is_file() and (target / "results.json").is_file()
