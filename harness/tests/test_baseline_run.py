"""--claims-baseline end to end: a real claims run against its own summary passes, and
against a summary whose metric was shifted (or whose verdict differs) fails
that claim with a message naming claim, metric, both medians and the p-value."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.training import records

ROOT = Path(__file__).resolve().parents[2]
CLAIM = "unscaled_target_nan_immediately"  # reg_unscaled, 100 epochs: the cheapest claim to train
SEEDS = 8  # 8 vs 8 seeds: the smallest two-sided Mann-Whitney p is 1.6e-4, below alpha 0.01


def _certified() -> bool:
    from harness.certification import certificate
    from harness.training import environment

    try:
        certificate.find(ROOT / certificate.DEFAULT_DIR, environment.describe())
    except certificate.CertificateError:
        return False
    return True


# A claims run with the batched engine needs this environment's certificate (the README's first line
# makes it: `python -m harness certify --if-missing`).
pytestmark = pytest.mark.skipif(not _certified(), reason="no engine certificate for this environment")


def _run(tmp_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "claims", "-q", "-p", "no:xdist", "-k", CLAIM, f"--claims-seeds={SEEDS}",
         f"--claims-store-dir={tmp_path / 'store'}", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("baseline")
    res = _run(tmp, f"--claims-report-dir={tmp / 'r1'}")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (summary,) = (tmp / "r1" / "history").glob("*.json")
    return tmp, summary


def test_same_run_as_baseline_passes(first_run):
    tmp, summary = first_run
    res = _run(tmp, f"--claims-report-dir={tmp / 'r2'}", f"--claims-baseline={summary}")
    assert res.returncode == 0, res.stdout[-3000:]
    results = records.loads((tmp / "r2" / "results.json").read_text())
    assert [d["drifted"] for d in results["drift"]] == [False]


def _edited(tmp, summary, name, edit):
    data = records.loads(summary.read_text())
    (claim,) = [c for c in data["claims"] if c["id"] == CLAIM]
    edit(claim)
    path = tmp / name
    path.write_text(records.dumps(data))
    return path


def test_shifted_baseline_fails_the_claim(first_run):
    tmp, summary = first_run

    def shift(claim):  # the baseline went NaN at epochs 40-47 instead of within the first few
        claim["metric_samples"]["reg_unscaled"] = [40.0 + i for i in range(SEEDS)]

    res = _run(tmp, f"--claims-report-dir={tmp / 'r3'}", f"--claims-baseline={_edited(tmp, summary, 'shifted.json', shift)}")
    assert res.returncode == 1
    assert "regression against baseline" in res.stdout
    assert f"{CLAIM} [reg_unscaled] first non-finite epoch: median 43.5 (baseline, n={SEEDS})" in res.stdout
    assert "Mann-Whitney p=" in res.stdout


def test_changed_verdict_fails_the_claim(first_run):
    tmp, summary = first_run

    def flip(claim):
        claim["verdict"] = "REFUTED"

    res = _run(tmp, f"--claims-report-dir={tmp / 'r4'}", f"--claims-baseline={_edited(tmp, summary, 'flipped.json', flip)}")
    assert res.returncode == 1
    assert "verdict changed REFUTED -> SUPPORTED" in res.stdout
