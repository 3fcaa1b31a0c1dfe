"""A report folder's files replaced as one unit.

The files of one run (``results.json``, ``runs.json.gz``, ``index.html``, ``figures/``, the history summary)
are built in a staging folder beside their targets, then moved into place under a lock on the folder,
``index.html`` last.  Before the first move a journal names every move; a run killed between two moves
leaves the journal, and the next writer (or reader: :func:`recover`) finishes them, so the folder always
ends up holding one run's files.  A write that fails (a full disk, a read-only folder) fails while the
files are staged: the complete report already in place is never touched.  Renames replace links at the
target's name rather than writing through them.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from harness.storage.store import atomic_write_text

JOURNAL = ".report-commit.json"
LOCK = ".report.lock"
OWNER = ".report.owner"  # the pid and run of the writer holding the lock, for the message a waiter gets
STAGING_PREFIX = ".staging-"
WAIT_SECONDS = 120


class FolderBusy(OSError):
    """Another run holds the folder's lock for longer than a writer waits."""


@contextmanager
def locked(folder: Path, run: str = "", wait: float = WAIT_SECONDS):
    """Hold ``folder``'s write lock (waiting up to ``wait`` seconds for another run's commit)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / LOCK))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        try:
            owner = (folder / OWNER).read_text(encoding="utf-8").strip()
        except OSError:
            owner = "unknown"
        raise FolderBusy(f"{folder}: being written by another run ({owner}); waited {wait:.0f} s") from None
    try:
        atomic_write_text(folder / OWNER, f"pid {os.getpid()}, run {run[:8]}\n")
        recover(folder)
        yield folder
    finally:
        (folder / OWNER).unlink(missing_ok=True)
        lock.release()


def staging(folder: Path) -> Path:
    """A new, empty folder inside ``folder`` (same file system: every move is a rename)."""
    path = Path(tempfile.mkdtemp(dir=folder, prefix=f"{STAGING_PREFIX}{os.getpid()}-"))
    os.chmod(path, 0o755)
    return path


def _move(src: Path, dest: Path) -> None:
    if not src.exists() and not src.is_symlink():
        return  # moved already (a commit being finished)
    if src.is_dir():
        if dest.is_dir() and not dest.is_symlink():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            os.replace(dest, old)
            os.replace(src, dest)
            shutil.rmtree(old, ignore_errors=True)
            return
        if dest.is_symlink() or dest.exists():
            dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dest)


def commit(folder: Path, stage: Path, moves: list[tuple[Path, Path]]) -> None:
    """Move each staged path to its target (in order: put ``index.html`` last), journalled so that a commit
    killed half-way is finished by the next :func:`recover`; the staging folder is removed after."""
    folder = Path(folder)
    atomic_write_text(folder / JOURNAL, json.dumps({"staging": str(stage), "moves": [[str(s), str(d)]
                                                                                    for s, d in moves]}))
    _finish(folder)


def _finish(folder: Path) -> str | None:
    path = folder / JOURNAL
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for src, dest in journal.get("moves", []):
        _move(Path(src), Path(dest))
    shutil.rmtree(journal.get("staging", ""), ignore_errors=True)
    path.unlink(missing_ok=True)
    return journal.get("staging")


def recover(folder: Path) -> str | None:
    """Finish a commit a killed run left half-done, and remove staging folders no commit names; the staging
    folder it finished, or None."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    done = _finish(folder)
    for leftover in folder.glob(f"{STAGING_PREFIX}*"):
        pid = leftover.name[len(STAGING_PREFIX):].split("-")[0]
        if not (pid.isdigit() and int(pid) == os.getpid()):
            shutil.rmtree(leftover, ignore_errors=True)
    for old in folder.glob(".*.old-*"):
        shutil.rmtree(old, ignore_errors=True)
    return done


def discard(stage: Path) -> None:
    shutil.rmtree(stage, ignore_errors=True)
