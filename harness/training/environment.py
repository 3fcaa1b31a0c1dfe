"""What this run ran on, and the fingerprint that keys the run store by it."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import sys


def device_name() -> str:
    """'cpu' or the GPU this process uses (after harness.devices pinned it)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "cpu"
    try:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"gpu:{details.get('device_name', gpus[0].name)}"
    except Exception:  # noqa: BLE001 - details are best effort
        return f"gpu:{gpus[0].name}"


def describe(workers: int | None = None) -> dict:
    """The versions and settings of this run, and the machine (:mod:`.machine`, not in the fingerprint);
    ``workers``: the processes that trained side by side, whose thread counts the machine records."""
    import matplotlib
    import numpy
    import scipy
    import sklearn
    import tensorflow as tf

    from . import compat, machine

    env = {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": f"{platform.system()}-{platform.machine()}",
        "tensorflow": tf.__version__,
        "keras": compat.keras_version(),
        "keras_major": compat.keras_major(),
        "legacy_keras": os.environ.get("TF_USE_LEGACY_KERAS") == "1",
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit_learn": sklearn.__version__,
        "matplotlib": matplotlib.__version__,
        "device": device_name(),
        "determinism": {"op_determinism": True, "seeding": "keras.utils.set_random_seed(seed) per run"},
    }
    env["machine"] = machine.describe(os.environ, workers=workers, pools=_thread_pools(tf),
                                      gpu_build=_build_info(tf) if env["device"].startswith("gpu") else None)
    env["fingerprint"] = fingerprint(env)
    return env


def _thread_pools(tf) -> tuple[int | None, int | None]:
    """TensorFlow's intra- and inter-op thread settings (0: its default); (None, None) where it cannot say."""
    try:
        return (tf.config.threading.get_intra_op_parallelism_threads(),
                tf.config.threading.get_inter_op_parallelism_threads())
    except Exception:  # noqa: BLE001 - recorded, never fatal
        return None, None


def _build_info(tf) -> dict:
    """The CUDA and cuDNN this TensorFlow was built with ({} where it does not say)."""
    try:
        return dict(tf.sysconfig.get_build_info())
    except Exception:  # noqa: BLE001 - recorded, never fatal
        return {}


def fingerprint(env: dict) -> str:
    """Versions that change numerics; a different fingerprint means new runs."""
    keys = ("python", "platform", "tensorflow", "keras", "legacy_keras", "numpy", "scikit_learn", "device")
    blob = json.dumps({k: env[k] for k in keys}, sort_keys=True).encode()
    short = f"tf{env['tensorflow']}-keras{env['keras']}-{'gpu' if env['device'].startswith('gpu') else 'cpu'}"
    return f"{short}-{hashlib.sha256(blob).hexdigest()[:8]}"
