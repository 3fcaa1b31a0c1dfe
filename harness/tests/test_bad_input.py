"""Every bad input: a clear error before any work.

Every row of the options table (:mod:`harness.options`) names its bad values; each is run here, through
pytest for the plugin's options and through ``python -m harness`` for each command's, and a row that takes
a value but names none fails :func:`test_every_option_row_names_its_bad_values`.  Below them, one row per
bad file content or combination the table cannot hold: the command line, the exit status (4: a pytest
usage error; 2: an argparse error), a fragment of the message that names the
option or file at fault, and what must not exist afterwards (the run store, a
report, an output file: nothing was trained, benchmarked or written).  Every
row also asserts that no traceback was printed and that the command returned
within seconds.  Below the table: the start-up checks and the cleanup of dead
runs' leftovers as functions.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import RESULTS_SCHEMA, __version__, bad_input as options, commands
from harness import options as table
from harness.results import summaries
from harness.storage import liveness, store as store_module
from harness.training import records
from harness.bad_input import BadInput

ROOT = Path(__file__).resolve().parents[2]
# A row fails early or not at all: these are generous bounds for 2 shared cores.  Rows that import
# TensorFlow (the certificate is looked up for this environment) take ~10 s; the others under 2 s.
FAST, WITH_TF = 20, 90


def _summary(samples, verdict="SUPPORTED", schema=summaries.SUMMARY_1) -> dict:
    claim = {"id": "claim_a", "section": "2.2", "verdict": verdict, "expected_verdict": "SUPPORTED",
             "metric": "accuracy", "metric_samples": samples}
    if verdict is None:
        del claim["verdict"]
    return {"schema": schema, "suite_version": __version__,
            "environment": {"fingerprint": "fp-a", "tensorflow": "2.21.0", "keras": "3.15.1"}, "claims": [claim]}


# name -> file content; "{tmp}" in an argument is the row's temporary folder
FILES = {
    "file": "not a directory",
    "torn.json": '{"schema": "lesson-claims/summary/1", "cla',
    "empty_samples.json": records.dumps(_summary({"exp": []})),
    "oops_samples.json": records.dumps(_summary({"exp": ["oops"]})),
    "dict_samples.json": records.dumps(_summary({"exp": {"a": 1}})),
    "no_samples.json": records.dumps(_summary({})),
    "bool_samples.json": records.dumps(_summary({"exp": [True, 0.5]})),
    "no_verdict.json": records.dumps(_summary({"exp": [0.5]}, verdict=None)),
    "bad_verdict.json": records.dumps(_summary({"exp": [0.5]}, verdict="MAYBE")),
    "summary.json": records.dumps(_summary({"exp": [0.5, 0.6]})),
    "results_no_claims.json": json.dumps({"schema": RESULTS_SCHEMA, "suite_version": __version__,
                                          "environment": {"fingerprint": "fp-a"}}),
    "results_empty_claims.json": json.dumps({"schema": RESULTS_SCHEMA, "claims": []}),
    "results_no_verdict.json": json.dumps({"schema": RESULTS_SCHEMA, "claims": [{"id": "claim_a"}]}),
    "results_no_id.json": json.dumps({"schema": RESULTS_SCHEMA, "claims": [{"verdict": "SUPPORTED"}]}),
    "not_ours.json": json.dumps([1, 2, 3]),
}

PY = "pytest"  # python -m pytest claims -q -p no:xdist --claims-store-dir={tmp}/store --claims-report-dir={tmp}/r ARGS
HX = "harness"  # python -m harness ARGS

# (id, kind, args, exit status, message fragment, paths that must not exist afterwards, seconds)
ROWS = [
    # -- pytest options -----------------------------------------------------------
    ("max-seeds-below-seeds", PY, ["--claims-seeds=100", "--claims-max-seeds=50"], 4, "--claims-max-seeds 50 is below --claims-seeds 100",
     ["store"], FAST),
    ("report-dir-under-file", PY, ["--claims-report-dir={tmp}/file/sub"], 4,
     "--claims-report-dir {tmp}/file/sub: not writable", ["store"], FAST),
    ("history-dir-file", PY, ["--claims-history-dir={tmp}/file"], 4, "--claims-history-dir {tmp}/file: not writable",
     ["store"], FAST),
    ("store-dir-file", PY, ["--claims-store-dir={tmp}/file"], 4, "--claims-store-dir {tmp}/file: not writable (it is a file",
     ["r/results.json"], FAST),
    ("store-dir-under-file", PY, ["--claims-store-dir={tmp}/file/store"], 4, "--claims-store-dir {tmp}/file/store: not writable",
     ["r/results.json"], FAST),
    ("certificate-dir-empty", PY, ["--claims-certificate-dir={tmp}/certs"], 4,
     "no engine certificate for this environment", ["store"], WITH_TF),
    ("baseline-torn", PY, ["--claims-baseline={tmp}/torn.json"], 4, "{tmp}/torn.json: not valid JSON", ["store"], FAST),
    ("baseline-not-ours", PY, ["--claims-baseline={tmp}/not_ours.json"], 4, "no 'schema'", ["store"], FAST),
    ("baseline-samples-empty", PY, ["--claims-baseline={tmp}/empty_samples.json"], 4,
     "{tmp}/empty_samples.json: claim 'claim_a': metric_samples['exp'] is empty", ["store"], FAST),
    ("baseline-samples-oops", PY, ["--claims-baseline={tmp}/oops_samples.json"], 4,
     "claim 'claim_a': metric_samples.exp[0]: str 'oops', expected a number", ["store"], FAST),
    ("baseline-samples-bool", PY, ["--claims-baseline={tmp}/bool_samples.json"], 4,
     "claim 'claim_a': metric_samples.exp[0]: bool true, expected a number", ["store"], FAST),
    ("baseline-samples-dict", PY, ["--claims-baseline={tmp}/dict_samples.json"], 4,
     "claim 'claim_a': metric_samples.exp: dict {\"a\": 1}, expected a list", ["store"], FAST),
    ("baseline-samples-none", PY, ["--claims-baseline={tmp}/no_samples.json"], 4,
     "claim 'claim_a': metric_samples is empty", ["store"], FAST),
    ("baseline-no-verdict", PY, ["--claims-baseline={tmp}/no_verdict.json"], 4,
     "{tmp}/no_verdict.json: claim 'claim_a': missing field 'verdict' (one of SUPPORTED", ["store"], FAST),
    ("baseline-bad-verdict", PY, ["--claims-baseline={tmp}/bad_verdict.json"], 4,
     "claim 'claim_a': verdict: 'MAYBE' is not one of SUPPORTED", ["store"], FAST),
    ("equivalence-seeds-removed", PY, ["--claims-seeds=3", "--equivalence-seeds=50"], 4, "--equivalence-seeds",
     ["store"], FAST),
    # -- python -m harness report -------------------------------------------------
    ("report-not-json", HX, ["report", "{tmp}/torn.json"], 2, "{tmp}/torn.json: not valid JSON", ["index.html"],
     FAST),
    ("report-not-ours", HX, ["report", "{tmp}/not_ours.json"], 2, "{tmp}/not_ours.json: not a lesson-claims",
     ["index.html"], FAST),
    ("report-summary", HX, ["report", "{tmp}/summary.json"], 2, "{tmp}/summary.json: schema "
     "'lesson-claims/summary/1' is a summary, not a results file", ["index.html"], FAST),
    ("report-no-claims", HX, ["report", "{tmp}/results_no_claims.json"], 2,
     "{tmp}/results_no_claims.json: no claims", ["index.html", "figures"], FAST),
    ("report-empty-claims", HX, ["report", "{tmp}/results_empty_claims.json"], 2,
     "{tmp}/results_empty_claims.json: no claims", ["index.html", "figures"], FAST),
    ("report-no-verdict", HX, ["report", "{tmp}/results_no_verdict.json"], 2,
     "{tmp}/results_no_verdict.json: claim 'claim_a': missing field 'verdict'", ["index.html"], FAST),
    ("report-no-id", HX, ["report", "{tmp}/results_no_id.json"], 2, "{tmp}/results_no_id.json: claims[0]: missing field 'id'",
     ["index.html"], FAST),
    # -- python -m harness bench ----------------------------------------------------
    ("bench-out-under-file", HX, ["bench", "--out={tmp}/file/bench.json"], 2,
     "--out {tmp}/file/bench.json: not writable", [], FAST),
    ("bench-cold-out-proc", HX, ["bench", "--cold-suite", "--out=/proc/zz/bench.json"], 2,
     "--out /proc/zz/bench.json: not writable", [], FAST),
    # -- python -m harness compare --------------------------------------------------
    ("compare-out-file", HX, ["compare", "{tmp}/summary.json", "--out-dir={tmp}/file"], 2,
     "--out-dir {tmp}/file: not writable (it is a file", [], FAST),
    ("compare-out-under-file", HX, ["compare", "{tmp}/summary.json", "--out-dir={tmp}/file/out"], 2,
     "--out-dir {tmp}/file/out: not writable", [], FAST),
    ("compare-no-usable-file", HX, ["compare", "{tmp}/missing.json", "{tmp}/oops_samples.json",
                                    "--out-dir={tmp}/out"], 2, "skipped {tmp}/missing.json: cannot read", ["out"],
     FAST),
    ("compare-bad-samples", HX, ["compare", "{tmp}/oops_samples.json", "--out-dir={tmp}/out"], 2,
     "skipped {tmp}/oops_samples.json: claim 'claim_a': metric_samples.exp[0]: str 'oops', expected a number", ["out"], FAST),
    # -- python -m harness certify --------------------------------------------------
    ("certify-out-file", HX, ["certify", "--out-dir={tmp}/file", "--store-dir={tmp}/store"], 2,
     "--out-dir {tmp}/file: not writable", ["store"], FAST),
    # -- python -m harness mutants --------------------------------------------------
    ("mutants-seeds-removed", HX, ["mutants", "--out={tmp}/m.json", "--seeds=30"], 2,
     "unrecognized arguments: --seeds=30", ["m.json"], FAST),
    ("mutants-no-certificate", HX, ["mutants", "--certificate-dir={tmp}/certs", "--out={tmp}/m.json"], 2,
     "no engine certificate for this environment", ["m.json"], WITH_TF),
    # -- python -m harness ------------------------------------------------------------
    ("harness-unknown-command", HX, ["nope"], 2, "invalid choice: 'nope'", [], FAST),
    ("harness-no-command", HX, [], 2, "the following arguments are required: command", [], FAST),
]


def _run(kind, args, tmp: Path, timeout: float):  # a fresh process: a real user's command line
    if kind == PY:
        argv = [sys.executable, "-m", "pytest", "claims", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
                f"--claims-store-dir={tmp / 'store'}", f"--claims-report-dir={tmp / 'r'}", *args]
    else:
        argv = [sys.executable, "-m", "harness", *args]
    start = time.perf_counter()
    res = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return res, time.perf_counter() - start


@pytest.mark.parametrize("name, kind, args, status, fragment, absent, seconds", ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_is_a_clear_error_before_any_work(tmp_path, name, kind, args, status, fragment, absent,
                                                    seconds):
    for fname, content in FILES.items():
        (tmp_path / fname).write_text(content)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    res, took = _run(kind, args, tmp_path, timeout=seconds * 3)
    out = res.stdout + res.stderr
    assert res.returncode == status, out[-3000:]
    assert fragment.replace("{tmp}", str(tmp_path)) in out, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    assert took < seconds, f"{name}: {took:.1f} s"
    for rel in absent:  # nothing trained, benchmarked or written
        assert not (tmp_path / rel).exists(), f"{name}: {rel} was created"
    assert not (tmp_path / "r" / ".parts").exists()  # the run left no parts behind


# -- every row of the options table, fed its bad values ---------------------------------
def _command_rows() -> dict[str, list[table.Option]]:
    """command -> the table rows its parser was built from (each action carries its row)."""
    top, _ = commands.parser()
    sub = next(a for a in top._actions if a.dest == "command")
    return {name: [a.lesson_claims_option for a in p._actions if hasattr(a, "lesson_claims_option")]
            for name, p in sub.choices.items()}


# Where a command's other outputs go while one of its options is fed a bad value: into the row's folder.
_QUIET = {"bench": ["--out={tmp}/bench.json"], "certify": ["--out-dir={tmp}/certs", "--store-dir={tmp}/store"],
          "mutants": ["--out={tmp}/m.json"], "compare": ["{tmp}/summary.json", "--out-dir={tmp}/out"],
          "error-rates": ["--out={tmp}/e.json"], "summary": ["{tmp}/summary.json", "--out={tmp}/s.md"]}


def _table_cases():
    for o in table.PYTEST:
        for value, fragment in o.bad:
            yield pytest.param(PY, [f"--{table.PREFIX}{o.flag}={value}"], 4, fragment, WITH_TF,
                               id=f"pytest --{table.PREFIX}{o.flag}={value}")
    for name, rows in _command_rows().items():
        for o in rows:
            for value, fragment in o.bad:
                mine = value if o.positional else f"--{o.flag}={value}"
                others = [a for a in _QUIET.get(name, []) if not (a.startswith(f"--{o.flag}=")
                                                                  or (o.positional and not a.startswith("--")))]
                yield pytest.param(HX, [name, mine, *others], 2, fragment, WITH_TF, id=f"{name} {mine}")


@pytest.mark.parametrize("kind, args, status, fragment, seconds", list(_table_cases()))
def test_every_bad_value_of_the_table_is_a_clear_error_before_any_work(tmp_path, kind, args, status, fragment,
                                                                        seconds):
    for fname, content in FILES.items():
        (tmp_path / fname).write_text(content)
    before = sorted(p.name for p in tmp_path.iterdir())
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    res, took = _run(kind, args, tmp_path, timeout=seconds * 3)
    out = res.stdout + res.stderr
    assert res.returncode == status, out[-3000:]
    assert fragment.replace("{tmp}", str(tmp_path)) in out, out[-3000:]
    option = args[-1].split("=")[0] if kind == PY else args[1].split("=")[0]
    assert option.lstrip("-") in out or not option.startswith("--"), out[-3000:]  # the message names the option
    assert "Traceback" not in out, out[-3000:]
    assert took < seconds, f"{args}: {took:.1f} s"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing trained, written or made


def test_every_option_row_names_its_bad_values():
    """A row that takes a value and names no bad one fails here: adding an option means adding its bad input."""
    rows = [("pytest", o) for o in table.PYTEST] + [(c, o) for c, rows in _command_rows().items() for o in rows]
    # summary --title takes any words: it has no bad value
    missing = [f"{c} --{o.flag}" for c, o in rows if o.action is None and not o.bad and o.flag != "title"]
    assert not missing, f"options without a bad-input case: {missing}"
    assert any(o.flag == "fresh" for o in table.PYTEST)  # the flags (no value) are rows too


def test_every_option_is_defined_in_the_table(request):
    """Both command lines are built from the table: every option pytest and `python -m harness` know of our
    suite comes from one of its rows, and no module registers one by hand."""
    group = next(g for g in request.config._parser._groups if g.name == "lesson-claims")
    registered = sorted(n for opt in group.options for n in opt.names())
    assert registered == sorted(f"--{table.PREFIX}{o.flag}" for o in table.PYTEST)
    top, _ = commands.parser()
    sub = next(a for a in top._actions if a.dest == "command")
    for name, p in sub.choices.items():
        by_hand = [a.option_strings or [a.dest] for a in p._actions
                   if not hasattr(a, "lesson_claims_option") and a.dest != "help"]
        assert not by_hand, f"{name}: {by_hand} not from harness.options"
    sources = [ROOT / "harness" / "pytest_plugin.py", *sorted((ROOT / "harness" / "commands").glob("*.py"))]
    for path in sources:
        text = path.read_text()
        assert ".addoption(" not in text and ".add_argument(" not in text, f"{path} registers an option by hand"
    assert {m.NAME for m in commands._modules()} == set(sub.choices)


# -- the checks as functions -----------------------------------------------------------
def test_seed_bound_comes_from_memory():
    gib = 2**30
    options.check_seed_count("--seeds", 1000, options.SUITE_BYTES_PER_SEED, memory=16 * gib)
    with pytest.raises(BadInput, match=r"--seeds 5000: too many seeds .* 4 MiB per seed, .* give at most 4096"):
        options.check_seed_count("--seeds", 5000, options.SUITE_BYTES_PER_SEED, memory=16 * gib)
    assert options.max_seeds(options.CONFIG_BYTES_PER_SEED, 16 * gib) == 16384
    assert options.memory_bytes() > gib


def test_store_dir_probe_leaves_nothing_behind(tmp_path):
    options.check_dir("--store-dir", tmp_path / "a" / "b", create=False)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(BadInput, match="not writable"):
        options.check_dir("--store-dir", "/proc/zz/store", create=False)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere whatever the permissions")
def test_unwritable_store_dir_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(BadInput, match="--store-dir .*: not writable"):
        options.check_dir("--store-dir", locked / "store", create=False)


@pytest.mark.parametrize("samples, message", [
    ({"exp": []}, r"metric_samples\['exp'\] is empty"),
    ({"exp": ["oops"]}, r"metric_samples.exp\[0\]: str 'oops', expected a number"),
    ({"exp": [0.1, None, "x"]}, r"metric_samples.exp\[1\]: null, expected a number"),
    ({"exp": 3}, r"metric_samples.exp: int 3, expected a list"),
    (None, r"metric_samples: null, expected an object"),
    ([0.5], r"metric_samples: list \[0.5\], expected an object"),
])
def test_baseline_with_bad_metric_samples_names_claim_and_field(tmp_path, samples, message):
    p = tmp_path / "b.json"
    p.write_text(records.dumps(_summary(samples)))
    with pytest.raises(summaries.SummaryError, match=message) as err:
        summaries.load(p)
    assert str(p) in str(err.value) and "claim 'claim_a'" in str(err.value)


def test_baseline_nonfinite_values_are_numbers(tmp_path):
    p = tmp_path / "b.json"
    p.write_text(records.dumps(_summary({"exp": [math.nan, math.inf, 0.5, 1]})))
    assert len(summaries.load(p).claims[0].metric_samples["exp"]) == 4


def test_a_summary_reads_a_results_file_too(tmp_path):
    p = tmp_path / "results.json"
    p.write_text(json.dumps({"schema": RESULTS_SCHEMA, "suite_version": __version__,
                             "environment": {"fingerprint": "fp-a"},
                             "claims": [{"id": "claim_a", "verdict": "REFUTED", "metric_samples": {"e": [1.0]}}]}))
    assert summaries.load(p).claims[0].verdict.value == "REFUTED"


def test_bench_keeps_its_measurements_when_out_cannot_be_written(capsys):
    from harness.maintainer import bench

    assert bench._write(Path("/proc/zz/bench.json"), {"rows": [{"ratio": 42.0}]}) == 1
    err = capsys.readouterr().err
    assert "cannot write /proc/zz/bench.json" in err and "nothing is lost" in err
    spare = Path(err.split("they are in ")[1].split(";")[0])
    try:
        assert json.loads(spare.read_text()) == {"rows": [{"ratio": 42.0}]}
    finally:
        spare.unlink()


# -- leftovers of dead runs ------------------------------------------------------------
def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _old(path: Path, seconds: float) -> Path:
    t = time.time() - seconds
    os.utime(path, (t, t))
    return path


def test_atomic_write_tmp_name_carries_pid_and_host(tmp_path, monkeypatch):
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        return real(src, dst)

    monkeypatch.setattr(store_module.os, "replace", spy)
    store_module.atomic_write_text(tmp_path / "seed-3.json", "{}")
    m = store_module._TMP.match(seen[0])
    assert m and int(m["pid"]) == os.getpid() and m["host"] == liveness.HOST


def test_clean_tmp_removes_only_dead_writers(tmp_path):
    host = liveness.HOST
    entry_dir = tmp_path / "env" / "batched" / "code" / "fp"
    entry_dir.mkdir(parents=True)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = entry_dir / f".seed-1.json.~{_dead_pid()}@{host}~abcd1234.tmp"
        mine = entry_dir / f".seed-2.json.~{os.getpid()}@{host}~abcd1234.tmp"
        alive = entry_dir / f".seed-3.json.~{live.pid}@{host}~abcd1234.tmp"
        # a pid now used by a process started after the file was written is not its writer
        reused = entry_dir / f".seed-4.json.~{live.pid}@{host}~efgh5678.tmp"
        reused.write_text("{")
        _old(reused, 600)
        foreign = entry_dir / f".seed-5.json.~{_dead_pid()}@elsewhere~abcd1234.tmp"
        foreign_old = entry_dir / ".seed-6.json.~1@elsewhere~abcd1234.tmp"
        legacy = entry_dir / ".seed-7.json.abcd1234.tmp"
        legacy_old = entry_dir / ".seed-8.json.efgh5678.tmp"
        entry = entry_dir / "seed-9.json"
        for p in (dead, mine, alive, foreign, foreign_old, legacy, legacy_old, entry):
            if not p.exists():
                p.write_text("{")
        _old(foreign_old, liveness.FOREIGN_TMP_AGE + 60)
        _old(legacy_old, liveness.FOREIGN_TMP_AGE + 60)
        removed = set(store_module.clean_tmp(tmp_path))
    finally:
        live.kill()
        live.wait()
    assert removed == {dead, reused, foreign_old, legacy_old}
    assert all(p.exists() for p in (mine, alive, foreign, legacy, entry))


def test_a_run_cleans_dead_leftovers_and_leaves_none(tmp_path):
    """End to end: a pytest start removes a dead writer's tmp file."""
    report, store_dir = tmp_path / "r", tmp_path / "store"
    entry_dir = store_dir / "env" / "batched" / "code" / "fp"
    entry_dir.mkdir(parents=True)
    tmp_file = entry_dir / f".seed-0.json.~{_dead_pid()}@{liveness.HOST}~abcd1234.tmp"
    tmp_file.write_text("{")
    # a session that decides claims (here only collects them, with the engine that needs no certificate)
    res = subprocess.run([sys.executable, "-m", "pytest", "claims/test_claims.py", "--collect-only", "-q", "-p",
                          "no:xdist", "-p", "no:cacheprovider", "--claims-engine=keras", f"--claims-report-dir={report}",
                          f"--claims-store-dir={store_dir}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert not tmp_file.exists()


def test_a_bad_cell_name_is_refused_where_tox_is_not_installed(monkeypatch, capsys):
    """`cells --only` checks its names from tox.ini itself: CI's runners have no tox (the matrix extra)."""
    from harness.maintainer import cells

    def no_tox(*args):
        raise RuntimeError('tox is not installed here: pip install -e ".[matrix]"')

    monkeypatch.setattr(cells, "tox", no_tox)
    with pytest.raises(SystemExit) as stop:
        commands.main(["cells", "--only", "nope"])
    assert stop.value.code == 2 and "--only nope: unknown tox environment(s)" in capsys.readouterr().err
