"""The run store: each (experiment fingerprint, seed, engine, environment, code)
is trained once and kept on disk as JSON, reused by every claim and later runs.

* Code: every entry is keyed by the digest of the code that trained it
  (:mod:`harness.training.provenance`: the engine, data, models, experiments, compat and
  the suite version); entries of other code live elsewhere and are never read.

* Concurrency: workers that need the same experiment take one file lock per
  (environment, engine, experiment); the first computes, the others then read.
* Atomicity: an entry is written to a temporary file in the same directory,
  fsync'ed, then renamed over its final name, so a killed run leaves either
  the old entry or none, never a torn one.  The temporary file's name carries
  its writer's pid and host (``.seed-3.json.~<pid>@<host>~XXXXXXXX.tmp``), so
  that :func:`clean_tmp` (called when a run starts) removes those of dead
  writers only.
* Verification: an entry carries its own key and a SHA-256 of its record; one
  that cannot be read (OSError included), parse or verify is recomputed with a
  warning, never used; one that cannot be written is used for this run only,
  with a warning.
* ``fresh``: entries written before this session are ignored (recomputed);
  entries written by this session (another xdist worker) are still shared.
* No pickle: only JSON (see :mod:`harness.training.records`).
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable, Iterable

from filelock import FileLock

from harness.training import provenance
from ..training import records
from .liveness import FOREIGN_TMP_AGE, writer_alive
from .liveness import HOST as _HOST
from ..training.records import RunRecord


class StoreWarning(UserWarning):
    """An entry on disk was unreadable or did not verify and will be recomputed."""


def _digest(payload) -> str:
    return hashlib.sha256(records.dumps(payload, sort_keys=True).encode()).hexdigest()


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_record_types(d: dict) -> None:
    """TypeError naming the first field of a stored record whose value has the wrong type (an edited record
    whose checksum was recomputed must fail here, like a corrupt one, not as a bare TypeError in a claim)."""
    for name in ("experiment", "fingerprint", "engine"):
        if not isinstance(d.get(name), str):
            raise TypeError(f"field {name!r} is {type(d.get(name)).__name__}, not a string")
    for name in ("seed", "epochs"):
        if not isinstance(d.get(name), int) or isinstance(d.get(name), bool):
            raise TypeError(f"field {name!r} is {type(d.get(name)).__name__}, not an integer")
    history, metrics = d.get("history"), d.get("metrics")
    if not isinstance(history, dict):
        raise TypeError("field 'history' is not a mapping")
    for key, values in history.items():
        if not isinstance(values, list) or not all(_number(v) for v in values):
            raise TypeError(f"field 'history.{key}' holds a value that is not a number")
    if not isinstance(metrics, dict):
        raise TypeError("field 'metrics' is not a mapping")
    for key, v in metrics.items():
        if v is not None and not _number(v):
            raise TypeError(f"field 'metrics.{key}' is {type(v).__name__} ({v!r}), not a number")


def host() -> str:
    """This machine's name as temporary-file names carry it."""
    return _HOST


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.~{os.getpid()}@{_HOST}~", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports and entries are meant to be read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


# mkstemp's names: ".<name>." + (this module's "~pid@host~") + 8 random characters + ".tmp"
_TMP = re.compile(r"^\.(?P<name>.+)\.(?:~(?P<pid>\d+)@(?P<host>[^~/]+)~)?[a-z0-9_]{8}\.tmp$")


def clean_tmp(root, recursive: bool = True, now: float | None = None) -> list[Path]:
    """Remove the temporary files of atomic writes that died before their rename, under
    ``root``; only those whose writer is not alive (see harness.storage.liveness.writer_alive),
    or, written on another host or by an older version (no pid in the name), older than
    ``liveness.FOREIGN_TMP_AGE`` (a write takes milliseconds).  Returns what it removed."""
    now = now or time.time()
    root = Path(root)
    if not root.is_dir():
        return []
    walk = os.walk(root) if recursive else [(str(root), [], [e.name for e in os.scandir(root) if e.is_file()])]
    removed = []
    for folder, _, names in walk:
        for name in names:
            m = _TMP.match(name)
            if not m:
                continue
            path = Path(folder) / name
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            dead = now - mtime > FOREIGN_TMP_AGE
            if not dead and m["pid"] and m["host"] == _HOST:
                dead = not writer_alive(int(m["pid"]), _HOST, mtime)
            if dead:
                try:
                    path.unlink()
                    removed.append(path)
                except OSError:
                    pass
    return removed


class RunStore:
    def __init__(self, root: str | os.PathLike, environment: str, session: str = "", fresh: bool = False,
                 code_digest=provenance.record_digest):
        if fresh and not session:
            # fresh means "only what this session wrote": without a session id it would reuse everything
            raise ValueError("RunStore(fresh=True) needs a non-empty session id")
        self.root = Path(root)
        self.environment = environment
        self.session = session
        self.fresh = fresh
        self.code_digest = code_digest  # engine -> digest of the code that trains it

    # -- layout ---------------------------------------------------------------
    def _dir(self, engine: str, fingerprint: str) -> Path:
        return self.root / self.environment / engine / self.code_digest(engine)[:16] / fingerprint

    def entry_path(self, engine: str, fingerprint: str, seed: int) -> Path:
        return self._dir(engine, fingerprint) / f"seed-{seed}.json"

    def _key(self, engine: str, fingerprint: str, seed: int) -> dict:
        return {"environment": self.environment, "engine": engine, "code": self.code_digest(engine),
                "suite": provenance.__version__, "fingerprint": fingerprint, "seed": seed}

    # -- entries --------------------------------------------------------------
    def read(self, engine: str, fingerprint: str, seed: int) -> RunRecord | None:
        """A verified record, or None (missing, stale under ``fresh``, or corrupt)."""
        path = self.entry_path(engine, fingerprint, seed)
        try:
            entry = records.loads(path.read_text(encoding="utf-8"))
            if not isinstance(entry, dict):
                raise TypeError("not a store entry")
            ok = (
                entry.get("key") == self._key(engine, fingerprint, seed)
                and entry.get("sha256") == _digest(entry["record"])
            )
            if ok:
                check_record_types(entry["record"])
            record = RunRecord.from_dict(entry["record"]) if ok else None
        except FileNotFoundError:
            return None
        # OSError: a directory in its place, no permission; UnicodeDecodeError is a ValueError
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            ok, record = False, None
            reason = f"{type(exc).__name__}: {exc}"
        else:
            reason = "key or checksum mismatch"
        if not ok:
            warnings.warn(f"run store entry {path} is unreadable ({reason}); recomputing it", StoreWarning, stacklevel=2)
            return None
        if self.fresh and entry.get("session") != self.session:
            return None
        return record

    def write(self, record: RunRecord, engine: str | None = None) -> None:
        """Store ``record`` under ``engine`` (a store label such as ``batched+replayed``; default: its engine)."""
        engine = engine or record.engine
        payload = record.to_dict()
        entry = {
            "key": self._key(engine, record.fingerprint, record.seed),
            "session": self.session,
            "sha256": _digest(payload),
            "record": payload,
        }
        atomic_write_text(self.entry_path(engine, record.fingerprint, record.seed), records.dumps(entry))

    def get_or_compute(
        self,
        engine: str,
        fingerprint: str,
        seeds: Iterable[int],
        compute: Callable[[list[int]], list[RunRecord]],
    ) -> list[RunRecord]:
        """Records for ``seeds`` in order, computing (once, under a lock) the missing ones."""
        seeds = [int(s) for s in seeds]
        directory = self._dir(engine, fingerprint)
        directory.mkdir(parents=True, exist_ok=True)
        with FileLock(str(directory) + ".lock"):
            found = {s: self.read(engine, fingerprint, s) for s in seeds}
            missing = [s for s, r in found.items() if r is None]
            if missing:
                for record in compute(missing):
                    if record.fingerprint != fingerprint or record.engine != provenance.base_engine(engine):
                        raise RuntimeError(f"engine returned a record for {record.engine}/{record.fingerprint}, "
                                           f"expected {engine}/{fingerprint}")
                    try:
                        self.write(record, engine)
                    except OSError as exc:  # e.g. a directory where the entry goes: keep the result
                        warnings.warn(f"run store entry {self.entry_path(engine, fingerprint, record.seed)} cannot "
                                      f"be written ({exc}); using the record for this run only", StoreWarning,
                                      stacklevel=2)
                    found[record.seed] = record
            lost = [s for s in seeds if found[s] is None]
            if lost:
                raise RuntimeError(f"engine {engine} returned no record for seeds {lost}")
        return [found[s] for s in seeds]
