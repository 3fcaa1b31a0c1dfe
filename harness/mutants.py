"""``python -m harness mutants``: semantic mutants of the batched engine, each of
which the certificate's checks must kill.

A mutant is a subclass of :class:`harness.engines.batched.Program` that gets one
thing of Keras' semantics wrong.  Each is run against this environment's
certificate: first the trajectory check on every configuration (cheap, short
runs of the trajectory seeds), then, if it survives those, the full-length
distribution checks claim by claim.  The first failed check kills it.  A
mutant that survives every check is a hole in the proof: exit status 1.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass

import numpy as np


def _mutants():
    import tensorflow as tf

    from .engines.batched import Program

    class MomentumDropped(Program):
        def update(self, w, m, g, epoch):
            m = -g * tf.constant(self.learning_rate, tf.float32)
            return w + m, m

    class MomentumDroppedAfter20(Program):
        def update(self, w, m, g, epoch):
            mu = tf.where(epoch < 20, tf.constant(self.momentum, tf.float32), tf.constant(0.0, tf.float32))
            m = m * mu - g * tf.constant(self.learning_rate, tf.float32)
            return w + m, m

    class ClipnormGlobal(Program):
        def clip_all(self, grads):
            if not self.exp.clipnorm:
                return super().clip_all(grads)
            # one norm over all variables of a seed (tf.clip_by_global_norm per seed)
            sq = tf.add_n([tf.reduce_sum(tf.square(g), axis=list(range(1, len(g.shape)))) for g in grads])
            scale = tf.minimum(1.0, self.exp.clipnorm / tf.maximum(tf.sqrt(sq), 1e-12))
            return [g * tf.reshape(scale, [-1] + [1] * (len(g.shape) - 1)) for g in grads]

    class ClipvalueIgnored(Program):
        def clip(self, g):
            return g if self.exp.clipvalue else super().clip(g)

    class LastPartialBatchDropped(Program):
        def __init__(self, exp, split):
            super().__init__(exp, split)
            self.partial = 0

    class OtherSeedsOrder(Program):
        def reorder(self, orders):
            return np.roll(orders, 1, axis=0)

    class OtherSeedsWeights(Program):
        def reinit(self, weights):
            return [np.roll(w, 1, axis=0) for w in weights]

    class LearningRate101(Program):
        def __init__(self, exp, split):
            super().__init__(exp, split)
            self.learning_rate = exp.learning_rate * 1.01

    class AccuracyThreshold051(Program):
        def __init__(self, exp, split):
            super().__init__(exp, split)
            self.threshold = 0.51

    return [
        Mutant("momentum_dropped", "SGD without momentum", MomentumDropped),
        Mutant("momentum_dropped_after_20", "momentum 0 from epoch 21 on (outside the trajectory window)",
               MomentumDroppedAfter20),
        Mutant("clipnorm_global", "clipnorm on the global norm of all variables, not per variable", ClipnormGlobal),
        Mutant("clipvalue_ignored", "clipvalue never applied", ClipvalueIgnored),
        Mutant("last_partial_batch_dropped", "the last partial batch of each epoch skipped", LastPartialBatchDropped),
        Mutant("other_seeds_batch_order", "each seed trained on the next seed's batch order", OtherSeedsOrder),
        Mutant("other_seeds_initial_weights", "each seed starts from the next seed's weights", OtherSeedsWeights),
        Mutant("learning_rate_x1.01", "learning rate 0.0101 instead of 0.01", LearningRate101),
        Mutant("accuracy_threshold_0.51", "binary accuracy counts sigmoid > 0.51, not > 0.5", AccuracyThreshold051),
    ]


@dataclass
class Mutant:
    name: str
    description: str
    program: type


def _order(names):
    """Cheapest configurations first: a mutant usually dies on the first one it touches."""
    from . import experiments

    return sorted(names, key=lambda n: (experiments.get(n).epochs * (experiments.get(n).hidden_layers + 1), n))


def run_mutant(mutant: Mutant, cert, claims, plan: dict, seeds: int, out=sys.stdout) -> dict:
    from . import equivalence, experiments, verification
    from .claims import Evidence
    from .engines import batched

    start = time.perf_counter()
    names = _order(list(cert.data["experiments"]))
    traj_seeds = list(equivalence.TRAJECTORY_SEEDS)

    def killed(check: dict, how: str) -> dict:
        f = (check.get("failures") or [{}])[0]
        return {"mutant": mutant.name, "description": mutant.description, "killed": True, "check": how,
                "configuration": check["experiment"], "claim": check.get("claim"), "epoch": f.get("epoch"),
                "detail": check["detail"], "seconds": time.perf_counter() - start}

    for n in names:
        exp = experiments.get(n)
        short = exp.with_epochs(equivalence.trajectory_epochs(n))
        result = verification.trajectory(cert, n, batched.train(short, traj_seeds, program=mutant.program))
        if not result["passed"]:
            return killed(result, "trajectory")
    full: dict = {}
    for claim in sorted(claims, key=lambda c: max(_order(c.experiments).index(e) for e in c.experiments)):
        for e in claim.experiments:
            if e not in full:
                full[e] = batched.train(experiments.get(e), list(range(seeds)), program=mutant.program)
        for result in verification.distribution(cert, claim, Evidence({e: full[e] for e in claim.experiments}),
                                                plan["check_alpha"]):
            if not result["passed"]:
                return killed(result, "distribution")
    return {"mutant": mutant.name, "description": mutant.description, "killed": False, "check": None,
            "configuration": None, "claim": None, "epoch": None,
            "detail": "passed every trajectory and distribution check", "seconds": time.perf_counter() - start}


def format_table(rows: list[dict]) -> str:
    lines = [f"{'mutant':<30}{'result':<10}{'check':<14}{'configuration':<24}{'epoch':>6}  detail"]
    for r in rows:
        lines.append(f"{r['mutant']:<30}{'killed' if r['killed'] else 'SURVIVED':<10}{r['check'] or '-':<14}"
                     f"{r['configuration'] or '-':<24}{r['epoch'] if r['epoch'] is not None else '-':>6}  "
                     f"{r['detail'][:160]}")
    killed = sum(r["killed"] for r in rows)
    lines.append(f"killed: {killed}, survived: {len(rows) - killed}")
    return "\n".join(lines)


def run_mutants(args) -> int:
    from . import devices

    devices.configure()
    from . import certificate, claimset, environment, verification
    from .store import atomic_write_text

    env = environment.describe()
    try:
        cert = certificate.find(args.certificate_dir, env)
    except certificate.CertificateError as exc:
        print(f"python -m harness mutants: {exc}", file=sys.stderr)
        return 2
    claims = claimset.all_claims()
    plan = verification.plan(claims, cert, args.seeds)
    mutants = _mutants()
    if args.only:
        unknown = set(args.only) - {m.name for m in mutants}
        if unknown:
            print(f"python -m harness mutants: unknown mutant(s) {sorted(unknown)}; known: "
                  f"{', '.join(m.name for m in mutants)}", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m.name in args.only]
    rows = []
    for m in mutants:
        row = run_mutant(m, cert, claims, plan, args.seeds)
        rows.append(row)
        print(f"  {m.name}: {'killed by the ' + row['check'] + ' check on ' + row['configuration'] if row['killed'] else 'SURVIVED'}"
              f" ({row['seconds']:.0f} s)", flush=True)
    print(format_table(rows))
    atomic_write_text(args.out, json.dumps({"environment": env["fingerprint"], "certificate": str(cert.path),
                                            "seeds": args.seeds, "mutants": rows}, indent=1))
    print(f"wrote {args.out}")
    return 0 if all(r["killed"] for r in rows) else 1
