"""``python -m harness bench --cold-suite``: the README's first line, timed as a
new user meets it: a fresh clone of this commit, no run store, no venv, no
cache, then the line exactly as the README writes it.  The seconds land in
``reports/bench.json`` as ``cold_suite_seconds`` beside the machine's
description."""
from __future__ import annotations

import functools
import os
import platform
import re
import subprocess
import tempfile
import time
from pathlib import Path

from harness.training.devices import available_cores  # stdlib-only, as .ci/run needs (bare system python)

ROOT = Path(__file__).resolve().parents[2]


def quick_start(readme: Path = ROOT / "README.md") -> list[str]:
    """The two command lines of the README's quick start (the first ``` block after '## Quick start')."""
    text = readme.read_text(encoding="utf-8")
    match = re.search(r"^## Quick start\n.*?^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M)
    if not match:
        raise ValueError(f"{readme}: no ``` block under '## Quick start'")
    lines = [ln for ln in match.group(1).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) != 2:
        raise ValueError(f"{readme}: the quick start should hold two command lines, found {len(lines)}")
    return lines


@functools.lru_cache(maxsize=None)
def _cpu_model() -> str:
    """The CPU's brand string (py-cpuinfo: slow, so once); "unknown" where it says none."""
    import cpuinfo  # local: .ci/run imports this module with a bare python for quick_start

    try:
        return cpuinfo.get_cpu_info().get("brand_raw") or "unknown"
    except Exception:  # py-cpuinfo probes the CPU many ways; a measurement never fails on its label
        return "unknown"


def machine() -> dict:
    import psutil  # local, as cpuinfo

    return {"cores": available_cores(), "cpu": _cpu_model(),
            "memory_gib": round(psutil.virtual_memory().total / 2 ** 30, 1),
            "platform": platform.platform(), "python": platform.python_version()}


def run_cold_suite() -> dict:
    """Clone HEAD into a temporary folder and run the README's first line there."""
    line = quick_start()[0]
    with tempfile.TemporaryDirectory(prefix="lesson-claims-cold-") as tmp:
        clone = Path(tmp) / "lesson-claims"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                      if not p.startswith(os.environ.get("VIRTUAL_ENV", "\0")))
        start = time.perf_counter()
        res = subprocess.run(["bash", "-c", line], cwd=clone, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        tail = res.stdout[-2000:]  # pytest's summary; TensorFlow's C++ notices go to stderr
    return {"command": line, "cold_suite_seconds": seconds, "exit_status": res.returncode,
            "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                     text=True).stdout.strip(), "machine": machine(), "output_tail": tail}
