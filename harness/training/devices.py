"""Spreading pytest-xdist workers over the machine's GPUs and CPU cores.

Every xdist worker is a separate process that imports TensorFlow on its own.
Left alone, each one (a) sees every GPU, places its work on GPU:0 and grabs
nearly all of that card's memory, and (b) sizes its thread pools for *all*
cores, so N workers run N x cores threads on cores cores.  This module decides,
from the environment xdist gives each worker, which GPU the worker gets and
how many threads it may use, and :func:`configure` applies that *before*
TensorFlow is imported (CUDA reads ``CUDA_VISIBLE_DEVICES`` and TF reads its
thread settings once, at initialisation).

Everything except :func:`configure` is a pure function of an environment
mapping, and this module never imports TensorFlow at import time, so it can be
used from ``conftest.py`` hooks (``pytest_xdist_auto_num_workers``) in the
controller process, which should not pay for, or initialise, TensorFlow.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping, MutableMapping

# Where the NVIDIA kernel driver lists one directory per GPU (by PCI address).
# Reading it needs neither CUDA nor TensorFlow.
PROC_NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")

_WORKER_RE = re.compile(r"^gw(\d+)$")

_THREAD_VARS = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")
# Names of the _THREAD_VARS that configure() filled in itself (not the user),
# so that a child process (an xdist worker) may recompute them for its share.
_DEFAULTED = "HARNESS_DEVICES_DEFAULTED"


def available_cores() -> int:
    """CPU cores this process may run on.

    ``os.cpu_count()`` counts the whole machine; the affinity mask is what a
    ``taskset``/cpuset-restricted CI job can actually use.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def worker_index(env: Mapping[str, str]) -> int | None:
    """xdist sets ``PYTEST_XDIST_WORKER=gw3`` in worker 3; None outside xdist
    (or for a value we do not understand, which we then leave alone)."""
    match = _WORKER_RE.match(env.get("PYTEST_XDIST_WORKER", "").strip())
    return int(match.group(1)) if match else None


def worker_count(env: Mapping[str, str]) -> int | None:
    """``PYTEST_XDIST_WORKER_COUNT`` as an int; None when unset or not a positive int."""
    try:
        count = int(env.get("PYTEST_XDIST_WORKER_COUNT", "").strip())
    except ValueError:
        return None
    return count if count > 0 else None


def visible_gpus(env: Mapping[str, str]) -> list[str] | None:
    """The GPUs ``CUDA_VISIBLE_DEVICES`` lets this process see, as its entries.

    None when the variable is unset: CUDA then shows every GPU and we do not
    know how many there are (not without initialising CUDA).  ``[]`` when it
    hides them all (``""`` or ``"-1"``).  Entries are kept as written (indices
    or ``GPU-<uuid>``), since either is a valid value to pass on to a worker.
    CUDA stops enumerating at the first invalid entry, so ``"0,-1,1"`` is just
    ``["0"]``.
    """
    raw = env.get("CUDA_VISIBLE_DEVICES")
    if raw is None:
        return None
    gpus: list[str] = []
    for entry in raw.split(","):
        entry = entry.strip()
        if not entry or entry.startswith("-"):
            break
        gpus.append(entry)
    return gpus


def assign_gpu(env: Mapping[str, str]) -> str | None:
    """The ``CUDA_VISIBLE_DEVICES`` value this xdist worker should use.

    Workers take the visible GPUs round-robin (worker 5 of ``["0", "1"]`` gets
    ``"1"``), so each process owns one card instead of all of them piling onto
    GPU:0.  None means "leave the variable as it is": not under xdist, the
    variable unset (unknown GPUs), or GPUs hidden (they stay hidden).
    """
    index = worker_index(env)
    gpus = visible_gpus(env)
    if index is None or not gpus:
        return None
    return gpus[index % len(gpus)]


def threads_per_worker(cores: int, workers: int | None) -> int:
    """Each worker's share of the cores (at least 1), so N workers do not each
    start a pool as large as the machine and oversubscribe it N times."""
    if not workers or workers < 1:
        return max(1, cores)
    return max(1, cores // workers)


def auto_workers(cores: int, n_gpus: int) -> int:
    """The worker count for ``pytest -n auto``.

    With GPUs: one worker per GPU (two processes sharing a card only contend
    for it, and each would hold its own CUDA context).  Without: one per core.
    """
    if n_gpus > 0:
        return n_gpus
    return max(1, cores)


def detect_gpu_count(env: Mapping[str, str] | None = None, proc_dir: Path = PROC_NVIDIA_GPUS) -> int:
    """GPUs this process could use, found without importing TensorFlow or CUDA:
    the entries of ``CUDA_VISIBLE_DEVICES`` when set, else the NVIDIA driver's
    ``/proc`` listing, else 0."""
    env = os.environ if env is None else env
    gpus = visible_gpus(env)
    if gpus is not None:
        return len(gpus)
    try:
        return sum(1 for _ in proc_dir.iterdir()) if proc_dir.is_dir() else 0
    except OSError:
        return 0


def xdist_auto_num_workers(env: Mapping[str, str] | None = None, proc_dir: Path = PROC_NVIDIA_GPUS) -> int:
    """For a ``pytest_xdist_auto_num_workers(config)`` hook in ``conftest.py``:
    runs in the controller, so it must not import TensorFlow."""
    return auto_workers(available_cores(), detect_gpu_count(env, proc_dir))


def configure_environment(env: MutableMapping[str, str] = os.environ) -> dict:
    """Everything :func:`configure` decides, set as environment variables only (GPU
    pinning, thread counts TF and OpenMP read when they start, the log level), with no
    TensorFlow import: for a process that may never train (the harness's own tests).
    A later :func:`configure` in the same process finishes the job."""
    index = worker_index(env)
    gpu = assign_gpu(env)
    if gpu is None and index is not None and visible_gpus(env) is None:
        n = detect_gpu_count(env)
        if n:
            gpu = assign_gpu({**env, "CUDA_VISIBLE_DEVICES": ",".join(str(i) for i in range(n))})
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    threads = threads_per_worker(available_cores(), worker_count(env))
    ours = set(filter(None, env.get(_DEFAULTED, "").split(",")))
    for name in _THREAD_VARS:
        if name not in env or name in ours:
            env[name] = str(threads)
            ours.add(name)
    env[_DEFAULTED] = ",".join(sorted(ours))
    quiet_tensorflow_logs(env)
    return {"worker": env.get("PYTEST_XDIST_WORKER"), "worker_index": index, "worker_count": worker_count(env),
            "cuda_visible_devices": env.get("CUDA_VISIBLE_DEVICES"), "threads": threads,
            "tensorflow_imported": False}


def configure(env: MutableMapping[str, str] = os.environ) -> dict:
    """Pin this worker to its GPU and its share of the cores, then set up TF.

    Call it before anything imports TensorFlow (e.g. first thing in
    ``conftest.py``): CUDA reads ``CUDA_VISIBLE_DEVICES`` once, when it
    initialises, and TF sizes its thread pools once.  Pass ``os.environ`` (the
    default) for it to take effect; another mapping only records the decision.
    Returns what was set, for the report.
    """
    decided = configure_environment(env)
    index, threads = decided["worker_index"], decided["threads"]
    quiet = quiet_tensorflow_logs(env)  # idempotent: says whether the level is ours
    intra = _positive_int(env.get("TF_NUM_INTRAOP_THREADS"), threads)
    inter = _positive_int(env.get("TF_NUM_INTEROP_THREADS"), threads)

    # only here: the settings above must precede it
    tf = import_tensorflow(quiet=quiet and env is os.environ)

    threading_applied = True
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:
        # TF was already initialised (something imported and used it first);
        # the env vars above may still have been read, but the calls are refused.
        threading_applied = False

    physical = tf.config.list_physical_devices("GPU")
    growth = bool(physical)
    for device in physical:
        # Without memory growth every process reserves (almost) the whole card
        # up front; tiny MLPs need a few MB, and other processes may share it.
        try:
            tf.config.experimental.set_memory_growth(device, True)
        except (RuntimeError, ValueError):  # GPU already initialised
            growth = False

    return {
        "worker": env.get("PYTEST_XDIST_WORKER"),
        "worker_index": index,
        "worker_count": worker_count(env),
        "cuda_visible_devices": env.get("CUDA_VISIBLE_DEVICES"),
        "gpus": len(physical),
        "intra_op_threads": intra,
        "inter_op_threads": inter,
        "omp_num_threads": env.get("OMP_NUM_THREADS"),
        "threading_applied": threading_applied,
        "memory_growth": growth,
    }


# Set by configure() when TF_CPP_MIN_LOG_LEVEL is its default, not the user's: a
# worker inherits the controller's environment and must not take it for the user's.
_LOG_DEFAULTED = "HARNESS_TF_LOG_DEFAULTED"

# What TensorFlow 2.21 prints to stderr at import, before absl's logging is
# initialised (so TF_CPP_MIN_LOG_LEVEL, read later, cannot filter it; the
# oneDNN notice comes twice, once per shared library).  Only these exact lines
# are dropped, and only while the log level is ours.
_IMPORT_NOISE = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"),
    re.compile(r"^I\d{4} [\d:.]+\s+\d+ port\.cc:\d+\] oneDNN custom operations are on\."),
)


def quiet_tensorflow_logs(env: MutableMapping[str, str] = os.environ) -> bool:
    """Default TensorFlow's C++ log level to 3 (FATAL only) unless the user set one.

    Level 2 (no INFO/WARNING) is not enough: every worker then still prints
    "E0000 ... node_def_util.cc] NodeDef mentions attribute
    use_unbounded_threadpool which is not in the op definition" (a Keras 3
    tf.data map built for a newer op; harmless) through its ERROR level.
    Python exceptions still carry TensorFlow's errors.  Returns True when the
    level is ours (then :func:`import_tensorflow` may also drop the import-time
    notices the level cannot reach)."""
    if "TF_CPP_MIN_LOG_LEVEL" in env and env.get(_LOG_DEFAULTED) != "1":
        return False  # the user's choice
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env[_LOG_DEFAULTED] = "1"
    return True


def import_tensorflow(quiet: bool = True):
    """``import tensorflow``; with ``quiet``, the import's known notices (see
    ``_IMPORT_NOISE``) are dropped from stderr and every other line is passed on.

    The C++ code writes to file descriptor 2 directly, so sys.stderr cannot catch
    it: fd 2 points at a temporary file during the import only, then the file's
    lines go back to the real stderr (all of them if the import raised)."""
    import sys

    if not quiet or "tensorflow" in sys.modules:
        import tensorflow as tf

        return tf
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    failed = True
    with tempfile.TemporaryFile() as capture:
        try:
            os.dup2(capture.fileno(), 2)
            import tensorflow as tf

            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode("utf-8", "replace").splitlines(keepends=True)
            kept = [ln for ln in lines if failed or not any(p.match(ln) for p in _IMPORT_NOISE)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
    return tf


def _positive_int(value: str | None, default: int) -> int:
    try:
        n = int(value) if value is not None else default
    except ValueError:
        return default
    return n if n > 0 else default
