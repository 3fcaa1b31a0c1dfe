"""``python -m harness lock``: write (or ``--check``) one lock file per tox cell with ``uv pip compile``.

What a cell's lock is made from and how it is checked: :mod:`harness.lockfiles`.  A cell decided in
``reports/cells/`` is locked to the versions it was measured with (TensorFlow, NumPy, SciPy,
scikit-learn, matplotlib, from its record), so installing the lock reproduces that cell's environment
fingerprint; every other package at the newest version those allow.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import lockfiles
from harness.storage.store import atomic_write_text

CELLS_DIR = lockfiles.ROOT / "reports" / "cells"
# The record's fields (its summary's environment and its certificate extract's) that pin a package.
RECORDED = {"tensorflow": None, "numpy": "numpy", "scipy": "scipy", "scikit_learn": "scikit-learn",
            "matplotlib": "matplotlib"}


def all_cells(tox_ini: Path = lockfiles.ROOT / "tox.ini") -> list[str]:
    return lockfiles.tox_environments(tox_ini) + list(lockfiles.GPU_CELLS)


def recorded_versions(env: str, cells_dir: Path = CELLS_DIR) -> dict[str, str]:
    """package -> version the cell's decided record was measured with (none for a cell not decided)."""
    path = Path(cells_dir) / f"{env}.json"
    if not path.exists():
        return {}
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("status") != "decided":
        return {}
    seen = dict((record.get("summary") or {}).get("environment") or {})
    out = {}
    for field, package in RECORDED.items():
        version = seen.get(field) or (record.get(field) if field == "tensorflow" else None)
        if version:
            out[package or ("tensorflow-cpu" if env.endswith("-cpu") else "tensorflow")] = version
    return out


def uv_command() -> list[str]:
    try:
        from uv import find_uv_bin  # the uv package ships its binary
        return [find_uv_bin()]
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise RuntimeError("uv is not installed here: pip install -e \".[lock]\"") from None
        return [found]


def uv_version(uv: list[str]) -> str:
    return subprocess.run([*uv, "--version"], capture_output=True, text=True).stdout.strip()


def compile_lock(env: str, lock_dir: Path = lockfiles.LOCK_DIR, root: Path = lockfiles.ROOT,
                 cells_dir: Path = CELLS_DIR) -> Path:
    """Resolve cell ``env`` and write its lock atomically; RuntimeError with uv's own words if it cannot."""
    uv = uv_command()
    recorded = recorded_versions(env, cells_dir)
    wanted = lockfiles.cell_requirements(env, root / "tox.ini") + [f"{p}=={v}" for p, v in recorded.items()]
    with tempfile.TemporaryDirectory(prefix="lesson-claims-lock-") as tmp:
        cell_in, out = Path(tmp, "cell.in"), Path(tmp, "lock.txt")
        cell_in.write_text("\n".join(wanted) + "\n", encoding="utf-8")
        res = subprocess.run([*uv, "pip", "compile", str(root / "pyproject.toml"), str(cell_in),
                              *[a for e in lockfiles.lock_extras(env) for a in ("--extra", e)],
                              "--python-version", lockfiles.PYTHON,
                              "--python-platform", lockfiles.PLATFORM, "--no-header", "--no-annotate", "--quiet",
                              "-o", str(out)], capture_output=True, text=True, cwd=root)
        if res.returncode != 0:
            raise RuntimeError(f"{env}: uv pip compile failed: {res.stderr.strip()[-800:]}")
        body = out.read_text(encoding="utf-8")
    header = [
        f"# Lock of tox cell {env}: exact versions of everything it installs, for Python {lockfiles.PYTHON} "
        f"on {lockfiles.PLATFORM}.",
        f"# Made by `{lockfiles.MAKE}` ({uv_version(uv)}, pip compile) from pyproject.toml (dependencies, extras "
        f"[{', '.join(lockfiles.lock_extras(env))}]), tox.ini's deps for this cell"
        + (" and the versions its decided record in reports/cells/ holds." if recorded else "."),
        "# Do not edit: remake it. The checks (harness/lockfiles.py) refuse it once its inputs change.",
        f"# recorded: {json.dumps(recorded, sort_keys=True)}",
        f"# inputs-sha256: {lockfiles.inputs_digest(env, recorded, root)}",
    ]
    path = lockfiles.path_for(env, lock_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "\n".join(header) + "\n" + body)
    return path


def run(only: list[str] | None = None, check_only: bool = False, out=sys.stdout) -> int:
    envs = all_cells()
    unknown = [e for e in only or [] if e not in envs]
    if unknown:
        raise ValueError(f"unknown cell(s) {', '.join(unknown)}; tox.ini has {', '.join(envs)}")
    failed = 0
    for env in only or envs:
        if check_only:
            try:
                lock = lockfiles.check(env)
                print(f"{env}: {lock.path.relative_to(lockfiles.ROOT)} up to date ({len(lock.pins)} pins)", file=out)
            except lockfiles.LockError as exc:
                print(f"lock: {exc}", file=out)
                failed += 1
            continue
        try:
            path = compile_lock(env)
        except RuntimeError as exc:
            print(f"lock: {exc}", file=out)
            failed += 1
            continue
        print(f"{env}: wrote {path.relative_to(lockfiles.ROOT)} ({len(lockfiles.read(path).pins)} pins)",
              file=out, flush=True)
    if not check_only and not failed:
        print(f"commit {lockfiles.LOCK_DIR.relative_to(lockfiles.ROOT)}/", file=out)
    return 1 if failed else 0
