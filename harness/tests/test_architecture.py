"""The architecture's contracts (pyproject.toml, [tool.importlinter]) hold, and the checker can fail."""
from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _lint(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    return subprocess.run([exe, "--no-cache", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept():
    out = _lint()
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert len(contracts) >= 6  # TF twice, pytest, the layers, maintainer tools apart, plain specs
    assert f"Contracts: {len(contracts)} kept, 0 broken" in out.stdout


def test_a_broken_contract_is_reported(tmp_path):
    # The engine imports TensorFlow: a contract forbidding it must break, naming the import.
    config = tmp_path / "contracts.ini"
    config.write_text("[importlinter]\nroot_packages =\n    harness\ninclude_external_packages = True\n"
                      "[importlinter:contract:engine]\nname = engine without tensorflow\ntype = forbidden\n"
                      "source_modules =\n    harness.training.engines.batched\nforbidden_modules =\n    tensorflow\n",
                      encoding="utf-8")
    out = _lint("--config", str(config))
    assert out.returncode != 0 and "BROKEN" in out.stdout and "harness.training.engines.batched -> tensorflow" in out.stdout


def test_no_import_circle():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("harness", "claims")
    modules = sorted(m for m in graph.modules if not m.startswith("harness.tests"))
    circles = [(a, b) for a, b in itertools.combinations(modules, 2)
               if graph.chain_exists(importer=a, imported=b) and graph.chain_exists(importer=b, imported=a)]
    assert circles == []


def test_the_claims_come_without_pytest_or_tensorflow():
    code = ("import sys; from harness import all_claims; n = len(all_claims()); "
            "print(n, 'pytest' in sys.modules, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    n, has_pytest, has_tf = out.stdout.split()
    assert int(n) >= 20 and has_pytest == "False" and has_tf == "False"


def test_a_session_of_the_harness_tests_writes_no_report_folder(tmp_path):
    report = tmp_path / "reports"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
                          f"{Path(__file__)}::test_no_import_circle", f"--claims-report-dir={report}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert not report.exists()


def test_importing_the_report_leaves_matplotlib_global_state_alone():
    # A notebook that imports the report keeps its own backend: figures are plain Figure objects.
    code = ("import matplotlib; matplotlib.use('svg'); import harness.report, harness.report.figures; "
            "import sys; print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["svg", "False"]
