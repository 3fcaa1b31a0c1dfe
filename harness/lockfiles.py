"""The lock files: one per tox cell, exact versions of everything that cell installs.

``harness/locks/<cell>.txt`` is written by ``python -m harness lock`` (``uv pip compile``, see
:mod:`harness.maintainer.lock`) from what the cell asks for: ``pyproject.toml``'s dependencies and the
extras of its device (``cpu`` / ``gpu``) and of the harness's tests (``dev``), the cell's own ``deps`` in ``tox.ini``, and the versions its
decided record in ``reports/cells/`` was measured with.  ``pyproject.toml`` keeps open ranges, as a
library's should; the lock is what an application (CI, the README's first line) installs.

A lock's header carries the SHA-256 of those inputs.  :func:`check` refuses a lock whose inputs changed
since it was made, or whose pins no longer satisfy what ``pyproject.toml`` and ``tox.ini`` ask for,
naming both files.  Stdlib and ``packaging`` only (pytest's own dependency): the pytest plugin checks
the default lock before any work.
"""
from __future__ import annotations

import configparser
import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK_DIR = ROOT / "harness" / "locks"
DEFAULT_CELL = "py311-tf221-k3new-cpu"  # what the README's first line installs: the newest TF and Keras 3
GPU_CELLS = ("py311-tf221-k3new-gpu",)  # the -gpu twin CI's GPU job runs
# The platform the locks resolve for: CI's Linux x86_64 runners and this project's machines.
PYTHON = "3.11"
PLATFORM = "x86_64-manylinux_2_28"
INPUTS = re.compile(r"^# inputs-sha256: ([0-9a-f]{64})$", re.M)
MAKE = "python -m harness lock"


class LockError(ValueError):
    """A lock file that is missing, unreadable, or made from other requirements than today's."""


# -- tox.ini, read without tox (CI's first line does not install it) ---------------------------------
def _tox(tox_ini: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(tox_ini, encoding="utf-8"):
        raise LockError(f"{tox_ini}: not found")
    return parser


def tox_environments(tox_ini: Path = ROOT / "tox.ini") -> list[str]:
    """tox.ini's env_list with its braces expanded, in file order."""
    envs = []
    for line in _tox(tox_ini)["tox"]["env_list"].split():
        parts = re.split(r"(\{[^}]*\})", line)
        options = [p[1:-1].split(",") if p.startswith("{") else [p] for p in parts]
        envs += ["".join(combo) for combo in itertools.product(*options)]
    return envs


def _matches(condition: str, factors: set[str]) -> bool:
    """tox's factor conditions: ``a-b`` needs both factors, ``a,b`` either; ``{..}`` braces expand."""
    alternatives = []
    for part in re.split(r",(?![^{]*\})", condition):
        pieces = re.split(r"(\{[^}]*\})", part.strip())
        options = [p[1:-1].split(",") if p.startswith("{") else [p] for p in pieces]
        alternatives += ["".join(c) for c in itertools.product(*options)]
    return any(all(f in factors for f in alt.split("-") if f) for alt in alternatives)


def cell_requirements(env: str, tox_ini: Path = ROOT / "tox.ini") -> list[str]:
    """The requirement lines ``tox.ini`` gives cell ``env`` (its factor-conditional ``deps``), without the
    lock file itself."""
    factors = set(env.split("-"))
    out = []
    for raw in _tox(tox_ini)["testenv"].get("deps", "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cond, sep, rest = line.partition(": ")
        if sep and re.fullmatch(r"[\w,{}.-]+", cond):
            if not _matches(cond, factors):
                continue
            line = rest.strip()
        if line.startswith("-"):  # -r / -c lines: the lock itself
            continue
        out.append(line)
    return out


# Every cell's lock also holds the harness's own test tools (the README's second line installs them).
TEST_EXTRA = "dev"


def device_extra(env: str) -> str:
    return "gpu" if env.endswith("-gpu") else "cpu"


def lock_extras(env: str) -> tuple[str, str]:
    """The extras a cell's lock is made with: its device's and the test tools'."""
    return device_extra(env), TEST_EXTRA


def project_requirements(extras, pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """``pyproject.toml``'s dependencies and those of ``extras`` (one name or several)."""
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise LockError(f"{pyproject}: unreadable ({exc})") from None
    optional = project.get("optional-dependencies", {})
    return list(project.get("dependencies", [])) + [r for e in ((extras,) if isinstance(extras, str) else extras)
                                                    for r in optional.get(e, [])]


def inputs_digest(env: str, recorded: dict[str, str], root: Path = ROOT) -> str:
    """SHA-256 of everything a lock is made from: a change to any of them makes it out of date."""
    blob = {"python": PYTHON, "platform": PLATFORM, "cell": env,
            "project": project_requirements(lock_extras(env), root / "pyproject.toml"),
            "tox": cell_requirements(env, root / "tox.ini"), "recorded": dict(sorted(recorded.items()))}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()


# -- the lock files ----------------------------------------------------------------------------------
def path_for(env: str, lock_dir: Path = LOCK_DIR) -> Path:
    return Path(lock_dir) / f"{env}.txt"


@dataclass(frozen=True)
class Lock:
    path: Path
    inputs: str  # the header's inputs-sha256
    pins: dict[str, str]  # canonical name -> exact version
    recorded: dict[str, str]  # the versions taken from the cell's decided record (header)


def read(path: Path) -> Lock:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LockError(f"{path}: unreadable ({exc}); make it with `{MAKE}`") from None
    found = INPUTS.search(text)
    if not found:
        raise LockError(f"{path}: no '# inputs-sha256:' line: not made by `{MAKE}`")
    recorded = {}
    rec = re.search(r"^# recorded: (\{.*\})$", text, re.M)
    if rec:
        recorded = json.loads(rec.group(1))
    pins = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            req = Requirement(line.split(";", 1)[0].strip())
        except InvalidRequirement as exc:
            raise LockError(f"{path}:{n}: not a requirement ({exc})") from None
        spec = list(req.specifier)
        if len(spec) != 1 or spec[0].operator != "==":
            raise LockError(f"{path}:{n}: {line!r} is not an exact pin (name==version)")
        pins[canonicalize_name(req.name)] = spec[0].version
    return Lock(Path(path), found.group(1), pins, recorded)


def problems(lock: Lock, env: str, root: Path = ROOT) -> list[str]:
    """Why ``lock`` no longer fits what ``pyproject.toml`` and ``tox.ini`` ask of cell ``env``; empty when it does."""
    out = []
    pyproject, tox_ini = root / "pyproject.toml", root / "tox.ini"
    wanted = [(r, pyproject) for r in project_requirements(lock_extras(env), pyproject)]
    wanted += [(r, tox_ini) for r in cell_requirements(env, tox_ini)]
    for line, source in wanted:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"python_version": PYTHON}):
            continue
        have = lock.pins.get(canonicalize_name(req.name))
        if have is None:
            out.append(f"{req.name} ({source.name}: {line!r}) is not in the lock")
        elif not req.specifier.contains(have, prereleases=True):
            out.append(f"{req.name}=={have} does not satisfy {source.name}'s {line!r}")
    if not out and lock.inputs != inputs_digest(env, lock.recorded, root):
        out.append("pyproject.toml's or tox.ini's requirements changed since the lock was made")
    return out


def check(env: str = DEFAULT_CELL, lock_dir: Path = LOCK_DIR, root: Path = ROOT) -> Lock:
    """The lock of cell ``env``, verified against ``pyproject.toml`` and ``tox.ini``; else :class:`LockError`
    naming both files and the command that remakes it."""
    path = path_for(env, lock_dir)
    lock = read(path)
    found = problems(lock, env, root)
    if found:
        raise LockError(f"{path} is out of date with {root / 'pyproject.toml'} and {root / 'tox.ini'}: "
                        + "; ".join(found) + f". Remake it with `{MAKE} --only {env}` and commit it")
    return lock
