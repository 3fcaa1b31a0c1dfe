"""The sweeps' reduced certificate: each sweep point's batched engine against Keras' ``fit``, on fewer windows.

The suite's configurations are certified over every epoch of three seeds and windows of later seeds
(:mod:`harness.certification.windows`).  A sweep point is the same code on another depth, so it gets a reduced
check, stated beside the claims it decides: for :data:`SEEDS`, two windows of ``window_epochs`` epochs,

* the first, from the point's initial weights (Keras' own, built and seeded as the lesson's code builds them,
  against the batched engine's own: the initializers are checked too), and
* one from the batched engine's state at 80% of the run, Keras' ``fit`` restarted from it,

each compared on every History key and the initial gradient with the certificate's tolerances and chaos
envelope (:func:`harness.certification.windows.compare_window`).  A point that trains as a certified
configuration (the same fingerprint: the lesson's own depths) is covered by the full certificate instead.

The file ``reports/certificates/sweep-<environment>.json`` records each point's result with the digests of
both engines' code, the check's own and the environment; a record of other code or another environment, or an edited one (its
checksum), is refused, naming the file and ``python -m harness certify --sweep``.  It records results, not
references: a run does not re-check it (the full certificate's windows are re-checked in every run).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import time
from pathlib import Path

from harness.certification import provenance, windows
from harness.storage.store import atomic_write_text
from harness.training import sweeps

SCHEMA = "lesson-claims/sweep-certificate/1"
SEEDS = (0, 1)
LATE_FRACTION = 0.8
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "reports" / "certificates"


class SweepCertificateError(ValueError):
    """No usable reduced certificate for a sweep point (missing, other code, other environment, edited)."""


def path_for(directory: Path, fingerprint: str) -> Path:
    return Path(directory) / f"sweep-{fingerprint}.json"


def to_certify() -> list[str]:
    """The sweep points the full certificate does not cover (their training is no configuration of the suite)."""
    return [n for n in sweeps.POINTS if sweeps.same_as_suite(n) is None]


def check_point(name: str) -> dict:
    """Keras against the batched engine on :data:`SEEDS` x two windows of sweep point ``name``."""
    from harness.training import compat, models, orders
    from harness.training.engines import batched, common, keras_engine

    start = time.perf_counter()
    exp = sweeps.POINTS[name]
    w = windows.WINDOW_EPOCHS
    late = int(round(exp.epochs * LATE_FRACTION / w)) * w
    split = common.split_for(exp)
    n = len(split.train_x)
    trained = batched.train(exp, list(SEEDS), checkpoints=(late,))
    rows, keras_side = [], []
    for r in trained:
        compat.seed_everything(r.seed)
        model = models.build(exp)
        grad0 = keras_engine.initial_gradient_max_abs(model, exp, split, orders.lesson_orders(r.seed, n, 0, 1)[0])
        own = keras_engine.get_state(model)
        for epoch, state in ((0, own), (late, r.extra["states"][late])):
            history, final = keras_engine.window(exp, r.seed, epoch, state, w)
            keras_side.append({"history": history, "final": final, "init_grad_max_abs": grad0 if epoch == 0 else None})
            rows.append((r.seed, epoch, state))
    # the batched engine's first window starts from its own initial weights, as a run starts
    restarted = batched.restart(exp, [(s, e, None if e == 0 else st) for s, e, st in rows], w)
    envelopes = windows.envelopes(exp, rows, w)
    samples = windows.accuracy_samples(exp)
    failures, worst = [], 0.0
    for (seed, epoch, _), k, (hist, final, g0), env in zip(rows, keras_side, restarted, envelopes):
        f, wr = windows.compare_window(name, seed, epoch, k, {"history": hist, "final": final,
                                                              "init_grad_max_abs": g0}, samples, env)
        failures.extend(f)
        worst = max(worst, wr)
    detail = (f"{name}: {len(rows)} windows of {w} epochs (seeds {list(SEEDS)}, from epochs 0 and {late}) "
              + (f"failed at {windows.describe(failures[0])}" if failures else
                 f"agree on every History key; max relative difference {worst:.2e}"))
    return {"experiment": name, "fingerprint": exp.fingerprint, "passed": not failures, "windows": len(rows),
            "window_epochs": w, "epochs": [0, late], "seeds": list(SEEDS), "max_rel_diff": worst,
            "failures": failures[:5], "detail": detail, "seconds": time.perf_counter() - start}


def _checksum(doc: dict) -> str:
    body = {k: v for k, v in doc.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=False).encode()).hexdigest()


def code() -> dict:
    """What a recorded result depends on: both engines' code, and the check's own (these windows, the
    tolerances and envelopes of harness.certification.windows)."""
    check = hashlib.sha256()
    for module in (__name__, windows.__name__):
        spec = importlib.util.find_spec(module)
        check.update(provenance.normalized_source(Path(spec.origin).read_text(encoding="utf-8")).encode())
    return {"keras": provenance.code_digest("keras"), "batched": provenance.code_digest("batched"),
            "check": check.hexdigest()}


def build(environment: str, results: list[dict], seconds: float) -> dict:
    doc = {"schema": SCHEMA, "environment": environment, "code": code(), "seconds": seconds,
           "reduced": (f"{len(SEEDS)} seeds x 2 windows of {windows.WINDOW_EPOCHS} epochs per point (from the "
                       f"initial weights and from 80% of the run)"),
           "points": {r["experiment"]: r for r in results}}
    doc["checksum"] = _checksum(doc)
    return doc


def write(doc: dict, directory: Path = DEFAULT_DIR) -> Path:
    path = path_for(directory, doc["environment"])
    atomic_write_text(path, json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n")
    return path


def load(directory: Path, environment: str) -> dict:
    """The reduced certificate of this environment and code, or SweepCertificateError naming why."""
    path = path_for(directory, environment)
    fix = "make it with `python -m harness certify --sweep` (about 5 min on 2 cores)"
    if not path.is_file():
        raise SweepCertificateError(f"{path}: no reduced certificate for the sweep points here; {fix}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SweepCertificateError(f"{path}: unreadable ({exc}); {fix}") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise SweepCertificateError(f"{path}: not a sweep certificate ({SCHEMA}); {fix}")
    if doc.get("checksum") != _checksum(doc):
        raise SweepCertificateError(f"{path}: its checksum does not match its content (edited or torn); {fix}")
    if doc.get("environment") != environment:
        raise SweepCertificateError(f"{path}: made in {doc.get('environment')}, this is {environment}; {fix}")
    if doc.get("code") != code():
        raise SweepCertificateError(f"{path}: made by other engine code; {fix}")
    return doc


def result(doc: dict, name: str, path: str) -> dict:
    """The run's equivalence row for sweep point ``name`` (an EquivalenceCheck's fields)."""
    got = (doc.get("points") or {}).get(name)
    exp = sweeps.POINTS[name]
    if got is None or got.get("fingerprint") != exp.fingerprint:
        return {"experiment": name, "level": "sweep", "passed": False,
                "detail": f"{path}: no result for {name} with this configuration; re-run python -m harness "
                          "certify --sweep"}
    return {"experiment": name, "level": "sweep", "passed": bool(got["passed"]), "seeds": got["seeds"],
            "window_epochs": got["window_epochs"], "windows": got["windows"], "epochs": exp.epochs,
            "max_rel_diff": got["max_rel_diff"], "tolerance": windows.RTOL,
            "detail": f"reduced certificate {path}: " + got["detail"]}


def certify(directory: Path, environment: str, workers: int = 1, out=None) -> Path:
    """Check every sweep point the full certificate does not cover, write the reduced certificate."""
    start = time.perf_counter()
    names = to_certify()
    results = []
    if workers > 1:
        import multiprocessing
        import os
        from concurrent.futures import ProcessPoolExecutor

        from harness.certification import references

        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=references._init_worker, initargs=(threads,)) as pool:
            for r in pool.map(check_point, sorted(names, key=lambda n: -sweeps.POINTS[n].hidden_layers)):
                results.append(r)
                if out:
                    print(("ok   " if r["passed"] else "FAIL ") + r["detail"] + f" ({r['seconds']:.0f} s)", file=out)
    else:
        for name in names:
            r = check_point(name)
            results.append(r)
            if out:
                print(("ok   " if r["passed"] else "FAIL ") + r["detail"] + f" ({r['seconds']:.0f} s)", file=out)
    return write(build(environment, sorted(results, key=lambda r: r["experiment"]), time.perf_counter() - start),
                 directory)
