"""``python -m harness mutants``: semantic mutants of the batched engine, each of
which the certificate's window checks must kill.

A mutant is a subclass of :class:`harness.engines.batched.Program` that gets one
thing of Keras' semantics wrong, from the first epoch or only late in the run
(after the first 20% of its epochs: outside any check that looks only at the
start).  Each is run against this environment's certificate exactly as a run
checks the engine (:func:`harness.certification.windows.check`, configuration by
configuration, cheapest first); the first failed window kills it, and the table
names the configuration, seed, checkpoint, key and epoch.  A mutant that
survives every window is a hole in the proof: exit status 1.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass

import numpy as np


def _late(exp, fraction: float = 0.2) -> int:
    """The first epoch a late mutant acts in: past ``fraction`` of the run."""
    return int(round(exp.epochs * fraction))


def _mutants():
    import tensorflow as tf

    from . import orders as orderlib
    from .engines.batched import Program

    class MomentumDropped(Program):
        def update(self, w, m, g, epoch):
            m = -g * tf.constant(self.learning_rate, tf.float32)
            return w + m, m

    class MomentumDroppedAfter20(Program):
        def update(self, w, m, g, epoch):
            mu = tf.where(epoch < 20, tf.constant(self.momentum, tf.float32), tf.constant(0.0, tf.float32))
            m = m * self.per_row(mu, m) - g * tf.constant(self.learning_rate, tf.float32)
            return w + m, m

    def global_clip(prog, grads):
        # one norm over all variables of a seed (tf.clip_by_global_norm per seed)
        sq = tf.add_n([tf.reduce_sum(tf.square(g), axis=list(range(1, len(g.shape)))) for g in grads])
        scale = tf.minimum(1.0, prog.exp.clipnorm / tf.maximum(tf.sqrt(sq), 1e-12))
        return [g * tf.reshape(scale, [-1] + [1] * (len(g.shape) - 1)) for g in grads]

    class ClipnormGlobal(Program):
        def clip_all(self, grads):
            return global_clip(self, grads) if self.exp.clipnorm else super().clip_all(grads)

    class ClipvalueIgnored(Program):
        def clip(self, g):
            return g if self.exp.clipvalue else super().clip(g)

    class LastPartialBatchDropped(Program):
        def __init__(self, exp, split):
            super().__init__(exp, split)
            self.partial = 0

    class OtherSeedsOrder(Program):
        def reorder(self, orders, seeds, epoch0):
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

    # -- late: each acts only from 20% (or more) of the run's epochs on, on every configuration
    # it can touch; the size of each is that of a real bug (a constant off by 1%, a stale
    # order, a variable left out of the update, a clipping norm over the wrong set).
    class LearningRate101Late(Program):
        def update(self, w, m, g, epoch):
            lr = tf.where(epoch >= _late(self.exp), self.learning_rate * 1.01, self.learning_rate)
            m = m * tf.constant(self.momentum, tf.float32) - g * self.per_row(tf.cast(lr, tf.float32), g)
            return w + m, m

    class Momentum089Late(Program):
        def update(self, w, m, g, epoch):
            mu = tf.where(epoch >= _late(self.exp, 0.4), 0.89, self.momentum)
            m = m * self.per_row(tf.cast(mu, tf.float32), m) - g * tf.constant(self.learning_rate, tf.float32)
            return w + m, m

    class BiasesFrozenLate(Program):
        def update(self, w, m, g, epoch):
            new_w, new_m = super().update(w, m, g, epoch)
            if len(w.shape) != 2:  # kernels (S, in, out) train on; biases (S, out) stop
                return new_w, new_m
            late = self.per_row(epoch >= _late(self.exp, 0.5), w)
            return tf.where(late, w, new_w), tf.where(late, m, new_m)

    class OrderStaleLate(Program):
        def reorder(self, orders, seeds, epoch0):
            # from 30% of the run on, every epoch replays the order of the epoch where it began
            stale = _late(self.exp, 0.3)
            out = orders.copy()
            for r, (seed, e0) in enumerate(zip(seeds, epoch0)):
                late = [k for k in range(orders.shape[1]) if e0 + k >= stale]
                if late:
                    out[r, late] = orderlib.lesson_orders(int(seed), orders.shape[2], stale, stale + 1)[0]
            return out

    class ClipnormGlobalLate(Program):
        def step(self, params, moms, idx, epoch):
            if not self.exp.clipnorm:
                return super().step(params, moms, idx, epoch)
            batch_loss, hits, grads = self.grads(params, idx)
            late = epoch >= _late(self.exp)
            clipped = [tf.where(self.per_row(late, lo), gl, lo)
                       for lo, gl in zip(self.clip_all(grads), global_clip(self, grads))]
            new_params, new_moms = [], []
            for w, m, g in zip(params, moms, clipped):
                w, m = self.update(w, m, g, epoch)
                new_params.append(w)
                new_moms.append(m)
            return new_params, new_moms, batch_loss, hits

    class LearningRate101LateByCallEpoch(Program):
        # the epoch counted from the start of each program call (the start epoch forgotten): a whole
        # run is one call, so it acts from 20% of the run; a window restarts the count
        def epoch_index(self, epoch0, e):
            return tf.fill(tf.shape(epoch0), e)

        def update(self, w, m, g, epoch):
            lr = tf.where(epoch >= _late(self.exp), self.learning_rate * 1.01, self.learning_rate)
            m = m * tf.constant(self.momentum, tf.float32) - g * self.per_row(tf.cast(lr, tf.float32), g)
            return w + m, m

    return [
        Mutant("momentum_dropped", "SGD without momentum", MomentumDropped),
        Mutant("momentum_dropped_after_20", "momentum 0 from epoch 21 on", MomentumDroppedAfter20),
        Mutant("clipnorm_global", "clipnorm on the global norm of all variables, not per variable", ClipnormGlobal),
        Mutant("clipvalue_ignored", "clipvalue never applied", ClipvalueIgnored),
        Mutant("last_partial_batch_dropped", "the last partial batch of each epoch skipped", LastPartialBatchDropped),
        Mutant("other_seeds_batch_order", "each seed trained on the next seed's batch order", OtherSeedsOrder),
        Mutant("other_seeds_initial_weights", "each seed starts from the next seed's weights", OtherSeedsWeights),
        Mutant("learning_rate_x1.01", "learning rate 0.0101 instead of 0.01", LearningRate101),
        Mutant("accuracy_threshold_0.51", "binary accuracy counts sigmoid > 0.51, not > 0.5", AccuracyThreshold051),
        Mutant("late_learning_rate_x1.01", "learning rate x1.01 from 20% of the epochs on", LearningRate101Late,
               late=True),
        Mutant("late_momentum_0.89", "momentum 0.89 instead of 0.9 from 40% of the epochs on", Momentum089Late,
               late=True),
        Mutant("late_biases_frozen", "biases no longer updated from 50% of the epochs on", BiasesFrozenLate,
               late=True),
        Mutant("late_stale_batch_order", "from 30% of the epochs on, every epoch replays one order",
               OrderStaleLate, late=True),
        Mutant("late_clipnorm_global", "clipnorm on the global norm from 20% of the epochs on", ClipnormGlobalLate,
               late=True),
        Mutant("late_learning_rate_by_call_epoch", "learning rate x1.01 from 20% of the epochs on, the epochs "
               "counted from the start of each program call", LearningRate101LateByCallEpoch, late=True),
    ]


@dataclass
class Mutant:
    name: str
    description: str
    program: type
    late: bool = False  # acts only after the first 20% of the epochs


def _order(names):
    """Cheapest configurations first: a mutant usually dies on the first one it touches."""
    from . import experiments

    return sorted(names, key=lambda n: (experiments.get(n).epochs * (experiments.get(n).hidden_layers + 1), n))


def run_mutant(mutant: Mutant, cert, out=sys.stdout, every: bool = False) -> dict:
    """The window check of every configuration against ``mutant``, cheapest first; the first
    failure kills it.  ``every``: go on through all configurations and list where it was killed
    (how many configurations would catch it alone)."""
    from harness.certification import windows

    start = time.perf_counter()
    row = None
    killed_on = []
    for n in _order(list(cert.data["experiments"])):
        result = windows.check(cert, n, program=mutant.program)
        if result["passed"]:
            result = windows.continuity(cert, n, program=mutant.program)
        if not result["passed"]:
            killed_on.append(n)
            if row is None:
                f = result["failures"][0]
                row = {"mutant": mutant.name, "description": mutant.description, "late": mutant.late,
                       "killed": True, "check": result["level"], "configuration": n, "seed": f["seed"],
                       "checkpoint": f["checkpoint"], "epoch": f["epoch"], "key": f["key"],
                       "detail": result["detail"]}
            if not every:
                break
    if row is None:
        row = {"mutant": mutant.name, "description": mutant.description, "late": mutant.late, "killed": False,
               "check": None, "configuration": None, "seed": None, "checkpoint": None, "epoch": None, "key": None,
               "detail": "passed every window of every configuration"}
    if every:
        row["killed_on"] = killed_on
        row["configurations_checked"] = len(cert.data["experiments"])
    row["seconds"] = time.perf_counter() - start
    return row


def format_table(rows: list[dict]) -> str:
    def cell(v):
        return "-" if v is None else str(v)

    lines = [f"{'mutant':<34}{'result':<10}{'check':<12}{'configuration':<24}{'seed':>5}{'checkpoint':>11}"
             f"{'epoch':>6}  key"]
    for r in rows:
        lines.append(f"{r['mutant']:<34}{'killed' if r['killed'] else 'SURVIVED':<10}{cell(r['check']):<12}"
                     f"{cell(r['configuration']):<24}{cell(r.get('seed')):>5}{cell(r.get('checkpoint')):>11}"
                     f"{cell(r['epoch']):>6}  {cell(r.get('key'))}")
    if any("killed_on" in r for r in rows):
        lines.append("")
        for r in rows:
            if "killed_on" in r:
                lines.append(f"{r['mutant']:<34} killed on {len(r['killed_on'])}/{r['configurations_checked']} "
                             f"configurations: {', '.join(r['killed_on']) or '-'}")
    killed = sum(r["killed"] for r in rows)
    lines.append(f"killed: {killed}, survived: {len(rows) - killed}")
    return "\n".join(lines)


def run_mutants(args) -> int:
    from . import devices

    devices.configure()
    from harness.certification import certificate
    from . import environment
    from ..storage.store import atomic_write_text

    env = environment.describe()
    try:
        cert = certificate.find(args.certificate_dir, env)
    except certificate.CertificateError as exc:
        print(f"python -m harness mutants: {exc}", file=sys.stderr)
        return 2
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
        row = run_mutant(m, cert, every=args.every_configuration)
        rows.append(row)
        print(f"  {m.name}: {'killed by the window check on ' + row['configuration'] + ' at epoch ' + str(row['epoch']) if row['killed'] else 'SURVIVED'}"
              f" ({row['seconds']:.0f} s)", flush=True)
    print(format_table(rows))
    atomic_write_text(args.out, json.dumps({"environment": env["fingerprint"], "certificate": str(cert.path),
                                            "mutants": rows}, indent=1))
    print(f"wrote {args.out}")
    return 0 if all(r["killed"] for r in rows) else 1
