"""Semantic mutants of the batched engine, each of which the certificate's window checks must kill.

A mutant is a subclass of :class:`harness.training.engines.batched.Program` that gets one thing of
Keras' semantics wrong, from the first epoch or only late in the run (after the first 20% of its
epochs: outside any check that looks only at the start).  Here are the programs; the driver that runs
them against this environment's certificate (``python -m harness mutants``) is
:mod:`harness.certification.mutant_check`, beside the checks it exercises.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Mutant:
    name: str
    description: str
    program: type
    late: bool = False  # acts only after the first 20% of the epochs


def _late(exp, fraction: float = 0.2) -> int:
    """The first epoch a late mutant acts in: past ``fraction`` of the run."""
    return int(round(exp.epochs * fraction))


def _global_clip(prog, grads):
    """One norm over all variables of a seed (tf.clip_by_global_norm per seed)."""
    import tensorflow as tf

    sq = tf.add_n([tf.reduce_sum(tf.square(g), axis=list(range(1, len(g.shape)))) for g in grads])
    scale = tf.minimum(1.0, prog.exp.clipnorm / tf.maximum(tf.sqrt(sq), 1e-12))
    return [g * tf.reshape(scale, [-1] + [1] * (len(g.shape) - 1)) for g in grads]


def _late_learning_rate_update(prog, w, m, g, epoch):
    """SGD with momentum whose learning rate is x1.01 from 20% of the run's epochs on."""
    import tensorflow as tf

    lr = tf.where(epoch >= _late(prog.exp), prog.learning_rate * 1.01, prog.learning_rate)
    m = m * tf.constant(prog.momentum, tf.float32) - g * prog.per_row(tf.cast(lr, tf.float32), g)
    return w + m, m


def _from_the_first_epoch() -> list[Mutant]:
    import tensorflow as tf

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

    class ClipnormGlobal(Program):
        def clip_all(self, grads):
            return _global_clip(self, grads) if self.exp.clipnorm else super().clip_all(grads)

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
    ]


def _late_updates() -> list[Mutant]:
    """Late mutants of the update rule.  Late: each acts only from 20% (or more) of the run's epochs on, on
    every configuration it can touch; the size of each is that of a real bug (a constant off by 1%, a stale
    order, a variable left out of the update, a clipping norm over the wrong set)."""
    import tensorflow as tf

    from .engines.batched import Program

    class LearningRate101Late(Program):
        update = _late_learning_rate_update

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

    return [
        Mutant("late_learning_rate_x1.01", "learning rate x1.01 from 20% of the epochs on", LearningRate101Late,
               late=True),
        Mutant("late_momentum_0.89", "momentum 0.89 instead of 0.9 from 40% of the epochs on", Momentum089Late,
               late=True),
        Mutant("late_biases_frozen", "biases no longer updated from 50% of the epochs on", BiasesFrozenLate,
               late=True),
    ]


def _late_elsewhere() -> list[Mutant]:
    """Late mutants of the batch order, the clipping and the epoch count (see :func:`_late_updates`)."""
    import tensorflow as tf

    from . import orders as orderlib
    from .engines.batched import Program

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
                       for lo, gl in zip(self.clip_all(grads), _global_clip(self, grads))]
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

        update = _late_learning_rate_update

    return [
        Mutant("late_stale_batch_order", "from 30% of the epochs on, every epoch replays one order",
               OrderStaleLate, late=True),
        Mutant("late_clipnorm_global", "clipnorm on the global norm from 20% of the epochs on", ClipnormGlobalLate,
               late=True),
        Mutant("late_learning_rate_by_call_epoch", "learning rate x1.01 from 20% of the epochs on, the epochs "
               "counted from the start of each program call", LearningRate101LateByCallEpoch, late=True),
    ]


def all_mutants() -> list[Mutant]:
    """Every mutant, in the table's order: the 9 that act from the first epoch, then the 6 late ones."""
    return _from_the_first_epoch() + _late_updates() + _late_elsewhere()
