"""The machine a run or a certificate was made on, in words, and whether the two differ.

Numerics depend on the CPU's instruction sets, not only on the versions the fingerprint holds: a
certificate checked on other hardware is still checked window by window, but the reader should know that
its references come from another machine."""
from __future__ import annotations

from harness.results.model import Machine

NOT_RECORDED = "not recorded"


def machine_text(m: Machine | None) -> str:
    """One line: CPU, its float-math instruction sets, cores, the threads that trained, and the GPU stack."""
    if m is None:
        return NOT_RECORDED
    intra = {0: "TF's default", None: "?"}.get(m.intra_op_threads, m.intra_op_threads)
    inter = {0: "TF's default", None: "?"}.get(m.inter_op_threads, m.inter_op_threads)
    parts = [m.cpu or "CPU unknown",
             "instruction sets: " + (" ".join(m.cpu_flags) or "not known"),
             f"{m.cores if m.cores is not None else '?'} cores",
             f"{m.workers or 1} training process{'es' if (m.workers or 1) > 1 else ''}, each with TF threads "
             f"intra-op {intra}, inter-op {inter}, OMP_NUM_THREADS {m.omp_num_threads or 'unset'}"]
    if m.cuda or m.cudnn or m.gpu_driver:
        parts.append(f"CUDA {m.cuda or '?'}, cuDNN {m.cudnn or '?'}, driver {m.gpu_driver or '?'}")
    return "; ".join(parts)


def hardware_difference(certificate: Machine | None, run: Machine | None) -> str:
    """Where the certificate was made, against this run's machine: the same CPU, other hardware (which CPU,
    which instruction sets only one side has), or not recorded."""
    if certificate is None:
        return f"{NOT_RECORDED} (the certificate predates the machine record)"
    if run is None:
        return f"{machine_text(certificate)}; this run's machine is {NOT_RECORDED}"
    differ = []
    if certificate.cpu != run.cpu:
        differ.append(f"CPU {certificate.cpu or 'unknown'} there, {run.cpu or 'unknown'} here")
    theirs, ours = set(certificate.cpu_flags), set(run.cpu_flags)
    if theirs - ours:
        differ.append("instruction sets only there: " + " ".join(sorted(theirs - ours)))
    if ours - theirs:
        differ.append("only here: " + " ".join(sorted(ours - theirs)))
    if not differ:
        return f"this run's CPU and instruction sets ({machine_text(certificate)})"
    return "the certificate was made on other hardware: " + "; ".join(differ)
