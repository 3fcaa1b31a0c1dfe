"""``python -m harness certify``: make this environment's engine certificate.

1. Train the literal Keras references missing from the run store: seeds 0-2 of
   every configuration, full length, their training state kept at every window's
   start (:mod:`harness.certification.references`: parallel, resumable, cost announced, ETA
   shown); and Keras windows restarted from the batched engine's states of the
   later looks' sample seeds.
2. Measure each window's chaos envelope, and check the batched engine against
   every window (:mod:`harness.certification.windows`); a window that parted from Keras
   only after its first epoch is refined into one-epoch windows from Keras' own states and
   checked again: the results go into the certificate.
3. Measure whether a seed's batched run depends on the other seeds trained
   beside it (10 and 30 seeds vs ``--independence-seeds``).
4. Write ``reports/certificates/<environment fingerprint>.json``.

Exit status 0 when every check passed, 1 when the batched engine failed one
(the certificate is written all the same: its references are valid, and every
run will refuse the engine until it is fixed).  With ``--if-missing``, a valid
certificate on file whose window checks failed is checked again and refined where
refinement can settle it (``repair``), without training its references again.
"""
from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path

import numpy as np

from harness import collect
from harness.certification import certificate, references, transfer, windows
from harness.spec import Evidence
from harness.storage.store import RunStore
from harness.training import devices, environment, experiments

DEFAULT_RUN_SEEDS = 30  # the suite's default --seeds: what a run checks
INDEPENDENCE_CONFIGS = ("reg_target_standard", "circles_tanh1", "circles_relu5")


def seed_independence(names: list[str], runs_30: dict, big: int, big_configs, train, claims=(),
                      alone: int = 10) -> dict:
    """Seed s trained among 30 seeds vs among ``big`` (and with only the certificate's
    ``alone`` seeds), each at the same position in its batch, and vs trained one position
    earlier (seeds 1..``alone`` as a batch of their own: ``shifted``): the largest difference
    of any per-epoch value or final metric over the seeds both batches hold, and, for the
    claims decided on ``big_configs`` alone, the verdict on seeds 0-29 of each batch.
    (The shift: a seed's last bits depend on its position in the batch modulo 8, docs/findings.md, which
    batches of other sizes at the same positions cannot show.)"""
    rows, firsts = {}, {}
    for name in names:
        exp = experiments.get(name)
        base = runs_30[name]
        sizes = {str(alone): (base, train(exp, list(range(alone))))}
        if name in big_configs:
            firsts[name] = train(exp, list(range(big)))[:30]
            sizes[str(big)] = (base, firsts[name])
        sizes[SHIFTED] = (base[1:], train(exp, list(range(1, alone + 1))))
        row = {}
        for size, (ours, other) in sizes.items():
            worst_abs, worst_rel, identical = 0.0, 0.0, True
            for a, b in zip(ours, other):  # zip stops at the shorter: the seeds both have
                for key in a.history:
                    x, y = np.asarray(a.history[key], float), np.asarray(b.history[key], float)
                    if not np.array_equal(x, y, equal_nan=True):
                        identical = False
                        both = np.isfinite(x) & np.isfinite(y)
                        d = np.abs(x[both] - y[both])
                        if d.size:
                            worst_abs = max(worst_abs, float(d.max()))
                            worst_rel = max(worst_rel, float((d / np.maximum(np.abs(x[both]), 1e-12)).max()))
                for key, v in a.metrics.items():
                    w = b.metrics.get(key)
                    if not (v == w or (isinstance(v, float) and isinstance(w, float) and np.isnan(v) and np.isnan(w))):
                        identical = False
            row[size] = {"seeds_compared": min(len(ours), len(other)), "bit_identical": identical,
                         "max_abs_diff": worst_abs, "max_rel_diff": worst_rel}
        rows[name] = row
    every = all(r["bit_identical"] for row in rows.values() for r in row.values())
    same_positions = all(r["bit_identical"] for row in rows.values() for k, r in row.items() if k != SHIFTED)
    verdicts = {}
    for claim in claims:
        if firsts and set(claim.experiments) <= set(firsts):
            v30 = claim.decide(Evidence({e: runs_30[e] for e in claim.experiments})).verdict.value
            vbig = claim.decide(Evidence({e: firsts[e] for e in claim.experiments})).verdict.value
            verdicts[claim.id] = {"30": v30, str(big): vbig, "same": v30 == vbig}
    return {"compared_with": "the same seeds trained among 30", "batch_sizes": sorted({alone, big}),
            "bit_identical_everywhere": every, "same_positions_bit_identical": same_positions, "by_experiment": rows,
            "verdicts_on_seeds_0_29": verdicts, "same_verdicts": all(v["same"] for v in verdicts.values())}


SHIFTED = "shifted"  # seed_independence's row of seeds trained one position earlier in their batch


FINAL_KEYS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "test_rmse_original_units")


def reference_windows(exp, refs) -> list[dict]:
    """The trajectory seeds' windows: Keras' state at each checkpoint and its History after it."""
    w = windows.window_epochs(exp.name)
    steps = -(-500 // exp.batch_size)
    out = []
    for r in refs:
        for c in windows.checkpoints(exp):
            state = windows.decode_state(r.extra["states"][str(c)], exp, c, steps)
            final = {k: r.metrics[k] for k in FINAL_KEYS if k in r.metrics} if c + w == exp.epochs else None
            out.append(certificate.encode_window(r.seed, c, "keras", state,
                                                 {k: v[c:c + w] for k, v in r.history.items()}, final,
                                                 r.metrics["init_grad_max_abs"] if c == 0 else None))
    return out


def refine(cert: certificate.Certificate, checks: list[dict]) -> tuple[list[dict], float]:
    """Refine every window that parted from Keras only after its first epoch
    (:data:`harness.certification.windows.REFINEMENT`), in ``cert.data`` in place, and check the
    configurations concerned again.  Returns (the checks, seconds spent)."""
    start = time.perf_counter()
    out = []
    for c in checks:
        pending = [tuple(p) for p in c.get("to_refine") or ()]
        if c.get("level") != "window" or c.get("passed") or not pending:
            out.append(c)
            continue
        name = c["experiment"]
        exp = experiments.get(name)
        parents = {(w["seed"], w["epoch"]): w for w in cert.windows(name)}
        entry = cert.data["experiments"][name]
        print(f"  {name}: refining {len(pending)} window(s) that parted from Keras after their first epoch: "
              + ", ".join(f"seed {s} epochs {e + 1}-{e + entry['window_epochs']}" for s, e in pending), flush=True)
        try:
            rows = [r for p in pending for r in references.refined_windows(exp, parents[p])]
        except RuntimeError as exc:
            print(f"  {name}: not refined: {exc}", flush=True)
            out.append(c)
            continue
        cert.add_refined(name, rows)
        again = windows.check(cert, name)
        print(f"  {name}: {'passed' if again['passed'] else 'FAILED'} after refinement: {again['detail']}",
              flush=True)
        out.append(again)
    return out, time.perf_counter() - start


def repair(have: certificate.Certificate) -> int | None:
    """A certificate on file whose window checks failed: refine what refinement can settle and
    write it again (its references, windows and envelopes are kept).  Returns the exit status, or
    None where its checks all passed."""
    failed = [c for c in have.data["checks"] if not c.get("passed", True)]
    if not failed:
        return None
    names = [c["experiment"] for c in failed if c.get("level") == "window"]
    print(f"certify: {have.path}: checks failed on {', '.join(c['experiment'] for c in failed)}; "
          "checking again, refining windows that parted from Keras after their first epoch", flush=True)
    checks = [windows.check(have, c["experiment"]) if c["experiment"] in names and c.get("level") == "window"
              else c for c in have.data["checks"]]
    checks, seconds = refine(have, checks)
    data = have.data
    data["checks"] = checks
    data["plan"]["windows"]["refinement"] = windows.REFINEMENT
    data["cost"]["refinement_wall_seconds"] = seconds
    data["sha256"] = certificate.checksum(data)
    path = certificate.write(data, have.path.parent)
    still = [c["experiment"] for c in checks if not c.get("passed", True)]
    print(f"wrote {path}: " + (f"checks still failing: {', '.join(still)}" if still else "every check passes"),
          flush=True)
    return 1 if still else 0


SHIP_LIMIT = 4 * 2**20  # the committed certificate's budget on disk


def ship(data: dict, directory) -> int:
    """Write the certificate packed for committing (``--ship``) and say what to commit; 1 if it is over
    :data:`SHIP_LIMIT` or any of its checks failed (a certificate whose checks fail is never shipped)."""
    failed = [c["experiment"] for c in data["checks"] if not c.get("passed", True)]
    if failed:
        print(f"certify --ship: not shipped: checks failed on {', '.join(failed)}", flush=True)
        return 1
    path = certificate.write_shipped(data, directory)
    size = path.stat().st_size
    if size > SHIP_LIMIT:
        path.unlink()
        print(f"certify --ship: not shipped: {size / 2**20:.2f} MiB packed, over {SHIP_LIMIT / 2**20:.0f} MiB",
              flush=True)
        return 1
    print(f"shipped {path} ({size / 2**20:.2f} MiB packed, the same certificate, checksum {data['sha256'][:12]}); "
          f"commit it: git add {path}", flush=True)
    return 0


def try_transfer(args, env: dict) -> tuple[int | None, str | None]:
    """Carry a certificate of this Keras line here (:mod:`harness.certification.transfer`): (exit status, None)
    when it was carried, or (None, why not) when this environment must be certified in full."""
    import random

    if args.transfer_from is not None:
        source, passed = transfer.read_source(args.transfer_from, env), []  # TransferRefused: the caller's
    else:
        # where certify writes, the cells' local certificates, and the committed ones of this checkout
        shipped = Path(__file__).resolve().parents[2] / certificate.DEFAULT_DIR
        source, passed = transfer.find_source([args.out_dir, Path(args.store_dir) / "certificates", shipped], env)
    if source is None:
        return None, "no certificate of the Keras {} line to transfer from{}".format(
            transfer.keras_line(env), (": " + "; ".join(passed)) if passed else "")
    start = time.perf_counter()
    draw = random.SystemRandom().randrange(2 ** 32)  # fresh per transfer, and on record
    rng = random.Random(draw)
    names = list(experiments.EXPERIMENTS)
    sampled = {n: transfer.sample(source, n, rng) for n in names}
    print(f"certify: transferring {source.path} ({source.data['environment']['fingerprint']}) here: Keras' fit "
          f"over {sum(map(len, sampled.values()))} of its windows ({transfer.SAMPLING}; draw {draw})", flush=True)
    here, _ = references.run_transfer_windows(sampled, args.workers)
    judged = [transfer.judge(n, sampled[n], here[n]) for n in names]
    refused = [j for j in judged if not j["passed"]]
    if refused:
        reason = (f"transfer from {source.data['environment']['fingerprint']} refused: {refused[0]['detail']}"
                  + (f" (and {len(refused) - 1} more configurations)" if len(refused) > 1 else ""))
        return None, reason
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    data = transfer.transferred(source, env, judged, draw, time.perf_counter() - start, created)
    draft = certificate.Certificate(certificate.path_for(args.out_dir, env["fingerprint"]), data)
    print("checking the batched engine against every window", flush=True)
    checks = [windows.check(draft, n) for n in names]
    checks, refine_seconds = refine(draft, checks)
    failed = [c for c in checks if not c["passed"]]
    for c in failed:
        print("  FAILED " + c["detail"], flush=True)
    data["checks"] = checks
    data["cost"] = {"certify_wall_seconds": time.perf_counter() - start, "workers": args.workers,
                    "refinement_wall_seconds": refine_seconds, "keras_core_seconds": 0.0,
                    "keras_core_seconds_by_experiment": {}, "references_trained_now": 0,
                    "source_cost": source.data.get("cost")}
    data["sha256"] = certificate.checksum(data)
    path = certificate.write(data, args.out_dir)
    print(f"wrote {path}: transferred from {source.path}, {sum(map(len, sampled.values()))} windows agree (max "
          f"relative difference {data['transfer']['max_rel_diff']:.1e}); checks: {len(checks) - len(failed)} passed, "
          f"{len(failed)} failed; {time.perf_counter() - start:.0f} s", flush=True)
    return (1 if failed else 0), None


def _on_file_or_transferred(args, env) -> tuple[int | None, str | None]:
    """With ``--if-missing``: this environment's valid certificate (repaired where needed), else one
    transferred from another environment.  (exit status, or None to certify in full; why no transfer)."""
    if getattr(args, "if_missing", False) and certificate.on_file(args.out_dir, env["fingerprint"]) is not None:
        try:
            have = certificate.find(args.out_dir, env)
            status = repair(have)
            if status is None:
                print(f"certify: {have.path} is this environment's certificate, valid: nothing to do")
                if getattr(args, "ship", False):
                    return ship(have.data, args.out_dir), None
            return status or 0, None
        except certificate.CertificateError as exc:  # stale or damaged: made again
            print(f"certify: {exc}; certifying again", flush=True)
    not_transferred = None
    if getattr(args, "if_missing", False) and not getattr(args, "no_transfer", False):
        try:
            status, not_transferred = try_transfer(args, env)
        except transfer.TransferRefused as exc:
            print(f"certify --transfer-from: {exc}", file=sys.stderr, flush=True)
            return 2, None
        if status is not None:
            return (ship(certificate.find(args.out_dir, env).data, args.out_dir) if args.ship and not status
                    else status), None
        print(f"certify: {not_transferred}; certifying in full", flush=True)
    return None, not_transferred


def _add_envelopes(names: list[str], win: dict) -> None:
    """Each window's chaos envelope, into its row of ``win``."""
    print("chaos envelopes: each window restarted from its state nudged by 1-2 ulps, "
          f"{windows.PERTURBATIONS} times", flush=True)
    for n in names:
        exp = experiments.get(n)
        w = windows.window_epochs(n)
        steps = -(-500 // exp.batch_size)
        rows = [(x["seed"], x["epoch"], windows.decode_state(x["state"], exp, x["epoch"], steps)) for x in win[n]]
        for x, spread in zip(win[n], windows.envelopes(exp, rows, w)):
            x["envelope"] = {"history": {k: windows.encode_series(v) for k, v in spread["history"].items()},
                             "final": spread["final"]}


def _plan(names: list[str], seeds: list[int]) -> dict:
    return {"windows": {"trajectory_seeds": seeds, "later_seeds": list(windows.LATER_SEEDS),
                        "later_fractions": list(windows.LATER_FRACTIONS),
                        "window_epochs": {n: windows.window_epochs(n) for n in names},
                        "rtol": windows.RTOL, "accuracy_tolerance": "one sample", "refinement": windows.REFINEMENT,
                        "envelope": {"perturbations": windows.PERTURBATIONS, "relative_nudge": windows.PERTURBATION,
                                     "factor": windows.ENVELOPE_FACTOR}},
            "distribution": ("none: the windows compare every epoch of the trajectory seeds with Keras; the "
                             "10-seed distribution checks they replace could detect only P(superiority) >= 0.98")}


def _check_every_window(draft, names: list[str]) -> tuple[list[dict], float, list[dict]]:
    """The batched engine against every window of ``draft``, refined: (checks, refinement seconds, failed)."""
    print("checking the batched engine against every window", flush=True)
    checks = []
    for n in names:
        t = time.perf_counter()
        checks.append(windows.check(draft, n))
        print(f"  {n}: {'passed' if checks[-1]['passed'] else 'FAILED'} ({checks[-1]['windows']} windows, max rel "
              f"diff {checks[-1]['max_rel_diff']:.1e}, {time.perf_counter() - t:.1f} s)", flush=True)
    checks, refine_seconds = refine(draft, checks)
    failed = [c for c in checks if not c["passed"]]
    print(f"checks: {len(checks) - len(failed)} passed, {len(failed)} failed", flush=True)
    for c in failed:
        print("  FAILED " + c["detail"], flush=True)
    return checks, refine_seconds, failed


def _independence(args, names: list[str], train) -> dict:
    print(f"seed independence: 10 and 30 seeds on every configuration, {args.independence_seeds} on "
          f"{', '.join(args.independence_configs)}", flush=True)
    runs = {n: train(experiments.get(n), list(range(DEFAULT_RUN_SEEDS))) for n in names}
    independence = seed_independence(names, runs, args.independence_seeds, args.independence_configs,
                                     train, collect.all_claims(), alone=10)
    print(f"  bit-identical everywhere: {independence['bit_identical_everywhere']}; the same verdicts on seeds "
          f"0-29 of both batches: {independence['same_verdicts']} ({len(independence['verdicts_on_seeds_0_29'])} "
          "claims)", flush=True)
    return independence


def run_certify(args) -> int:
    devices.configure()
    from harness.training.engines import batched  # local: imports TensorFlow, which must follow devices.configure()

    start = time.perf_counter()
    env = environment.describe(workers=args.workers)  # the machine: the Keras workers' threads on record
    status, not_transferred = _on_file_or_transferred(args, env)
    if status is not None:
        return status
    names = list(experiments.EXPERIMENTS)
    seeds = list(certificate.SEEDS)
    store = RunStore(args.store_dir, env["fingerprint"])
    print(f"certify {env['fingerprint']} (TF {env['tensorflow']}, Keras {env['keras']}, {env['device']}): "
          f"{len(names)} configurations x {len(seeds)} full-length Keras seeds under the lesson's batch order, "
          f"states kept every window; windows of the later looks' seeds {list(windows.LATER_SEEDS)}", flush=True)
    print("  after the Keras training: the chaos envelopes, the checks and seed independence", flush=True)
    trained = references.train(store, names, seeds, args.workers)
    refs = {n: [store.read(references.ENGINE, experiments.get(n).fingerprint, s) for s in seeds] for n in names}
    lost = [f"{n} seed {s}" for n, rs in refs.items() for s, r in zip(seeds, rs) if r is None]
    if lost:
        raise RuntimeError(f"references missing from the store after training: {lost}")
    win = {n: reference_windows(experiments.get(n), refs[n]) + trained["later_windows"][n] for n in names}
    _add_envelopes(names, win)
    plan = _plan(names, seeds)
    draft = certificate.Certificate(certificate.path_for(args.out_dir, env["fingerprint"]), {
        "seeds": seeds, "environment": env,
        "experiments": {n: {"fingerprint": experiments.get(n).fingerprint, "window_epochs": windows.window_epochs(n),
                            "runs": [certificate.encode_run(r) for r in refs[n]], "windows": win[n]} for n in names}})
    checks, refine_seconds, failed = _check_every_window(draft, names)

    independence = _independence(args, names, batched.train)
    core_seconds = {n: sum(r.wall_seconds for r in refs[n]) for n in names}
    cost = {"keras_core_seconds": sum(core_seconds.values()), "keras_core_seconds_by_experiment": core_seconds,
            "workers": args.workers, "references_trained_now": trained["trained"],
            "references_wall_seconds_now": trained["seconds"], "refinement_wall_seconds": refine_seconds,
            "certify_wall_seconds": time.perf_counter() - start}
    refined = {n: draft.data["experiments"][n].get("refined", []) for n in names}
    cert = certificate.build(env, refs, win, refined=refined, checks=checks, plan=plan, seed_independence=independence, cost=cost,
                             created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    if not_transferred:  # on record: why this environment was certified in full
        cert["transfer_refused"] = not_transferred
        cert["sha256"] = certificate.checksum(cert)
    path = certificate.write(cert, args.out_dir)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB); Keras references: "
          f"{cost['keras_core_seconds'] / 60:.0f} core-minutes; this call: {cost['certify_wall_seconds'] / 60:.1f} min",
          flush=True)
    if getattr(args, "ship", False):
        return ship(cert, args.out_dir) or (1 if failed else 0)
    return 1 if failed else 0
