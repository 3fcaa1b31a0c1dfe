"""Training the literal Keras references a certificate is made of.

Each (configuration, seed) is one ``fit`` of the lesson's code, independent of
the others, so they run in parallel worker processes (one per core by default,
each with its share of the threads) and land in the run store as they finish:
a killed certification resumes where it stopped.  Before it starts it says what
it will cost; while it runs it shows, per configuration, the seeds done and an
ETA.
"""
from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

# Nothing here loads numpy or TensorFlow: a spawned worker imports this module before _init_worker sets its
# thread counts, so those load inside the functions the workers run.
from harness.storage.store import RunStore
from harness.training import devices, experiments

# Keras seconds per epoch for one seed, one thread: a first guess, used only to announce the cost
# before the first seed has been timed (then each configuration's own measured seconds per seed).
# What certifying measured is in each certificate's "cost" and in docs/costs.md.
KERAS_SECONDS_PER_EPOCH = {"regression": 0.06, "circles": 0.06}


def estimate_seconds(exp) -> float:
    return KERAS_SECONDS_PER_EPOCH.get(exp.dataset, 0.25) * exp.epochs


def _init_worker(threads: int) -> None:
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    devices.configure()


LATER_SECONDS = 30  # a first guess at one configuration's later-look windows (Keras fit), for the announcement
ENGINE = "keras-reference"  # the store's label: full-length Keras runs with their window states


def _train_one(name: str, seed: int, store_root: str, environment: str) -> tuple[str, int, float]:
    # local: numpy and TensorFlow load in a worker only after _init_worker sized its thread pools
    from harness.certification import windows
    from harness.training.engines.keras_engine import train_one
    start = time.perf_counter()
    exp = experiments.get(name)
    record = train_one(exp, seed, snapshots=windows.checkpoints(exp))
    record.engine = ENGINE
    record.extra["states"] = {str(e): windows.encode_state(st) for e, st in record.extra["states"].items()}
    RunStore(store_root, environment).write(record)
    return name, seed, time.perf_counter() - start


def later_windows(name: str) -> tuple[str, list[dict], float]:
    """The later looks' sample seeds: the batched engine trained to each of their checkpoints,
    and Keras' ``fit`` restarted from that state for one window (certificate windows)."""
    # local: numpy and TensorFlow load in a worker only after _init_worker sized its thread pools
    from harness.certification import certificate, windows
    from harness.training.engines import batched, keras_engine

    start = time.perf_counter()
    exp = experiments.get(name)
    cps = windows.later_checkpoints(exp)
    w = windows.window_epochs(name)
    rows = []
    for r in batched.train(exp, list(windows.LATER_SEEDS), checkpoints=cps):
        for epoch in cps:
            state = r.extra["states"][epoch]
            history, final = keras_engine.window(exp, r.seed, epoch, state, w)
            rows.append(certificate.encode_window(r.seed, epoch, "batched", state, history, final, None))
    return name, rows, time.perf_counter() - start


def transfer_windows(name: str, rows: list[tuple[int, int, str]]) -> tuple[str, list[dict], float]:
    """Keras' ``fit`` here over windows of another environment's certificate (``rows``: seed, checkpoint,
    encoded state): each window's History, final metrics where it ends the run, and for a window at epoch 0
    the initial gradient, from this environment's own initial weights (its initializers are checked too)."""
    # local: numpy and TensorFlow load in a worker only after _init_worker sized its thread pools
    from harness.certification import windows
    from harness.training import compat, models, orders
    from harness.training.engines import common, keras_engine

    start = time.perf_counter()
    exp = experiments.get(name)
    w = windows.window_epochs(name)
    steps = -(-500 // exp.batch_size)
    split = common.split_for(exp)
    out = []
    for seed, epoch, text in rows:
        grad0 = None
        state = windows.decode_state(text, exp, epoch, steps)
        if epoch == 0:  # as train_one starts a run: seeded, built, the first batch's gradient
            compat.seed_everything(seed)
            model = models.build(exp)
            grad0 = keras_engine.initial_gradient_max_abs(model, exp, split,
                                                          orders.lesson_orders(seed, len(split.train_x), 0, 1)[0])
            state = keras_engine.get_state(model)
        history, final = keras_engine.window(exp, seed, epoch, state, w)
        out.append({"history": history, "final": final, "init_grad_max_abs": grad0})
    return name, out, time.perf_counter() - start


def run_transfer_windows(sampled: dict[str, list[dict]], workers: int, out=sys.stdout) -> tuple[dict, float]:
    """:func:`transfer_windows` for every configuration, in parallel workers; ({name: results}, seconds)."""
    from harness.certification import windows  # local: numpy

    start = time.perf_counter()
    threads = devices.threads_per_worker(devices.available_cores(), workers)
    results = {}
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker,
                             initargs=(threads,)) as pool:
        # Longest first, so the last seconds are not one long configuration on one core.
        names = sorted(sampled, key=lambda n: -experiments.get(n).epochs * len(sampled[n]))
        futures = [pool.submit(transfer_windows, n, [(x["seed"], x["epoch"], windows.encode_state(x["state"]))
                                                     for x in sampled[n]]) for n in names]
        for done, fut in enumerate(as_completed(futures), 1):
            name, rows, secs = fut.result()
            results[name] = rows
            print(f"  [{done}/{len(names)}] {name}: {len(rows)} windows of Keras' fit in {secs:.0f} s", file=out,
                  flush=True)
    return results, time.perf_counter() - start


def refined_windows(exp, parent: dict) -> list[dict]:
    """A window of the certificate (decoded: seed, epoch, state, keras) re-recorded as windows of
    :data:`~harness.certification.windows.REFINED_EPOCHS` epochs: Keras' ``fit`` restarted epoch by epoch
    from its own state, each with its chaos envelope.  Keras restarted so must reproduce its own
    window (1e-4 relative, accuracy within one sample): else RuntimeError, and nothing is refined."""
    from harness.certification import certificate, windows
    from harness.training.engines import keras_engine

    seed, c, w = parent["seed"], parent["epoch"], windows.REFINED_EPOCHS
    width = len(parent["keras"]["history"]["loss"])
    state, rows, history, final = parent["state"], [], {}, None
    for e in range(c, c + width, w):
        h, final = keras_engine.window(exp, seed, e, state, w)
        rows.append((seed, e, state, h, final))
        for k, v in h.items():
            history.setdefault(k, []).extend(v)
        # keras_engine keeps one compiled model per configuration; its state now starts epoch e + w
        # (the engine module is covered by the certificate's code digest, so it is read, not extended)
        state = keras_engine.get_state(keras_engine._MODELS[exp.fingerprint])
    again, _ = windows.compare_window(exp.name, seed, c, parent["keras"],
                                      {"history": history, "final": final,
                                       "init_grad_max_abs": parent["keras"]["init_grad_max_abs"]},
                                      windows.accuracy_samples(exp))
    if again:
        raise RuntimeError(f"{exp.name}: Keras restarted epoch by epoch does not reproduce its own window at "
                           f"{windows.describe(again[0])}: the window cannot be refined")
    spreads = windows.envelopes(exp, [(s, e, st) for s, e, st, _, _ in rows], w)
    return [certificate.encode_window(s, e, "keras", st, h, f, None, spread, parent=(seed, c))
            for (s, e, st, h, f), spread in zip(rows, spreads)]


def _fmt(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def train(store, names: list[str], seeds: list[int], workers: int, out=sys.stdout) -> dict:
    """Train the Keras references missing from ``store`` for ``names`` x ``seeds``;
    returns {"trained": n, "seconds": wall, "per_configuration": {name: seconds of one seed}}."""
    from harness.certification import windows  # local: numpy; at module level it would load in every worker early

    todo = [(n, s) for n in names for s in seeds if store.read(ENGINE, experiments.get(n).fingerprint, s) is None]
    # Longest first, so the last minutes are not one long seed on one core.
    todo.sort(key=lambda t: -estimate_seconds(experiments.get(t[0])))
    est = sum(estimate_seconds(experiments.get(n)) for n, _ in todo)
    print(f"certify: {len(todo)} Keras reference runs to train ({len(names) * len(seeds) - len(todo)} already "
          f"stored), about {_fmt(est)} of one core, ~{_fmt(est / max(workers, 1) * 1.1)} on {workers} workers",
          file=out, flush=True)
    print(f"  then the later looks' windows: {len(names)} configurations x {len(windows.LATER_SEEDS)} seeds, "
          f"about {_fmt(LATER_SECONDS * len(names) / max(workers, 1))} on {workers} workers", file=out, flush=True)
    per_config: dict[str, list[float]] = {}
    left = {n: sum(1 for m, _ in todo if m == n) for n in names}
    start = time.perf_counter()
    threads = devices.threads_per_worker(devices.available_cores(), workers)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker,
                             initargs=(threads,)) as pool:
        futures = [pool.submit(_train_one, n, s, str(store.root), store.environment) for n, s in todo]
        later = {pool.submit(later_windows, n): n for n in names}
        for done, fut in enumerate(as_completed(futures), 1):
            name, seed, secs = fut.result()
            per_config.setdefault(name, []).append(secs)
            left[name] -= 1
            # ETA: what is left, at each configuration's own measured seconds per seed (the
            # estimate where none has finished yet), spread over the workers.
            rest = sum(left[n] * (sum(per_config[n]) / len(per_config[n]) if n in per_config
                                  else estimate_seconds(experiments.get(n))) for n in names)
            mine = left[name] * sum(per_config[name]) / len(per_config[name]) / workers
            print(f"  [{done}/{len(todo)}] {name} seed {seed}: {secs:.0f} s; {name} "
                  f"{len(seeds) - left[name]}/{len(seeds)} done (ETA {_fmt(mine)}); elapsed "
                  f"{_fmt(time.perf_counter() - start)}, ETA all {_fmt(rest / workers)}", file=out, flush=True)
        later_rows = {}
        for done, fut in enumerate(as_completed(later), 1):
            name, rows, secs = fut.result()
            later_rows[name] = rows
            print(f"  [{done}/{len(names)}] later looks' windows of {name}: {len(rows)} in {secs:.0f} s; elapsed "
                  f"{_fmt(time.perf_counter() - start)}", file=out, flush=True)
    return {"trained": len(todo), "seconds": time.perf_counter() - start, "workers": workers,
            "seconds_per_seed": {n: sum(v) / len(v) for n, v in per_config.items()}, "later_windows": later_rows}
