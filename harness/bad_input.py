"""Bad input refused before any work: the start-up checks of every option and command line, and the
cleanup of what dead runs left behind.

Every check here runs before any training or benchmarking and fails with a
message that names the option (or file) at fault, says what is wrong and how
to fix it (:class:`BadInput`); the pytest plugin turns it into a ``pytest.UsageError`` (exit status
4), ``python -m harness`` into an argparse error (exit status 2).

Seed bounds come from a memory estimate per seed against this machine's memory, not from a number picked
for taste: :data:`SUITE_BYTES_PER_SEED` for a whole run (``--claims-seeds``: the controller holds every seed's
learning curves of all configurations when it writes the report), :data:`CONFIG_BYTES_PER_SEED` for one
configuration's training (``bench``, ``certify --independence-seeds``).  How they were measured:
docs/findings.md, "Memory per seed".

Leftovers of dead runs (:func:`clean_dead_leftovers`): the temporary files of an
interrupted atomic write (``.<name>.~<pid>@<host>~XXXX.tmp``, see
:func:`harness.storage.store.atomic_write_text`), removed only when their writer is not
alive (:mod:`harness.storage.liveness`).
"""
from __future__ import annotations

import os
import uuid
from importlib import metadata
from pathlib import Path

from . import lockfiles
from .storage import store

SUITE_BYTES_PER_SEED = 4 * 2**20
CONFIG_BYTES_PER_SEED = 2**20
# when this machine's memory cannot be read: 16 GiB, a laptop
FALLBACK_MEMORY = 16 * 2**30


class BadInput(ValueError):
    """An option or file that cannot work; the message names it and says how to fix it."""


# -- memory bounds ---------------------------------------------------------------
def memory_bytes() -> int:
    """This machine's memory (physical, or the cgroup limit when lower)."""
    total = None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            limit = int(Path(limit_file).read_text().strip())
        except (OSError, ValueError):  # absent, or "max"
            continue
        if 0 < limit < (total or 2**62):
            total = limit
    return total or FALLBACK_MEMORY


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


def max_seeds(bytes_per_seed: int, memory: int | None = None) -> int:
    return max(1, (memory or memory_bytes()) // bytes_per_seed)


def check_seed_count(option: str, n: int, bytes_per_seed: int = SUITE_BYTES_PER_SEED, what: str = "",
                     memory: int | None = None, hint: str = "") -> None:
    """BadInput when ``n`` seeds would need more memory than this machine has."""
    memory = memory or memory_bytes()
    limit = max_seeds(bytes_per_seed, memory)
    if n > limit:
        raise BadInput(
            f"{option} {n}: too many seeds for this machine: {what or 'a run'} needs about "
            f"{bytes_per_seed / 2**20:.3g} MiB per seed, {_gib(n * bytes_per_seed)} for {n}, and this machine has "
            f"{_gib(memory)}; give at most {limit}{hint}")


# -- names -----------------------------------------------------------------------
def check_known(option: str, given, known, what: str) -> None:
    """BadInput naming the option when any of ``given`` is not one of ``known`` (cells, configurations ...)."""
    unknown = [g for g in given or [] if g not in known]
    if unknown:
        raise BadInput(f"{option} {' '.join(unknown)}: unknown {what}; known: {', '.join(known)}")


# -- outputs ---------------------------------------------------------------------
def _nearest_existing(path: Path) -> Path:
    p = path
    while not os.path.lexists(p) and p != p.parent:
        p = p.parent
    return p


def _probe(directory: Path) -> None:
    probe = directory / f".write-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    probe.write_text("ok")
    probe.unlink()


def check_dir(option: str, path, create: bool = True,
              fix: str = "give a directory this user can create and write to") -> Path:
    """``path`` is (or can be made) a directory this process can write to.

    ``create``: make it now (as the run would); otherwise only the nearest existing
    folder above it is probed and nothing is left behind."""
    path = Path(path)
    if path.is_symlink():  # the suite writes through no link it did not make
        raise BadInput(f"{option} {path}: is a link (to {os.readlink(path)}); the suite does not write through "
                       f"links: give the folder itself, {option}={path.resolve()}")
    if path.exists() and not path.is_dir():
        raise BadInput(f"{option} {path}: not writable (it is a file, not a directory); {fix}")
    try:
        if create:
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BadInput(f"{option} {path}: not writable (cannot create it: {exc.strerror or exc}); "
                               f"{fix}") from None
            _probe(path)
        else:
            base = _nearest_existing(path)
            if not base.is_dir():
                raise BadInput(f"{option} {path}: not writable ({base} is a file, not a directory); {fix}")
            try:
                _probe(base)
            except OSError as exc:
                where = "" if base == path else f"cannot create a file in {base}: "
                raise BadInput(f"{option} {path}: not writable ({where}{exc.strerror or exc}); {fix}") from None
    except OSError as exc:
        raise BadInput(f"{option} {path}: not writable ({exc.strerror or exc}); {fix}") from None
    return path


def check_out_file(option: str, path) -> Path:
    """``path`` can be written (atomically: a temporary file beside it, then a rename)
    without creating anything now."""
    path = Path(path)
    if path.is_dir():
        raise BadInput(f"{option} {path}: is a directory; give a file name, e.g. {path / 'out.json'}")
    try:
        check_dir(option, path.parent, create=False, fix="give a file in a folder this user can write to")
    except BadInput as exc:
        raise BadInput(str(exc).replace(f"{option} {path.parent}:", f"{option} {path}:", 1)) from None
    return path


# -- the pytest plugin's options -------------------------------------------------
def installed_keras_major() -> int:
    """The Keras major version the lesson's ``tensorflow.keras`` resolves to, from package metadata
    (no TensorFlow import): Keras 2 where TF <= 2.15 or TF_USE_LEGACY_KERAS=1, else Keras 3."""
    if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
        return 2
    for dist in ("tensorflow", "tensorflow-cpu", "tensorflow-gpu"):
        try:
            minor = int(metadata.version(dist).split(".")[1])
        except (metadata.PackageNotFoundError, ValueError, IndexError):
            continue
        return 2 if minor <= 15 else 3
    return 3


def validate(settings, outputs: bool = True) -> None:
    """Every option of a run (:class:`harness.settings.Settings`), before anything runs; raises
    :class:`BadInput` naming the option (the plugin turns it into ``pytest.UsageError``).  ``outputs``: the
    session decides claims, so the folders it will write are checked; a session of the harness's own tests
    writes none.  The baseline's content is read by the caller, once (:func:`harness.results.summaries.load`)."""
    check_seed_count("--claims-seeds", settings.seeds, SUITE_BYTES_PER_SEED,
                     "a run (the controller holds every seed's learning curves of all configurations "
                     "when it writes results.json)", hint=" (the default is 30, the lesson's n_repeats)")
    if outputs:
        # Probed, not made: xdist's workers find their rootdir from the command line, where an existing folder
        # would count as a test path (the folders are made when the first line or file is written).
        report_dir = check_dir("--claims-report-dir", settings.report_dir, create=False)
        check_dir("--claims-history-dir" if settings.history_dir else "--claims-report-dir",
                  settings.history_dir or report_dir / "history", create=False)
        check_dir("--claims-store-dir", settings.store_dir, create=False)
        if lockfiles.path_for(lockfiles.DEFAULT_CELL).exists():  # a checkout: its default lock must be current
            try:
                lockfiles.check()
            except lockfiles.LockError as exc:
                raise BadInput(str(exc)) from None
    certs = Path(settings.certificate_dir)
    if certs.exists() and not certs.is_dir():
        raise BadInput(f"--claims-certificate-dir {certs}: is a file, not a directory; give the directory that holds "
                       "<environment fingerprint>.json (default reports/certificates)")
    if settings.batch_order == "replayed" and installed_keras_major() < 3:
        raise BadInput("--claims-batch-order=replayed: the replayed order is seeded Keras 3's (one permutation every "
                       "epoch); this environment trains with Keras 2, whose fit draws a fresh order per epoch: "
                       "use the default --claims-batch-order=lesson")
    if settings.baseline and Path(settings.baseline).is_dir():
        raise BadInput(f"--claims-baseline {settings.baseline}: is a directory; give one summary file "
                       "(reports/baselines/*.json or a results.json)")


# -- leftovers of dead runs --------------------------------------------------------
def clean_dead_leftovers(settings) -> list[Path]:
    """Controller, at start (after :func:`validate`): the temporary files dead runs left in the run store, the
    report folder and the history folder, removed; the list of what was removed (for the report header)."""
    removed = store.clean_tmp(settings.store_dir)
    removed += store.clean_tmp(Path(settings.report_dir))  # results.json, index.html, figures/, history/, parts
    if settings.history_dir:
        removed += store.clean_tmp(settings.history_dir, recursive=False)
    return removed
