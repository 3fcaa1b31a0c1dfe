"""harness.storage.store.RunStore with hand-made records (no training): round trips,
corruption, crash safety, cross-process locking, fresh mode, no pickle."""
import ast
import json
import math
import multiprocessing
import os
import re
import subprocess
import sys
import textwrap
import time
import tokenize
import warnings
from pathlib import Path

import pytest

from harness.training import records
from harness.storage import store as store_module
from harness.training.records import RunRecord
from harness.storage.store import RunStore, StoreWarning

REPO = Path(__file__).resolve().parents[2]
ENV = "tf2.21-keras3.15-cpu-deadbeef"
ENGINE = "keras"
FP = "fp-0123abcd"


def make_record(seed: int, fingerprint: str = FP, engine: str = ENGINE, tag: str = "") -> RunRecord:
    return RunRecord(
        experiment="circles_relu" + tag,
        fingerprint=fingerprint,
        seed=seed,
        engine=engine,
        epochs=3,
        history={"loss": [0.69 + seed, math.nan, math.inf], "val_loss": [0.7, -math.inf, 0.25 * seed]},
        metrics={"train_loss": math.nan, "test_accuracy": 0.5 + seed / 100, "first_nonfinite_epoch": 2,
                 "init_grad_max_abs": None},
        wall_seconds=0.125,
        device="cpu",
        extra={"note": "hand-made"},
    )


def canon(record: RunRecord) -> str:
    """A comparable form (NaN != NaN, so compare the strict-JSON text)."""
    return records.dumps(record.to_dict(), sort_keys=True)


class Computer:
    """A compute callback that counts its calls and the seeds it was asked for."""

    def __init__(self, fingerprint=FP, engine=ENGINE, tag=""):
        self.calls: list[list[int]] = []
        self.fingerprint, self.engine, self.tag = fingerprint, engine, tag

    def __call__(self, seeds):
        self.calls.append(list(seeds))
        return [make_record(s, self.fingerprint, self.engine, self.tag) for s in seeds]




@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "store", ENV, session="s1")


# ------------------------------------------------------------------ round trip

def test_write_then_read_round_trips_nonfinite_values(store):
    rec = make_record(7)
    store.write(rec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = store.read(ENGINE, FP, 7)
    assert back is not None
    assert canon(back) == canon(rec)
    assert math.isnan(back.history["loss"][1])
    assert back.history["loss"][2] == math.inf
    assert back.history["val_loss"][1] == -math.inf
    assert math.isnan(back.metrics["train_loss"])
    assert back.metrics["init_grad_max_abs"] is None
    assert back.history["loss"][0] == rec.history["loss"][0]  # exact float, not rounded
    assert store.entry_path(ENGINE, FP, 7).name == "seed-7.json"


def test_read_missing_is_none_without_warning(store):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.read(ENGINE, FP, 0) is None


def test_get_or_compute_computes_once_then_reuses(store):
    compute = Computer()
    first = store.get_or_compute(ENGINE, FP, [2, 0, 1], compute)
    assert compute.calls == [[2, 0, 1]]
    assert [r.seed for r in first] == [2, 0, 1]
    again = store.get_or_compute(ENGINE, FP, [0, 1, 2, 3], compute)
    assert compute.calls == [[2, 0, 1], [3]]
    assert [canon(r) for r in again[:3]] == [canon(first[1]), canon(first[2]), canon(first[0])]


def test_get_or_compute_rejects_records_for_another_experiment(store):
    with pytest.raises(RuntimeError, match="expected"):
        store.get_or_compute(ENGINE, FP, [0], Computer(fingerprint="other"))
    with pytest.raises(RuntimeError, match="no record"):
        store.get_or_compute(ENGINE, FP, [0, 1], lambda seeds: [make_record(0)])


# ------------------------------------------------------------------ corruption

def _truncate(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty(path: Path):
    path.write_bytes(b"")


def _flip_digit_in_record(path: Path):
    # '"epochs": 3' -> '"epochs": 2': still valid JSON, only the checksum can tell
    text = path.read_text()
    assert text.count('"epochs": 3') == 1
    path.write_text(text.replace('"epochs": 3', '"epochs": 2'))


def _flip_bit_in_record(path: Path):
    # one bit of one character of the experiment name ('r' -> 's'): valid JSON
    data = bytearray(path.read_bytes())
    i = data.index(b"circles_relu") + len("circles_")
    data[i] ^= 0x01
    path.write_bytes(bytes(data))


def _flip_high_bit(path: Path):
    # a byte that is not UTF-8 any more
    data = bytearray(path.read_bytes())
    data[data.index(b"hand-made")] ^= 0x80
    path.write_bytes(bytes(data))


def _change_key(path: Path):
    # a self-consistent entry (checksum fine) whose key names another seed
    entry = json.loads(path.read_text())
    entry["key"]["seed"] = 99
    path.write_text(json.dumps(entry))


def _entry_of_another_seed(path: Path):
    # the entry of seed 0 copied over seed 1's file
    path.write_bytes((path.parent / "seed-0.json").read_bytes())


def _not_an_object(path: Path):
    path.write_text("[1, 2, 3]")


CORRUPTIONS = [_truncate, _empty, _flip_digit_in_record, _flip_bit_in_record, _flip_high_bit, _change_key,
               _entry_of_another_seed, _not_an_object]


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__.strip("_"))
def test_corrupt_entry_is_rejected_and_exactly_that_seed_recomputed(store, corrupt):
    compute = Computer()
    store.get_or_compute(ENGINE, FP, [0, 1, 2], compute)
    path = store.entry_path(ENGINE, FP, 1)
    corrupt(path)

    with pytest.warns(StoreWarning, match="seed-1.json"):
        assert store.read(ENGINE, FP, 1) is None

    with pytest.warns(StoreWarning) as caught:
        got = store.get_or_compute(ENGINE, FP, [0, 1, 2], compute)
    assert len(caught) == 1
    assert compute.calls == [[0, 1, 2], [1]]
    assert [canon(r) for r in got] == [canon(make_record(s)) for s in (0, 1, 2)]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert canon(store.read(ENGINE, FP, 1)) == canon(make_record(1))
        store.get_or_compute(ENGINE, FP, [0, 1, 2], compute)
    assert len(compute.calls) == 2


# ------------------------------------------------------------------ crash safety

def _tmp_files(directory: Path):
    return sorted(p.name for p in directory.rglob("*.tmp"))


@pytest.mark.parametrize("previous", [True, False], ids=["over-old-entry", "no-old-entry"])
def test_failed_replace_leaves_old_entry_and_no_tmp(store, monkeypatch, previous):
    old = make_record(3, tag="-old")
    if previous:
        store.write(old)

    def boom(src, dst):
        raise OSError("simulated crash at rename")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="simulated"):
        store.write(make_record(3, tag="-new"))
    monkeypatch.undo()

    path = store.entry_path(ENGINE, FP, 3)
    assert _tmp_files(store.root) == []
    if previous:
        assert canon(store.read(ENGINE, FP, 3)) == canon(old)
    else:
        assert not path.exists()


class _HalfWriter:
    """Wraps a file: writes half of what it is given, then 'crashes'."""

    def __init__(self, f):
        self._f = f

    def write(self, text):
        self._f.write(text[: len(text) // 2])
        self._f.flush()
        raise OSError("simulated crash mid-write")

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)


def test_crash_mid_write_leaves_old_entry_and_no_tmp(store, monkeypatch):
    old = make_record(4, tag="-old")
    store.write(old)
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: _HalfWriter(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="mid-write"):
        store.write(make_record(4, tag="-new"))
    monkeypatch.undo()
    assert _tmp_files(store.root) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert canon(store.read(ENGINE, FP, 4)) == canon(old)


def test_crash_inside_get_or_compute_keeps_other_entries(store, monkeypatch):
    store.get_or_compute(ENGINE, FP, [0], Computer(tag="-old"))
    real_replace = os.replace

    def replace_once_then_die(src, dst):
        if "seed-1" in str(dst):
            raise OSError("simulated crash at rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_once_then_die)
    with pytest.warns(StoreWarning, match="cannot be written .simulated crash at rename"):
        got = store.get_or_compute(ENGINE, FP, [0, 1], Computer(tag="-new"))
    monkeypatch.undo()
    assert [r.seed for r in got] == [0, 1]  # the run goes on with the record it could not store
    assert _tmp_files(store.root) == []
    assert canon(store.read(ENGINE, FP, 0)) == canon(make_record(0, tag="-old"))
    assert store.read(ENGINE, FP, 1) is None
    # the lock was released: a later call gets through and fills the gap
    compute = Computer()
    store.get_or_compute(ENGINE, FP, [0, 1], compute)
    assert compute.calls == [[1]]


def test_process_killed_mid_write_leaves_old_entry(store):
    # A real kill (no exception handler runs): os._exit between write and rename.
    old = make_record(5, tag="-old")
    store.write(old)
    code = textwrap.dedent(f"""
        import math, os
        from harness.storage.store import RunStore
        from harness.training.records import RunRecord
        os.fsync = lambda fd: os._exit(17)
        store = RunStore({str(store.root)!r}, {ENV!r}, session="s1")
        rec = RunRecord("circles_relu-new", {FP!r}, 5, {ENGINE!r}, 3, {{"loss": [1.0]}}, {{}})
        store.write(rec)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 17, out.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert canon(store.read(ENGINE, FP, 5)) == canon(old)
    # Only an orphaned temporary file can remain; it is never read as an entry.
    assert all(name.startswith(".seed-5.json.") for name in _tmp_files(store.root))
    compute = Computer()
    store.get_or_compute(ENGINE, FP, [5], compute)
    assert compute.calls == []


# ------------------------------------------------------------------ concurrency

def _concurrent_worker(root, counter, out, barrier):
    """Top level so that a 'spawn'ed child can import it."""
    store = RunStore(root, ENV, session="s1")

    def compute(seeds):
        with open(counter, "a") as f:
            f.write(f"{os.getpid()} {seeds}\n")
        time.sleep(0.5)
        return [make_record(s) for s in seeds]

    barrier.wait(timeout=60)
    got = store.get_or_compute(ENGINE, FP, [0, 1, 2], compute)
    Path(out).write_text(json.dumps([canon(r) for r in got]))


def test_concurrent_processes_compute_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    n = 4
    root, counter = tmp_path / "store", tmp_path / "counter.txt"
    barrier = ctx.Barrier(n)
    outs = [tmp_path / f"out-{i}.json" for i in range(n)]
    procs = [ctx.Process(target=_concurrent_worker, args=(str(root), str(counter), str(out), barrier))
             for out in outs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    for p in procs:
        if p.is_alive():
            p.terminate()
    assert [p.exitcode for p in procs] == [0] * n

    lines = counter.read_text().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith("[0, 1, 2]")
    results = [json.loads(out.read_text()) for out in outs]
    assert all(r == results[0] for r in results)
    assert results[0] == [canon(make_record(s)) for s in (0, 1, 2)]


# ------------------------------------------------------------------ fresh mode

def test_fresh_ignores_other_sessions_and_shares_its_own(tmp_path):
    root = tmp_path / "store"
    earlier = Computer(tag="-earlier")
    RunStore(root, ENV, session="yesterday").get_or_compute(ENGINE, FP, [0, 1], earlier)

    worker_a = RunStore(root, ENV, session="today", fresh=True)
    worker_b = RunStore(root, ENV, session="today", fresh=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stale is not corrupt: no warning
        assert worker_a.read(ENGINE, FP, 0) is None
        compute_a = Computer(tag="-today")
        got_a = worker_a.get_or_compute(ENGINE, FP, [0, 1], compute_a)
        assert compute_a.calls == [[0, 1]]
        assert [r.experiment for r in got_a] == ["circles_relu-today"] * 2

        compute_b = Computer(tag="-again")
        got_b = worker_b.get_or_compute(ENGINE, FP, [0, 1, 2], compute_b)
        assert compute_b.calls == [[2]]
        assert [r.experiment for r in got_b] == ["circles_relu-today"] * 2 + ["circles_relu-again"]

    # a non-fresh store takes whatever verified entry is there
    plain = RunStore(root, ENV, session="tomorrow")
    assert plain.read(ENGINE, FP, 0).experiment == "circles_relu-today"


# Regression test: fresh mode once silently reused entries when no session id was given.
def test_fresh_without_session_is_not_silently_stale(tmp_path):
    root = tmp_path / "store"
    RunStore(root, ENV).get_or_compute(ENGINE, FP, [0], Computer(tag="-earlier"))
    try:
        fresh = RunStore(root, ENV, fresh=True)
    except ValueError:
        return  # refusing a fresh store without a session is a fix too
    compute = Computer(tag="-now")
    fresh.get_or_compute(ENGINE, FP, [0], compute)
    assert compute.calls == [[0]]


# ------------------------------------------------------------------ no pickle, strict JSON

_UNSAFE = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "marshal", "joblib"}


@pytest.mark.parametrize("module", [store_module, records])
def test_no_pickle_in_source(module):
    path = Path(module.__file__)
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & _UNSAFE
    # and no use of the names in code (the docstring may say "No pickle")
    with path.open("rb") as f:
        names = {t.string for t in tokenize.tokenize(f.readline) if t.type == tokenize.NAME}
    assert not names & _UNSAFE
    assert not any("pickle" in n.lower() for n in names)


def _reject_constant(name):
    raise ValueError(f"non-strict JSON constant {name}")


def test_entry_is_strict_json(store):
    store.write(make_record(1))
    text = store.entry_path(ENGINE, FP, 1).read_text(encoding="utf-8")
    entry = json.loads(text, parse_constant=_reject_constant)
    assert set(entry) == {"key", "session", "sha256", "record"}
    assert entry["key"] == {"environment": ENV, "engine": ENGINE, "code": store.code_digest(ENGINE),
                            "suite": store_module.provenance.__version__, "fingerprint": FP, "seed": 1}
    assert entry["session"] == "s1"
    assert len(entry["sha256"]) == 64
    assert entry["record"]["history"]["loss"][1:] == ["NaN", "Infinity"]
    assert entry["record"]["history"]["val_loss"][1] == "-Infinity"
    assert entry["record"]["metrics"]["train_loss"] == "NaN"


def test_entry_is_readable_by_others(store):
    # mkstemp creates 0600 files; an entry in a shared cache must not stay that way
    store.write(make_record(1))
    assert store.entry_path(ENGINE, FP, 1).stat().st_mode & 0o044 == 0o044


def test_entries_are_keyed_by_the_code_that_trained_them(tmp_path):
    """A record trained by other code (engine, data, models, compat, experiments, suite
    version) is never read: the changed code recomputes, and the old code's entries stay its own."""
    root = tmp_path / "store"
    old = RunStore(root, ENV, code_digest=lambda engine: "a" * 64)
    old.get_or_compute(ENGINE, FP, [0, 1], Computer(tag="-old"))
    new = RunStore(root, ENV, code_digest=lambda engine: "b" * 64)
    compute = Computer(tag="-new")
    got = new.get_or_compute(ENGINE, FP, [0, 1], compute)
    assert compute.calls == [[0, 1]] and all(r.experiment.endswith("-new") for r in got)
    back = RunStore(root, ENV, code_digest=lambda engine: "a" * 64)
    assert back.read(ENGINE, FP, 0).experiment.endswith("-old")


def test_entry_copied_under_other_code_fails_its_key(tmp_path):
    root = tmp_path / "store"
    a = RunStore(root, ENV, code_digest=lambda engine: "a" * 64)
    b = RunStore(root, ENV, code_digest=lambda engine: "b" * 64)
    a.write(make_record(0))
    target = b.entry_path(ENGINE, FP, 0)
    target.parent.mkdir(parents=True)
    target.write_text(a.entry_path(ENGINE, FP, 0).read_text())
    with pytest.warns(StoreWarning, match="key or checksum mismatch"):
        assert b.read(ENGINE, FP, 0) is None


def test_unreadable_entry_is_recomputed_with_a_warning(store):
    """A directory where the entry should be (an OSError on read) is recomputed, not a traceback;
    the record it cannot write back is used for this run, with a warning."""
    path = store.entry_path(ENGINE, FP, 0)
    path.mkdir(parents=True)
    compute = Computer()
    with pytest.warns(StoreWarning) as caught:
        (rec,) = store.get_or_compute(ENGINE, FP, [0], compute)
    assert rec.seed == 0 and compute.calls == [[0]]
    messages = " ".join(str(w.message) for w in caught)
    assert "unreadable (IsADirectoryError" in messages and "cannot be written" in messages


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_entry_without_read_permission_is_recomputed(store):
    store.write(make_record(0))
    store.entry_path(ENGINE, FP, 0).chmod(0)
    with pytest.warns(StoreWarning, match="PermissionError"):
        assert store.read(ENGINE, FP, 0) is None


def test_batch_order_variants_and_references_are_stored_apart(tmp_path):
    """The default code digest takes the store's labels: a replayed-order run or a certificate
    reference is never read back as a default run, though the same code trained it."""
    root = tmp_path / "store"
    store = RunStore(root, ENV)
    store.write(make_record(0, engine="batched+replayed"))
    store.write(make_record(0, engine="keras-reference"))
    assert store.read("batched", FP, 0) is None and store.read("keras", FP, 0) is None
    assert store.read("batched+replayed", FP, 0).seed == 0 and store.read("keras-reference", FP, 0).seed == 0
    assert store.entry_path("batched+replayed", FP, 0) != store.entry_path("batched", FP, 0)


def test_a_variant_label_stores_the_engines_own_records(tmp_path):
    """get_or_compute under a store label (``batched+replayed``): the engine returns records of its
    own engine ("batched"), stored and read back under the label, never under the default."""
    store = RunStore(tmp_path / "store", ENV)
    got = store.get_or_compute("batched+replayed", FP, [0, 1], lambda missing: [make_record(s, engine="batched")
                                                                                for s in missing])
    assert [r.engine for r in got] == ["batched", "batched"]
    assert store.read("batched+replayed", FP, 1).seed == 1 and store.read("batched", FP, 1) is None
    with pytest.raises(RuntimeError, match="expected batched\\+replayed"):
        store.get_or_compute("batched+replayed", FP, [2], lambda missing: [make_record(2, engine="keras")])


@pytest.mark.parametrize("field,value,named", [
    (("metrics", "test_accuracy"), "0.9", "field 'metrics.test_accuracy' is str ('0.9'), not a number"),
    (("history", "loss"), ["a", 1.0, 2.0], "field 'history.loss' holds a value that is not a number"),
    (("seed",), "1", "field 'seed' is str, not an integer"),
])
def test_a_wrongly_typed_field_with_its_checksum_recomputed_is_refused_naming_the_field(store, field, value, named):
    from harness.storage import store as storelib
    from harness.training import records

    store.write(make_record(1))
    path = store.entry_path(ENGINE, FP, 1)
    entry = records.loads(path.read_text(encoding="utf-8"))
    target = entry["record"]
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    entry["sha256"] = storelib._digest(entry["record"])  # an edit that hides from the checksum
    path.write_text(records.dumps(entry), encoding="utf-8")
    with pytest.warns(StoreWarning, match=re.escape(f"{path} is unreadable (TypeError: {named})")):
        assert store.read(ENGINE, FP, 1) is None


def test_writer_alive_by_pid_and_start_time():
    """A temporary file's writer: alive while its pid runs and started before the write; a pid reused by a
    process started after the write is not its writer; a dead pid is dead; another host's cannot be told."""
    from harness.storage import liveness

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        now = time.time()
        assert liveness.writer_alive(child.pid, liveness.HOST, now)
        assert not liveness.writer_alive(child.pid, liveness.HOST, now - 3600)  # started after the write
        assert liveness.writer_alive(child.pid, "another-host", now - 3600)
    finally:
        child.kill()
        child.wait()
    assert not liveness.writer_alive(child.pid, liveness.HOST, now)
    assert liveness.writer_alive(os.getpid(), liveness.HOST, 0.0)
    assert liveness.writer_alive(1, liveness.HOST, time.time())  # init, started long before
