"""``python -m harness bench``: Keras engine vs batched engine, side by side in
one run, on this machine.  Prints a table and writes ``reports/bench.json``.

``--out`` is checked for writability before anything is timed
(``harness.__main__``), and written atomically; if it cannot be written at the
end all the same, the measurements go to a temporary file, never lost.

Per configuration: the Keras engine trains ``--seeds`` seeds one by one (its
seconds per seed), the batched engine trains the same seeds plus the
``--batched-seeds`` counts at once; ratio = Keras seconds per seed / batched
seconds per seed at 30 seeds.  Nothing here touches the run store.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from harness.maintainer.cold import machine, run_cold_suite
from harness.storage.store import atomic_write_text
from harness.training import devices, environment, experiments


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _time_batched(train, exp, n: int) -> tuple[float, float]:
    """(wall seconds, of which setup: initial weights, batch orders, their checks)."""
    start = time.perf_counter()
    records = train(exp, list(range(n)))
    return time.perf_counter() - start, records[0].extra["setup_seconds"]


def run_bench(args) -> int:
    if args.cold_suite:
        return _run_cold(args)
    if getattr(args, "probes", False) or getattr(args, "sweep", False):
        return _run_probes(args)
    devices.configure()
    # local: batched imports TensorFlow (after devices.configure()), both engines scikit-learn; `python -m harness`
    # imports this module for every command
    from harness.training.engines import batched, keras_engine

    names = args.configs or list(experiments.EXPERIMENTS)
    for n in names + list(args.scaling_configs or []):
        experiments.get(n)  # unknown names fail before any training
    rows = []
    header = f"{'configuration':<26}{'epochs':>7}{'keras s/seed':>14}" + "".join(
        f"{'batched ' + str(n):>14}" for n in args.batched_seeds) + f"{'ratio@' + str(args.batched_seeds[0]):>11}" \
        + f"{'setup@max':>11}"
    print(header)
    for name in names:
        exp = experiments.get(name)
        keras_s = _time(lambda: keras_engine.train(exp, list(range(args.seeds)))) / args.seeds
        batched.train(exp, [0])  # trace the program once; tracing is a fixed cost, reported apart
        sizes = args.batched_seeds if (args.scaling_configs is None or name in args.scaling_configs) \
            else args.batched_seeds[:1]
        timed = {n: _time_batched(batched.train, exp, n) for n in sizes}
        times = {n: t for n, (t, _) in timed.items()}
        first = args.batched_seeds[0]
        ratio = keras_s / (times[first] / first)
        row = {"configuration": name, "epochs": exp.epochs, "seeds": first,
               "keras_seconds_per_seed": keras_s, "keras_seeds_timed": args.seeds,
               "batched_seconds": times[first], "ratio": ratio,
               "batched_seconds_by_seeds": {str(n): t for n, t in times.items()},
               "batched_setup_seconds_by_seeds": {str(n): s for n, (_, s) in timed.items()},
               "scaling_last_over_first": times[sizes[-1]] / times[first] if len(sizes) > 1 else None}
        rows.append(row)
        print(f"{name:<26}{exp.epochs:>7}{keras_s:>14.2f}" + "".join(f"{times[n]:>14.2f}" if n in times else f"{'-':>14}"
                                                                       for n in args.batched_seeds)
              + f"{ratio:>10.0f}x" + f"{timed[sizes[-1]][1]:>11.2f}", flush=True)
    out = {**_previous(args.out), "environment": environment.describe(), "machine": machine(), "rows": rows}
    return _write(args.out, out)


def _write(path, out: dict, status: int = 0) -> int:
    """Write ``out`` atomically; if ``path`` cannot be written now (checked at start, but a
    disk can fill up in an hour), keep the measurements in a temporary file and say where."""
    text = json.dumps(out, indent=1)
    try:
        atomic_write_text(Path(path), text)
    except OSError as exc:
        try:
            fd, spare = tempfile.mkstemp(prefix="bench-", suffix=".json")
            with open(fd, "w", encoding="utf-8") as f:
                f.write(text)
            where = f"they are in {spare}"
        except OSError:
            print(text)
            where = "they are printed above"
        print(f"bench: cannot write {path} ({exc.strerror or exc}); nothing is lost: {where}; copy them to "
              f"{path} once it can be written", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return status


def _previous(path) -> dict:
    """The keys of an existing bench.json the other half of the benchmark keeps (engines vs cold run)."""
    try:
        out = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


def _run_cold(args) -> int:
    """Only the cold README line; other keys of an existing bench.json are kept."""
    result = run_cold_suite()
    print(f"cold README first line: {result['cold_suite_seconds']:.0f} s (exit status {result['exit_status']}) on "
          f"{result['machine']['cores']} cores, {result['machine']['cpu']}")
    out = _previous(args.out)
    out["cold_suite"] = result
    out["cold_suite_seconds"] = result["cold_suite_seconds"]
    return _write(args.out, out, 0 if result["exit_status"] == 0 else 1)


REPEATS = 3  # each timing the best of three, the two variants interleaved: load on the machine hits both alike


def _run_probes(args) -> int:
    """``--probes``: per configuration, the batched engine's training with and without the probes, side by side
    (interleaved, best of REPEATS), and their ratio; ``--sweep``: every sweep point with its probes, once."""
    devices.configure()
    from harness.training import catalog, inside, sweeps
    from harness.training.engines import batched

    n = args.batched_seeds[0]
    out = _previous(args.out)
    if args.sweep:
        rows, total = [], 0.0
        for name in sweeps.POINTS:
            exp = catalog.get(name)
            t = _time(lambda: inside.train(exp, list(range(n))))
            total += t
            rows.append({"configuration": name, "seeds": n, "seconds": t})
            print(f"{name:<18}{n:>6} seeds{t:>9.1f} s (sum {total:.0f} s)", flush=True)
        out["sweep"] = {"seeds": n, "seconds": total, "rows": rows, "processes": 1, "machine": machine()}
        print(f"the depth sweep: {len(rows)} points x {n} seeds in {total:.0f} s in one process")
        return _write(args.out, out)
    names = args.configs or list(experiments.EXPERIMENTS)
    rows = []
    print(f"{'configuration':<26}{'seeds':>6}{'plain s':>10}{'probes s':>10}{'ratio':>8}")
    for name in names:
        exp = experiments.get(name)
        batched.train(exp, [0]), inside.train(exp, [0])  # tracing is a fixed cost, not timed
        plain, probed = [], []
        for _ in range(REPEATS):
            plain.append(_time(lambda: batched.train(exp, list(range(n)))))
            probed.append(_time(lambda: inside.train(exp, list(range(n)))))
        row = {"configuration": name, "seeds": n, "plain_seconds": min(plain), "probes_seconds": min(probed),
               "ratio": min(probed) / min(plain)}
        rows.append(row)
        print(f"{name:<26}{n:>6}{row['plain_seconds']:>10.2f}{row['probes_seconds']:>10.2f}{row['ratio']:>8.2f}",
              flush=True)
    plain_sum, probe_sum = sum(r["plain_seconds"] for r in rows), sum(r["probes_seconds"] for r in rows)
    out["probes"] = {"seeds": n, "repeats": REPEATS, "rows": rows, "plain_seconds": plain_sum,
                     "probes_seconds": probe_sum, "ratio": probe_sum / plain_sum, "machine": machine()}
    print(f"all configurations: {plain_sum:.1f} s plain, {probe_sum:.1f} s with probes: x{probe_sum / plain_sum:.2f}")
    return _write(args.out, out)
