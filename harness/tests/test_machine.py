"""The machine on the record: the CPU and its float-math instruction sets, the threads that trained and the
GPU stack, recorded in the results, the certificate and the cell records, never keyed on; the report says
when the certificate was made on other hardware.  All on constructed evidence."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from harness import results as res
from harness.certification import certificate
from harness.maintainer import cells
from harness.report.about_run import environment_section
from harness.report.engine import certificate_section
from harness.report.hardware import hardware_difference, machine_text
from harness.report.render import section
from harness.tests import test_certificate as certs
from harness.training import devices, environment, machine, records

ROOT = Path(__file__).resolve().parents[2]

X86 = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8480+
stepping\t: 8
flags\t\t: fpu vme sse sse2 pni ssse3 fma sse4_1 sse4_2 aes avx f16c smep avx2 avx512f avx512_bf16 amx_tile

processor\t: 1
model name\t: another core, never read
flags\t\t: fpu
"""
ARM = """processor\t: 0
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes pmull sha1 sve sve2 bf16 i8mm
CPU implementer\t: 0x41
CPU part\t: 0xd4f
"""

HERE = res.Machine(cpu="Intel(R) Xeon(R) Processor (cpu family 6, model 143, stepping 8)",
                   cpu_flags=("avx", "avx2", "avx512f", "fma", "sse4_2"), cores=2, workers=2, intra_op_threads=1,
                   inter_op_threads=1, omp_num_threads="1")


def test_cpuinfo_gives_the_model_and_only_the_float_math_flags():
    model, flags = machine.parse_cpuinfo(X86)
    assert model == "Intel(R) Xeon(R) Platinum 8480+ (cpu family 6, model 143, stepping 8)"
    assert flags == ("amx_tile", "avx", "avx2", "avx512_bf16", "avx512f", "f16c", "fma", "pni", "sse", "sse2",
                     "sse4_1", "sse4_2", "ssse3")  # not fpu, vme, aes, nor x86's smep (no Arm "sme")
    model, flags = machine.parse_cpuinfo(ARM)
    assert model == "CPU implementer 0x41, CPU part 0xd4f"  # no model name: the numbers name the core
    assert flags == ("asimd", "bf16", "fp", "i8mm", "sve", "sve2")
    assert machine.parse_cpuinfo("") == ("", ())


def test_without_cpuinfo_the_model_comes_from_platform_and_nothing_fails(tmp_path):
    model, flags = machine.cpu(tmp_path / "no-cpuinfo")
    assert model and flags == ()


def test_threads_are_each_workers_share_or_this_processes(monkeypatch):
    monkeypatch.setattr(devices, "available_cores", lambda: 8)
    env = {}
    devices.configure_environment(env)  # the controller: every core, defaulted (a worker recomputes it)
    assert machine.threads(env, workers=4) == {"workers": 4, "intra_op_threads": 2, "inter_op_threads": 2,
                                               "omp_num_threads": "2"}
    assert env["TF_NUM_INTRAOP_THREADS"] == "8"  # worked out on a copy: this process keeps its own
    user = {"TF_NUM_INTRAOP_THREADS": "3"}  # the user's setting: every worker keeps it
    assert machine.threads(user, workers=4)["intra_op_threads"] == 3
    assert machine.threads(env, pools=(5, 0)) == {"workers": 1, "intra_op_threads": 5, "inter_op_threads": 8,
                                                  "omp_num_threads": "8"}  # 0: TF's default, the variable says
    assert machine.threads({}, pools=(0, 0))["intra_op_threads"] == 0  # TF's default, every core


def test_the_gpu_driver_is_best_effort(tmp_path, monkeypatch):
    proc = tmp_path / "version"
    proc.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n")
    monkeypatch.setattr(machine.shutil, "which", lambda name: None)  # no nvidia-smi
    assert machine.gpu_driver(proc) == "535.104.05"
    assert machine.gpu_driver(tmp_path / "absent") is None
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 550.54.15\n")
    smi.chmod(0o755)
    monkeypatch.setattr(machine.shutil, "which", lambda name: str(smi))
    assert machine.gpu_driver(tmp_path / "absent-2") == "550.54.15"
    smi.write_text("#!/bin/sh\nexit 9\n")  # a failing nvidia-smi: the kernel module's version
    again = tmp_path / "version-again"  # another path: the answer is cached per path
    again.write_text(proc.read_text())
    assert machine.gpu_driver(again) == "535.104.05"


def test_the_gpu_stack_is_recorded_only_on_a_gpu(monkeypatch):
    monkeypatch.setattr(machine, "gpu_driver", lambda: "550.54.15")
    cpu_only = machine.describe({})
    assert "cuda" not in cpu_only and cpu_only["cores"] == devices.available_cores()
    gpu = machine.describe({}, gpu_build={"cuda_version": "12.5.1", "cudnn_version": "9", "is_cuda_build": True})
    assert (gpu["cuda"], gpu["cudnn"], gpu["gpu_driver"]) == ("12.5.1", "9", "550.54.15")
    assert res.as_type(res.Machine, gpu, "machine").cuda == "12.5.1"


def test_the_machine_is_recorded_but_never_in_the_fingerprint():
    env = {**certs.ENV, "machine": dataclasses.asdict(HERE)}
    other = {**env, "machine": {**env["machine"], "cpu": "AMD EPYC 7763", "cpu_flags": ["avx2"]}}
    assert environment.fingerprint(other) == environment.fingerprint(env)
    assert environment.fingerprint({**env, "numpy": "1.26.4"}) != environment.fingerprint(env)  # versions key


def test_results_carry_the_machine_and_older_results_have_none():
    results = res.Results(claims=(res.ClaimResult(id="c", verdict=res.Verdict.SUPPORTED),),
                          environment=res.Environment(fingerprint="fp", machine=HERE))
    back = res.decode(res.encode(results))
    assert back.environment.machine == HERE and isinstance(back.environment.machine.cpu_flags, tuple)
    from harness.tests.test_report import trimmed_results  # a real run's file, from before the record

    assert trimmed_results()[0].environment.machine is None


def test_certificates_with_and_without_a_machine_load_and_say_which(tmp_path):
    here = {**certs.ENV, "machine": dataclasses.asdict(HERE)}
    old = certificate.load(certificate.write(certs._build(), tmp_path / "old"), here, certs.NAMES)
    assert old.for_results()["machine"] is None  # made before the record: still valid, and says so
    other = {**here, "machine": {**here["machine"], "cpu_flags": ["avx", "avx2", "fma", "sse4_2"]}}
    made = certificate.load(certificate.write(certs._build(other), tmp_path / "new"), here, certs.NAMES)
    assert res.as_type(res.Machine, made.for_results()["machine"], "machine") == dataclasses.replace(
        HERE, cpu_flags=("avx", "avx2", "fma", "sse4_2"))  # another machine's certificate: loaded, not keyed


def test_the_report_says_when_the_certificate_was_made_on_other_hardware():
    assert hardware_difference(HERE, HERE).startswith("this run's CPU and instruction sets")
    assert "other hardware" not in hardware_difference(HERE, HERE)
    fewer = dataclasses.replace(HERE, cpu_flags=("avx", "avx2", "fma", "sse4_2"))
    assert hardware_difference(HERE, fewer) == ("the certificate was made on other hardware: instruction sets "
                                                "only there: avx512f")
    amd = dataclasses.replace(HERE, cpu="AMD EPYC 7763", cpu_flags=HERE.cpu_flags + ("sse4a",))
    assert hardware_difference(HERE, amd) == (f"the certificate was made on other hardware: CPU {HERE.cpu} there, "
                                              "AMD EPYC 7763 here; only here: sse4a")
    threads = dataclasses.replace(HERE, workers=1, intra_op_threads=2)  # threads are shown, not hardware
    assert "other hardware" not in hardware_difference(HERE, threads)
    assert hardware_difference(None, HERE).startswith("not recorded")
    assert "this run's machine is not recorded" in hardware_difference(HERE, None)

    from harness.tests.test_report import _certificate

    page = section(certificate_section, dataclasses.replace(_certificate(), machine=HERE), fewer)
    assert "<dt>made on</dt><dd>the certificate was made on other hardware: instruction sets only there: " \
           "avx512f</dd>" in page
    assert "<dt>made on</dt><dd>not recorded" in section(certificate_section, _certificate(), HERE)


def test_the_environment_section_shows_the_machine_in_words():
    gpu = dataclasses.replace(HERE, cuda="12.5.1", cudnn="9", gpu_driver="550.54.15")
    text = machine_text(gpu)
    assert text == (f"{HERE.cpu}; instruction sets: avx avx2 avx512f fma sse4_2; 2 cores; 2 training processes, "
                    "each with TF threads intra-op 1, inter-op 1, OMP_NUM_THREADS 1; CUDA 12.5.1, cuDNN 9, "
                    "driver 550.54.15")
    assert "CUDA" not in machine_text(HERE) and machine_text(None) == "not recorded"
    assert "intra-op TF&#39;s default" in section(environment_section, 
        "s", "v", res.Environment(fingerprint="fp", machine=dataclasses.replace(HERE, intra_op_threads=0)))
    assert "<th>machine</th><td>not recorded</td>" in section(environment_section, "s", "v", res.Environment(fingerprint="fp"))


def test_cell_records_carry_the_machine_and_older_ones_load(tmp_path):
    cell = res.Cell(env="py311-tf221-k3-cpu", status="not run", reason="install failed", machine=HERE)
    path = tmp_path / "cell.json"
    path.write_text(res.encode(cell), encoding="utf-8")
    assert cells.load(path).machine == HERE
    data = records.loads((ROOT / "reports" / "cells" / "py311-tf221-k3new-cpu.json").read_text(encoding="utf-8"))
    data.pop("machine", None)  # a record from before machines were recorded
    path.write_text(records.dumps(data), encoding="utf-8")
    assert cells.load(path).machine is None and cells.load(path).summary is not None


@pytest.mark.skipif(not os.path.exists("/proc/cpuinfo"), reason="Linux only")
def test_this_machine_is_described():
    model, flags = machine.cpu()
    assert model and flags  # every x86-64 and aarch64 Linux lists some float-math flags
