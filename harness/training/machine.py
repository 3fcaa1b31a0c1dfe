"""The hardware a run's numbers depend on: recorded beside the environment, never keyed on.

Two machines of one environment fingerprint (the same Python, TensorFlow, Keras, NumPy, scikit-learn) can
train other per-seed runs of a chaotic configuration: the CPU's vector instructions (SSE, AVX, FMA,
AVX-512, AMX) choose oneDNN's and Eigen's kernels, and the thread counts choose how sums are split.  So
the results, certificates and cell records say what they ran on.  Nothing here keys the run store or the
fingerprint (a new machine would retrain everything), and nothing here may fail a run: every probe is
best effort and says "" or None where it learns nothing.

Stdlib only (plus :mod:`.devices`, stdlib at import time): the caller that has TensorFlow passes in what
only TensorFlow knows (its thread pools, its CUDA and cuDNN build).
"""
from __future__ import annotations

import functools
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import Mapping

from . import devices

CPUINFO = Path("/proc/cpuinfo")
NVIDIA_VERSION = Path("/proc/driver/nvidia/version")

# The instruction sets float math is compiled for, by the line that lists them: x86's "flags" (SSE3 is
# "pni" there) and Arm's "Features" (their names overlap: x86's "smep" is no Arm "sme").
_FLOAT_FLAGS = {"flags": re.compile(r"^(sse\w*|ssse3|pni|avx\w*|fma\w*|f16c|amx\w*)$"),
                "Features": re.compile(r"^(fp|fphp|asimd\w*|sve\w*|sme\w*|bf16|i8mm)$")}
_MODEL_KEYS = ("model name", "Hardware", "Processor", "cpu model")  # x86; some Arm, s390 kernels
# The numbers that name the microarchitecture where the model name is generic (a VM's "Intel(R) Xeon(R)
# Processor"): x86's family, model and stepping, Arm's implementer and part.
_ID_KEYS = ("cpu family", "model", "stepping", "CPU implementer", "CPU part")


def parse_cpuinfo(text: str) -> tuple[str, tuple[str, ...]]:
    """(model, float-math flags) of the first processor in ``/proc/cpuinfo``'s text (all cores of one
    machine report the same); ("", ()) for what it does not say."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip()
        if sep and key not in fields:
            fields[key] = value.strip()
    name = next((fields[k] for k in _MODEL_KEYS if fields.get(k)), "")
    ids = ", ".join(f"{k} {fields[k]}" for k in _ID_KEYS if fields.get(k))
    model = f"{name} ({ids})" if name and ids else name or ids
    key = next((k for k in _FLOAT_FLAGS if k in fields), None)
    flags = fields[key].split() if key else []
    return model, tuple(sorted({f for f in flags if _FLOAT_FLAGS[key].match(f)}))


@functools.lru_cache(maxsize=None)
def cpu(cpuinfo: Path = CPUINFO) -> tuple[str, tuple[str, ...]]:
    """This machine's CPU model and float-math flags; off Linux the model ``platform`` knows, no flags."""
    try:
        model, flags = parse_cpuinfo(cpuinfo.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        model, flags = "", ()
    return model or platform.processor() or platform.machine(), flags


def threads(env: Mapping[str, str], workers: int | None = None,
            pools: tuple[int | None, int | None] = (None, None)) -> dict:
    """The thread counts the training processes ran with.

    With ``workers`` (the processes that trained side by side: xdist workers, certify's Keras workers):
    what :func:`harness.training.devices.configure_environment` gives each of them, worked out on a copy of
    ``env``.  Without: this process's, ``pools`` being TensorFlow's own intra- and inter-op settings (0:
    TensorFlow's default, every core) where the caller has TensorFlow, else the variables TF reads."""
    if workers:
        env = dict(env, PYTEST_XDIST_WORKER="gw0", PYTEST_XDIST_WORKER_COUNT=str(workers))
        devices.configure_environment(env)  # sets this copy's thread variables as a worker's
        pools = (None, None)
    intra, inter = pools
    return {"workers": workers or 1,
            "intra_op_threads": intra if intra else _int(env.get("TF_NUM_INTRAOP_THREADS"), intra),
            "inter_op_threads": inter if inter else _int(env.get("TF_NUM_INTEROP_THREADS"), inter),
            "omp_num_threads": env.get("OMP_NUM_THREADS")}


@functools.lru_cache(maxsize=None)
def gpu_driver(proc_version: Path = NVIDIA_VERSION) -> str | None:
    """The NVIDIA driver's version: ``nvidia-smi``'s, else the kernel module's; None where neither says."""
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "--query-gpu=driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=20)
            first = out.stdout.strip().splitlines()[0].strip() if out.returncode == 0 and out.stdout.strip() else ""
            if first:
                return first
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        match = re.search(r"Kernel Module\s+(\S+)", proc_version.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    return match.group(1) if match else None


def describe(env: Mapping[str, str], *, workers: int | None = None,
             pools: tuple[int | None, int | None] = (None, None), gpu_build: Mapping | None = None) -> dict:
    """This machine as :class:`harness.results.Machine`'s fields.  ``gpu_build``: TensorFlow's build
    information (``tf.sysconfig.get_build_info()``) when the run trains on a GPU, else None (no GPU
    fields)."""
    model, flags = cpu()
    out = {"cpu": model, "cpu_flags": list(flags), "cores": devices.available_cores(),
           **threads(env, workers, pools)}
    if gpu_build is not None:
        out.update(cuda=_text(gpu_build.get("cuda_version")), cudnn=_text(gpu_build.get("cudnn_version")),
                   gpu_driver=gpu_driver())
    return out


def _int(value: str | None, default: int | None) -> int | None:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _text(value) -> str | None:
    return None if value is None else str(value)
