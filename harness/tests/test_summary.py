"""``python -m harness summary``: the verdict table as GitHub Markdown (harness.report.markdown), on the
committed results of real runs (data/results-trimmed.json.gz, data/results-schema1.json), and refusing bad
input with one line naming the file, exit status 2, before anything is written."""
from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import results as res
from harness.__main__ import main
from harness.spec import Verdict
from harness.report import counts_text
from harness.report import markdown as md
from harness.tests.test_report import trimmed_results

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_1 = Path(__file__).parent / "data" / "results-schema1.json"


@pytest.fixture(scope="module")
def real() -> res.Results:
    return trimmed_results()[0]


@pytest.fixture
def results_file(tmp_path, real) -> Path:
    path = tmp_path / "results.json"
    path.write_text(res.encode(real), encoding="utf-8")
    return path


def cells_of(row: str) -> list[str]:
    """A GFM table row's cells (an escaped ``\\|`` stays inside its cell)."""
    assert row.startswith("| ") and row.endswith(" |"), row
    return [c.strip() for c in re.split(r"(?<!\\)\|", row[1:-1])]


def table(text: str) -> list[list[str]]:
    rows = [ln for ln in text.splitlines() if ln.startswith("| ")]
    return [cells_of(r) for r in rows[1:]]  # without the header


# ------------------------------------------------------------------ the table


def test_one_row_per_test_with_every_column(real):
    text = md.summary_markdown(real)
    rows = table(text)
    assert [r[0].split()[0].strip("`") for r in rows] == [c.id for c in real.claims]
    assert all(len(r) == len(md.HEADER) for r in rows), rows
    assert "|---|---|---|---|---|---|" in text
    by_id = {r[0].split()[0].strip("`"): r for r in rows}
    relu20 = by_id["relu20_no_longer_learns"]
    assert relu20[1] == "**ON THE LINE**"
    assert "= 0.106 [0.0787, 0.138] vs 0.1" in relu20[2]
    assert relu20[3] == "zone [0.05, 0.15]"
    assert relu20[4] == "30 → 100 → 300 → 1000"
    assert relu20[5].startswith("1 (")
    # a zone on |effect| keeps its bars inside the cell; "< 1e-6" is not read as HTML
    tost = by_id["input_scaling_unscaled_vs_standardized_little_difference"]
    assert tost[3] == "zone on \\|effect\\| [0.05, 0.15]"
    assert tost[5].startswith("&lt; 1e-6")
    # how a test counts, as the page says it
    assert by_id["standardized_vs_normalized_target"][0].endswith("(derived prediction, counted apart)")


def test_heading_counts_the_lesson_claims_by_label_and_names_the_environment(real):
    text = md.summary_markdown(real, title="lesson-claims py311-tf221-k3new-cpu")
    first, _, bound, _, env = text.splitlines()[:5]
    assert "error bound: each of the 24 tests" in bound and "readings: " in bound
    assert first == f"### lesson-claims py311-tf221-k3new-cpu: {counts_text(list(real.claims))}"
    assert "17 claims of the lesson: 12 SUPPORTED, 2 REFUTED, 1 ON THE LINE" in first
    for part in ("TensorFlow 2.21.0", "Keras 3.15.1", "device cpu", "batched engine"):
        assert part in env


def test_expectation_missed_and_not_testable_are_shown(real):
    claim = real.claim("relu20_no_longer_learns")
    untestable = dataclasses.replace(claim, verdict=Verdict.INCONCLUSIVE, at_threshold=False,
                                     untestable="no run diverged", expectation_missed=("label",))
    row = table(md.summary_markdown(dataclasses.replace(real, claims=(untestable,))))[0]
    assert row[1].startswith("**NOT TESTABLE HERE** (expected ON THE LINE)") and "expectation missed" in row[1]
    assert row[2] == "none: no run diverged" and row[3] == "—"  # no effect shown as a 0


def test_schema_1_results_still_summarize():
    text = md.summary_markdown(res.load(SCHEMA_1))
    assert len(table(text)) == 2 and "TensorFlow 2.21.0" in text


def test_the_writer_imports_no_matplotlib():
    tree = ast.parse(Path(md.__file__).read_text(encoding="utf-8"))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.split(".")[0] == "matplotlib" or n == "harness.report.figures"], names


# ------------------------------------------------------------------ the command


def test_appends_to_github_step_summary(results_file, tmp_path, monkeypatch, capsys, real):
    out = tmp_path / "step_summary.md"
    out.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(out))
    assert main(["summary", str(results_file)]) == 0
    assert main(["summary", str(results_file), "--title", "again"]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### lesson-claims: ")  # appended, not replaced
    assert "\n### again: " in text
    assert capsys.readouterr().out == ""


def test_stdout_without_github_step_summary(results_file, monkeypatch, capsys, real):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert main(["summary", str(results_file)]) == 0
    assert capsys.readouterr().out == md.summary_markdown(real)


def test_out_dash_is_stdout_even_on_github(results_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "s.md"))
    assert main(["summary", str(results_file), "--out", "-"]) == 0
    assert capsys.readouterr().out.startswith("### lesson-claims: ")
    assert not (tmp_path / "s.md").exists()


def _refused(argv, capsys, *fragments):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    last = err.strip().splitlines()[-1]
    for f in fragments:
        assert f in last, last
    return last


@pytest.mark.parametrize("content, fragment", [
    (None, "cannot read"),
    ('{"schema": "lesson-claims/results/5", "claims": [', "not valid JSON, truncated?"),
    ("[]", "not a lesson-claims results or summary file"),
])
def test_bad_results_file_is_refused_naming_it(tmp_path, monkeypatch, capsys, content, fragment):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    out = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(out))
    _refused(["summary", str(path)], capsys, f"summary {path}: ", fragment)
    assert not out.exists()  # nothing written


@pytest.mark.parametrize("out, fragment", [
    ("{tmp}", "--out {tmp}: is a directory"),
    ("{tmp}/file/summary.md", "--out {tmp}/file/summary.md: not writable"),
    ("/proc/zz/summary.md", "--out /proc/zz/summary.md: not writable"),
])
def test_unwritable_out_is_refused_before_reading(tmp_path, capsys, out, fragment):
    (tmp_path / "file").write_text("x")
    missing = tmp_path / "missing.json"  # never read: the output is checked first
    _refused(["summary", str(missing), "--out", out.replace("{tmp}", str(tmp_path))], capsys,
             fragment.replace("{tmp}", str(tmp_path)))


def test_unwritable_github_step_summary_is_named(tmp_path, monkeypatch, capsys, results_file):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "file" / "s.md"))
    _refused(["summary", str(results_file)], capsys, f"$GITHUB_STEP_SUMMARY {tmp_path / 'file' / 's.md'}: "
             "not writable")


def test_the_command_line(results_file, tmp_path):
    """As CI calls it: a process, exit 0 and the table; a bad file: exit 2, one line, no traceback."""
    out = tmp_path / "s.md"
    ok = subprocess.run([sys.executable, "-m", "harness", "summary", str(results_file), "--out", str(out)],
                        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert out.read_text(encoding="utf-8").startswith("### lesson-claims: 17 claims of the lesson")
    bad = subprocess.run([sys.executable, "-m", "harness", "summary", str(tmp_path / "nope.json")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert f"summary {tmp_path / 'nope.json'}: cannot read" in bad.stderr.strip().splitlines()[-1]
