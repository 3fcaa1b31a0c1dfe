"""harness.training.devices: worker -> GPU / thread assignment, from faked environments."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.training import devices
from harness.training.devices import (
    assign_gpu, auto_workers, threads_per_worker, visible_gpus, worker_count, worker_index,
    xdist_auto_num_workers,
)

REPO = Path(__file__).resolve().parents[2]


def xdist(i: int, n: int, cuda: str | None = None) -> dict:
    env = {"PYTEST_XDIST_WORKER": f"gw{i}", "PYTEST_XDIST_WORKER_COUNT": str(n)}
    if cuda is not None:
        env["CUDA_VISIBLE_DEVICES"] = cuda
    return env


def test_module_does_not_import_tensorflow():
    code = "import sys, harness.training.devices; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------ worker identity

@pytest.mark.parametrize("value, expected", [("gw0", 0), ("gw3", 3), ("gw12", 12)])
def test_worker_index(value, expected):
    assert worker_index({"PYTEST_XDIST_WORKER": value}) == expected


@pytest.mark.parametrize("env", [{}, {"PYTEST_XDIST_WORKER": ""}, {"PYTEST_XDIST_WORKER": "master"}])
def test_worker_index_outside_xdist(env):
    assert worker_index(env) is None


def test_worker_count():
    assert worker_count({"PYTEST_XDIST_WORKER_COUNT": "4"}) == 4
    assert worker_count({}) is None
    assert worker_count({"PYTEST_XDIST_WORKER_COUNT": "lots"}) is None
    assert worker_count({"PYTEST_XDIST_WORKER_COUNT": "0"}) is None


# ------------------------------------------------------------ visible GPUs

@pytest.mark.parametrize("value, expected", [
    ("0,1,3", ["0", "1", "3"]),
    ("2", ["2"]),
    (" 0, 1 ", ["0", "1"]),
    ("GPU-8f3a,GPU-11b2", ["GPU-8f3a", "GPU-11b2"]),
    ("", []),
    ("-1", []),
    ("0,-1,1", ["0"]),  # CUDA stops at the first invalid entry
])
def test_visible_gpus(value, expected):
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": value}) == expected


def test_visible_gpus_unset_is_unknown():
    assert visible_gpus({}) is None


# ------------------------------------------------------------ GPU assignment

def test_round_robin_over_two_gpus_four_workers():
    assert [assign_gpu(xdist(i, 4, "0,1")) for i in range(4)] == ["0", "1", "0", "1"]


def test_round_robin_over_three_gpus_six_workers():
    assert [assign_gpu(xdist(i, 6, "2,5,7")) for i in range(6)] == ["2", "5", "7", "2", "5", "7"]


def test_worker_5_of_two_gpus():
    assert assign_gpu(xdist(5, 6, "0,1")) == "1"


def test_no_xdist_leaves_gpus_alone():
    assert assign_gpu({"CUDA_VISIBLE_DEVICES": "0,1"}) is None


@pytest.mark.parametrize("cuda", ["", "-1"])
def test_hidden_gpus_stay_hidden(cuda):
    assert assign_gpu(xdist(1, 2, cuda)) is None


def test_unknown_gpus_are_not_assigned():
    assert assign_gpu(xdist(1, 2)) is None


# ------------------------------------------------------------ threads and workers

@pytest.mark.parametrize("cores, workers, expected", [
    (2, 2, 1), (16, 4, 4), (16, 3, 5), (2, 8, 1), (8, None, 8), (1, None, 1),
])
def test_threads_per_worker(cores, workers, expected):
    assert threads_per_worker(cores, workers) == expected


@pytest.mark.parametrize("cores, gpus, expected", [(16, 0, 16), (16, 4, 4), (1, 0, 1), (0, 0, 1), (2, 8, 8)])
def test_auto_workers(cores, gpus, expected):
    assert auto_workers(cores, gpus) == expected


def test_xdist_auto_num_workers_counts_cuda_visible_devices(monkeypatch):
    monkeypatch.setattr(devices, "available_cores", lambda: 16)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2")
    assert xdist_auto_num_workers() == 3
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert xdist_auto_num_workers() == 16


def test_xdist_auto_num_workers_reads_proc_listing(monkeypatch, tmp_path):
    monkeypatch.setattr(devices, "available_cores", lambda: 16)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    proc = tmp_path / "gpus"
    proc.mkdir()
    for bus in ("0000:17:00.0", "0000:65:00.0"):
        (proc / bus).mkdir()
    assert xdist_auto_num_workers(proc_dir=proc) == 2
    assert xdist_auto_num_workers(proc_dir=tmp_path / "absent") == 16


# ------------------------------------------------------------ configure (imports TF)

def test_configure_in_worker_subprocess():
    code = textwrap.dedent("""
        import json, os
        from harness.training import devices
        report = devices.configure()
        report["_cores"] = devices.available_cores()
        report["_env"] = {k: os.environ.get(k) for k in (
            "CUDA_VISIBLE_DEVICES", "TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "TF_CPP_MIN_LOG_LEVEL")}
        print("REPORT" + json.dumps(report))
    """)
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                        "TF_CPP_MIN_LOG_LEVEL", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT",
                        devices._DEFAULTED)}
    env.update(PYTEST_XDIST_WORKER="gw1", PYTEST_XDIST_WORKER_COUNT="2", CUDA_VISIBLE_DEVICES="3,4")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    # TensorFlow's C++ notices stay out of every worker's output (the level is ours: the user set none)
    assert "oneDNN custom operations" not in out.stderr and "absl::InitializeLog" not in out.stderr, out.stderr
    line = next(l for l in out.stdout.splitlines() if l.startswith("REPORT"))
    report = json.loads(line[len("REPORT"):])

    threads = max(1, report["_cores"] // 2)
    assert report["_cores"] <= (os.cpu_count() or 1)
    assert report["cuda_visible_devices"] == "4"
    assert report["worker"] == "gw1"
    assert report["intra_op_threads"] == threads
    assert report["inter_op_threads"] == threads
    assert report["threading_applied"] is True
    assert isinstance(report["memory_growth"], bool)
    assert report["_env"] == {"CUDA_VISIBLE_DEVICES": "4", "TF_NUM_INTRAOP_THREADS": str(threads),
                              "OMP_NUM_THREADS": str(threads), "TF_CPP_MIN_LOG_LEVEL": "3"}


@pytest.fixture
def fake_tf(monkeypatch):
    """configure()'s env-var decisions only: TF replaced by a recording stub, 16 cores."""
    import types

    calls = []
    fake = types.ModuleType("tensorflow")
    fake.config = types.SimpleNamespace(
        threading=types.SimpleNamespace(
            set_intra_op_parallelism_threads=lambda n: calls.append(("intra", n)),
            set_inter_op_parallelism_threads=lambda n: calls.append(("inter", n)),
        ),
        list_physical_devices=lambda kind: ["gpu0"],
        experimental=types.SimpleNamespace(set_memory_growth=lambda d, on: calls.append(("growth", d, on))),
    )
    monkeypatch.setitem(sys.modules, "tensorflow", fake)
    monkeypatch.setattr(devices, "available_cores", lambda: 16)
    return calls


def test_configure_respects_user_thread_settings(fake_tf):
    env = {**xdist(2, 4, "0,1"), "TF_NUM_INTRAOP_THREADS": "3"}
    report = devices.configure(env)
    assert env["CUDA_VISIBLE_DEVICES"] == "0"
    assert env["TF_NUM_INTRAOP_THREADS"] == "3"  # the user's value wins
    assert env["TF_NUM_INTEROP_THREADS"] == env["OMP_NUM_THREADS"] == "4"
    assert report["intra_op_threads"] == 3 and report["inter_op_threads"] == 4
    assert report["memory_growth"] is True
    assert fake_tf == [("intra", 3), ("inter", 4), ("growth", "gpu0", True)]


def test_worker_recomputes_threads_the_controller_defaulted(fake_tf):
    # The xdist controller runs configure() first (whole machine: 16 threads);
    # its workers inherit that environment and must still take only their share.
    controller = {"CUDA_VISIBLE_DEVICES": "0,1", "OMP_NUM_THREADS": "5"}
    assert devices.configure(controller)["intra_op_threads"] == 16
    assert controller["CUDA_VISIBLE_DEVICES"] == "0,1"  # the controller is not pinned
    worker = {**controller, **xdist(1, 4)}
    report = devices.configure(worker)
    assert report["intra_op_threads"] == report["inter_op_threads"] == 4
    assert worker["TF_NUM_INTRAOP_THREADS"] == worker["TF_NUM_INTEROP_THREADS"] == "4"
    assert worker["OMP_NUM_THREADS"] == "5"  # the user's, kept through both
    assert worker["CUDA_VISIBLE_DEVICES"] == "1"
