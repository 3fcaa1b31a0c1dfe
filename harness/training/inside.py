"""Inside training: what the lesson's explanations are about, measured from the engine's own states.

The lesson explains its outcomes by what happens inside the network (exploding weights and gradients,
saturated tanh units, vanishing gradients, ReLU's true zeros and dead units, clipping intervening).
:func:`train` trains seeds of an experiment exactly as the batched engine does (the same program, the same
orders; the runs are bit-identical to :func:`harness.training.engines.batched.train`'s, a harness test checks
it) and keeps, per seed, in ``record.extra["inside"]``:

* at the probe epochs (:func:`probe_epochs`: the initial weights, every tenth of the run, the end), per
  layer (hidden layers first, the output layer last): ``grad_norm``, the L2 norm of dLoss/dkernel on the
  whole training set (the loss as the engine computes it); ``batch_grad_norm``, the same on the batch the
  next step trains on (none after the last epoch); ``weight_norm``, the kernel's norm; ``update_norm``, the
  norm of the kernel's momentum slot, which is the last step's change of the kernel (w <- w + m);
* per hidden layer, over every (training input, unit): ``saturated``, the share of tanh outputs with
  |a| > 0.99 (and ``saturated_90``, |a| > 0.9, for readings); ``zeros``, the share of ReLU outputs exactly
  0.0; ``dead_units``, the ReLU units that output 0 on every training input;
* on the regression models, per optimizer step (counted in the program, not sampled): the first step whose
  update left a non-finite weight (``first_nonfinite_step``, 1-based, None if none), the largest finite
  kernel norm and gradient norm seen before it (``peak_weight_norm``, ``peak_grad_norm``) beside the first
  step's (``first_weight_norm``, ``first_grad_norm``), and the share of steps on which gradient clipping
  changed a gradient (``clip_changed_share``, over the steps before the first non-finite weight): the experiment's own clip, or, on an unclipped model, the
  lesson's ``clipnorm=1.0`` applied to nothing (would it have intervened?).

:func:`measure` is the function checked against TensorFlow on the Keras model loaded with the same weights
(harness/tests/test_inside.py).  NaN stays NaN (a diverged run's norms are NaN, counted, never dropped).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .inside_quantities import (BATCH_SIZES, REFERENCE_CLIPNORM, SATURATED, SATURATED_READING,  # noqa: F401
                                probe_epochs, quantities)


# -- measuring ---------------------------------------------------------------------------------------
def measure(prog, params: list, moms: list, next_idx) -> dict[str, np.ndarray]:
    """The per-state quantities of S stacked states (``params``/``moms``: per variable (S, ...)), with the
    engine's own forward pass and loss (``prog.forward``, ``prog.per_sample_loss``) evaluated in float64: an
    instrument finer than what it measures (float32 sums of 500 gradients differ in their 6th digit between
    two correct orders of summation); ``next_idx`` (S, B) the batch the next step trains on, or None.
    Returns {quantity: (S, layers)}."""
    import tensorflow as tf

    params = [tf.constant(np.asarray(p, np.float64)) for p in params]
    n_seeds = int(params[0].shape[0])
    x, y = tf.cast(prog.train_x, tf.float64), tf.cast(prog.train_y, tf.float64)

    def kernel_grads(idx):
        with tf.GradientTape() as tape:
            tape.watch(params)
            xb = tf.broadcast_to(x[None], [n_seeds, *x.shape]) if idx is None else tf.gather(x, idx)
            yb = tf.broadcast_to(y[None], [n_seeds, *y.shape]) if idx is None else tf.gather(y, idx)
            loss = tf.reduce_sum(tf.reduce_mean(prog.per_sample_loss(prog.forward(params, xb), yb), axis=1))
        return tape.gradient(loss, params[0::2])  # seeds are independent: d(sum)/dw_s = d(loss_s)/dw_s

    out = {"grad_norm": _norms(kernel_grads(None)), "weight_norm": _norms(params[0::2]),
           "update_norm": _norms([np.asarray(m, np.float64) for m in moms[0::2]])}
    if next_idx is not None:
        out["batch_grad_norm"] = _norms(kernel_grads(tf.constant(np.ascontiguousarray(next_idx, np.int32))))
    else:
        out["batch_grad_norm"] = np.full_like(out["grad_norm"], np.nan)
    hidden = hidden_outputs(prog, params, x)
    if prog.exp.activation == "tanh":
        out["saturated"] = np.stack([np.mean(np.abs(a) > SATURATED, axis=(1, 2)) for a in hidden], axis=1)
        out["saturated_90"] = np.stack([np.mean(np.abs(a) > SATURATED_READING, axis=(1, 2)) for a in hidden], axis=1)
    elif prog.exp.activation == "relu":
        out["zeros"] = np.stack([np.mean(a == 0.0, axis=(1, 2)) for a in hidden], axis=1)
        out["dead_units"] = np.stack([np.sum(np.all(a == 0.0, axis=1), axis=1) for a in hidden], axis=1).astype(float)
    bad = ~np.stack([np.all(np.isfinite(np.asarray(p).reshape(n_seeds, -1)), axis=1) for p in params], 1).all(1)
    for v in out.values():
        v[bad] = np.nan  # a diverged state measures nothing: NaN, counted by the claims
    return out


def _norms(kernels) -> np.ndarray:
    """(S, layers): the L2 (Frobenius) norm of each seed's kernel."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.stack([np.sqrt(np.sum(np.asarray(k, np.float64).reshape(np.shape(k)[0], -1) ** 2, axis=1))
                         for k in kernels], axis=1)


def hidden_outputs(prog, params, x) -> list[np.ndarray]:
    """The hidden layers' outputs on the inputs ``x``, per seed: (S, n, units) each (``prog.forward``'s
    layers, one at a time)."""
    import tensorflow as tf

    n_seeds = int(params[0].shape[0])
    h = tf.broadcast_to(x[None], [n_seeds, *x.shape])
    out = []
    for i in range(prog.n_layers - 1):
        h = prog.act(tf.einsum("sbi,sio->sbo", h, params[2 * i]) + params[2 * i + 1][:, None, :])
        out.append(h.numpy())
    return out


# -- training with probes ---------------------------------------------------------------------------
def _counting_program():
    import tensorflow as tf

    from .engines.batched import Program

    class Counting(Program):
        """The engine's program with per-seed counters on every step (regression models): the counters read
        the step's values and change none of them."""

        def reset(self, n_seeds: int) -> None:
            zeros = lambda dtype: tf.zeros([n_seeds], dtype)  # noqa: E731
            if not hasattr(self, "counters"):
                self.counters = {k: tf.Variable(zeros(tf.float32), shape=tf.TensorShape([None]), trainable=False)
                                 for k in ("first_bad", "first_w", "peak_w", "first_g", "peak_g", "clipped", "alive")}
                self.steps = tf.Variable(0.0, trainable=False)
            for k, v in self.counters.items():
                v.assign(zeros(tf.float32) - (1.0 if k == "first_bad" else 0.0))
            self.steps.assign(0.0)

        def clip_all(self, grads):
            clipped = super().clip_all(grads)
            if self.exp.clipnorm or self.exp.clipvalue:
                changed = [tf.reduce_any(tf.not_equal(c, g), axis=list(range(1, len(g.shape))))
                           for c, g in zip(clipped, grads)]
            else:  # would the lesson's clipnorm have changed it? (per variable, as Keras clips)
                changed = [tf.norm(tf.reshape(g, [tf.shape(g)[0], -1]), axis=1) > REFERENCE_CLIPNORM
                           for g in grads]
            self._step_changed = tf.cast(tf.reduce_any(tf.stack(changed, axis=1), axis=1), tf.float32)
            self._step_grad = tf.sqrt(tf.add_n([tf.reduce_sum(tf.reshape(tf.square(g), [tf.shape(g)[0], -1]), 1)
                                                for g in grads]))
            return clipped

        def step(self, params, moms, idx, epoch):
            new_params, new_moms, batch_loss, hits = super().step(params, moms, idx, epoch)
            c = self.counters
            n = self.steps + 1.0
            kernel = tf.reduce_max(tf.stack([tf.norm(tf.reshape(w, [tf.shape(w)[0], -1]), axis=1)
                                             for w in new_params[0::2]], axis=1), axis=1)
            finite = tf.reduce_all(tf.stack([tf.reduce_all(tf.math.is_finite(tf.reshape(w, [tf.shape(w)[0], -1])), 1)
                                             for w in new_params], axis=1), axis=1)
            grad_ok = tf.math.is_finite(self._step_grad)
            alive = c["first_bad"] < 0  # no non-finite weight yet
            first = tf.equal(n, 1.0)
            c["first_bad"].assign(tf.where(alive & ~finite, n, c["first_bad"]))
            c["first_w"].assign(tf.where(first, kernel, c["first_w"]))
            c["first_g"].assign(tf.where(first, self._step_grad, c["first_g"]))
            c["peak_w"].assign(tf.where(alive & finite, tf.maximum(c["peak_w"], kernel), c["peak_w"]))
            c["peak_g"].assign(tf.where(alive & grad_ok, tf.maximum(c["peak_g"], self._step_grad), c["peak_g"]))
            # steps before the first non-finite weight: a NaN gradient is neither clipped nor not
            counted = tf.cast(alive & grad_ok, tf.float32)
            c["clipped"].assign_add(self._step_changed * counted)
            c["alive"].assign_add(counted)
            self.steps.assign(n)
            return new_params, new_moms, batch_loss, hits

    return Counting


@functools.lru_cache(maxsize=None)
def _counting() -> type:
    return _counting_program()  # one class, so the engine's cache keeps one traced program per configuration


def program_class(exp):
    """The program :func:`train` trains ``exp`` with: the engine's own, with step counters on regression."""
    from .engines.batched import Program

    return _counting() if exp.dataset == "regression" else Program


def first_orders(exp, seeds: list[int], n: int, batch_order: str = "lesson") -> np.ndarray:
    """(S, n): each seed's order of the first epoch, as the suite trains it."""
    from . import orders
    from .engines import batched

    if batch_order == "lesson":
        return np.stack([orders.lesson_orders(s, n, 0, 1)[0] for s in seeds])
    return batched._replayed_orders(exp, seeds, n)[0]


def first_batch_gradients(prog, params, first: np.ndarray, batch_size: int) -> np.ndarray:
    """(S, every weight and bias) in float64: the gradient of the first ``batch_size`` samples of ``first``
    at ``params``, by the engine's own program (what ``init_grad_max_abs`` records the largest element of)."""
    import tensorflow as tf

    _, _, grads = prog.grads([tf.constant(p) for p in params],
                             tf.constant(np.ascontiguousarray(first[:, :batch_size]), tf.int32))
    return np.concatenate([g.numpy().reshape(len(first), -1) for g in grads], axis=1).astype(np.float64)


def _by_batch_size(prog, params, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S, len(BATCH_SIZES)) each: at the initial weights, the largest |dLoss/dw| and the L2 norm over every
    weight and bias of the first batch of each size in BATCH_SIZES."""
    flats = [first_batch_gradients(prog, params, first, b) for b in BATCH_SIZES]
    return (np.stack([np.abs(f).max(axis=1) for f in flats], axis=1),
            np.stack([np.sqrt(np.sum(f ** 2, axis=1)) for f in flats], axis=1))


def train(exp, seeds: list[int], batch_order: str = "lesson"):
    """The batched engine's runs of ``seeds`` with ``extra["inside"]`` (module docstring)."""
    from . import orders
    from .engines import batched, common

    split = common.split_for(exp)
    program = program_class(exp)
    prog = batched._program(exp, split, program)
    if hasattr(prog, "reset"):
        prog.reset(len(seeds))
    epochs = probe_epochs(exp)
    runs = batched.train(exp, seeds, program=program, batch_order=batch_order, checkpoints=epochs)
    n = len(split.train_x)
    if batch_order == "lesson":
        nexts = [np.stack([orders.lesson_orders(s, n, e, e + 1)[0][:exp.batch_size] for s in seeds])
                 if e < exp.epochs else None for e in epochs]
    else:  # one permutation, replayed every epoch
        replayed = first_orders(exp, seeds, n, batch_order)
        nexts = [replayed[:, :exp.batch_size] if e < exp.epochs else None for e in epochs]
    per_epoch = []
    for e, nxt in zip(epochs, nexts):
        states = [r.extra["states"][e] for r in runs]
        params = [np.stack([s["weights"][i] for s in states]) for i in range(len(states[0]["weights"]))]
        moms = [np.stack([s["momentums"][i] for s in states]) for i in range(len(states[0]["momentums"]))]
        per_epoch.append(measure(prog, params, moms, nxt))
    counters = {k: v.numpy() for k, v in prog.counters.items()} if hasattr(prog, "counters") else None
    by_size = None
    if counters:
        initial = [np.stack([r.extra["states"][0]["weights"][i] for r in runs]) for i in range(2 * prog.n_layers)]
        by_size = _by_batch_size(prog, initial, first_orders(exp, seeds, n, batch_order))
    for i, r in enumerate(runs):
        inside = {"epochs": list(epochs), "units": exp.units, "saturation_threshold": SATURATED}
        for q in per_epoch[0]:
            inside[q] = [[float(x) for x in m[q][i]] for m in per_epoch]
        if counters:
            bad = counters["first_bad"][i]
            inside.update({
                "first_nonfinite_step": int(bad) if bad > 0 else None,
                "first_weight_norm": float(counters["first_w"][i]), "peak_weight_norm": float(counters["peak_w"][i]),
                "first_grad_norm": float(counters["first_g"][i]), "peak_grad_norm": float(counters["peak_g"][i]),
                "clip_changed_share": (float(counters["clipped"][i] / counters["alive"][i]) if counters["alive"][i]
                                       else math.nan),
                "clip_reference": (f"clipnorm={exp.clipnorm}" if exp.clipnorm else f"clipvalue={exp.clipvalue}"
                                   if exp.clipvalue else f"clipnorm={REFERENCE_CLIPNORM} (not applied)"),
                "batch_size_grad_max": [float(x) for x in by_size[0][i]],
                "batch_size_grad_norm": [float(x) for x in by_size[1][i]],
                "batch_sizes": list(BATCH_SIZES)})
        extra = {k: v for k, v in r.extra.items() if k != "states"}
        extra["inside"] = inside
        r.extra = extra
    return runs

