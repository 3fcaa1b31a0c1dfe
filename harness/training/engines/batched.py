"""All seeds of one experiment trained as one TensorFlow program.

Why: these MLPs are tiny, so ``model.fit`` spends its time in per-step and
per-epoch framework overhead, not arithmetic.  Stacking the seeds on a leading
axis turns S small programs into one, and putting the whole epoch loop inside
one ``tf.function`` (``tf.while_loop`` over epochs and batches) removes the
Python and callback overhead of ``fit``.

What is reproduced from the installed Keras (see ``keras/src/optimizers/sgd.py``,
``keras/src/backend/tensorflow/optimizer.py``, ``keras/src/backend/tensorflow/
trainer.py``, ``keras/src/losses/losses.py``), and checked against the Keras
engine by :mod:`harness.equivalence` in every run:

* initial weights: the initializers the lesson's layers use, drawn in the
  lesson's layer order after ``keras.utils.set_random_seed(seed)``
  (:func:`initial_weights`; a harness test compares them with ``get_weights()``
  of the built model, shared-instance trap included), or, for many seeds, the
  same stateless draws made for all seeds at once and checked against
  :func:`initial_weights` on a sample of seeds in every run
  (:func:`batch_initial_weights`);
* batch order: the per-epoch permutations of ``fit(shuffle=True)``, read from
  Keras' own data adapter (:func:`harness.compat.shuffle_orders`), or, where
  Keras replays one permutation, computed with the op it runs and checked
  against the adapter on a sample of seeds in every run (:func:`batch_orders`);
* batches of 32 and the last partial batch (500 = 15 x 32 + 20);
* losses: MSE = mean over the batch of mean over outputs; binary cross-entropy
  from the sigmoid's logits (Keras' TF backend uses ``output._keras_logits``
  with ``tf.nn.sigmoid_cross_entropy_with_logits``), mean over the batch;
* the History loss: Keras' loss tracker is a Mean weighted by batch size, so
  the epoch loss is sum(batch_loss * batch_size) / n; accuracy is the mean of
  ``y == (sigmoid > 0.5)`` over the epoch's samples, as seen during training;
* gradient clipping before the update: ``clipnorm`` is ``tf.clip_by_norm`` per
  variable, here per variable *per seed* (the norm never mixes seeds);
  ``clipvalue`` is element-wise ``clip(g, -v, v)``;
* SGD with momentum: ``m = momentum * m - lr * g; w = w + m``;
* validation every epoch on the test half, and final ``evaluate`` metrics.
"""
from __future__ import annotations

import functools
import time

import numpy as np
import tensorflow as tf

from .. import compat, data, environment
from ..experiments import Experiment
from ..models import N_INPUTS
from ..records import RunRecord, first_nonfinite_epoch
from . import common

_ACTIVATIONS = {"relu": tf.nn.relu, "tanh": tf.math.tanh, "linear": tf.identity, "sigmoid": tf.identity}


def layer_shapes(exp: Experiment) -> list[tuple[int, int]]:
    widths = [N_INPUTS[exp.dataset]] + [exp.units] * exp.hidden_layers + [1]
    return list(zip(widths[:-1], widths[1:]))


def layer_initializers(exp: Experiment, seed: int) -> list:
    """The kernel initializers ``models.build_layers(exp)`` constructs for this
    seed, in layer order.  Each Dense layer makes its kernel initializer (a
    string gives a fresh instance whose seed comes from the seeded global RNG);
    the lesson's shared ``RandomUniform`` is one instance for all."""
    k = compat.keras()
    compat.seed_everything(seed)
    shared = None
    inits = []
    for i in range(len(layer_shapes(exp))):
        kind = exp.output_init if i == exp.hidden_layers else exp.hidden_init
        if kind == "random_uniform_shared":
            shared = shared or k.initializers.RandomUniform(minval=0, maxval=1)
            inits.append(shared)
        elif kind == "random_uniform_fresh":
            inits.append(k.initializers.RandomUniform(minval=0, maxval=1))
        else:
            inits.append(k.initializers.get(kind))
    return inits


def initial_weights(exp: Experiment, seed: int) -> list[np.ndarray]:
    """The weights ``models.build_layers(exp)`` gets for this seed, in
    ``get_weights()`` order (kernel, zero bias per layer), by calling the
    initializers themselves, without building a model (10x cheaper)."""
    weights = []
    for init, shape in zip(layer_initializers(exp, seed), layer_shapes(exp)):
        weights.append(np.asarray(init(shape), dtype=np.float32))
        weights.append(np.zeros(shape[1], dtype=np.float32))
    return weights


@functools.lru_cache(maxsize=None)
def _uniform_sampler(shape: tuple[int, int]):
    def sample(seeds, minval, maxval):  # seeds (S, 2) int32 -> (S, *shape)
        return tf.map_fn(lambda s: tf.random.stateless_uniform(shape, seed=s, minval=minval, maxval=maxval),
                         seeds, fn_output_signature=tf.float32)
    return tf.function(sample, input_signature=[tf.TensorSpec([None, 2], tf.int32), tf.TensorSpec([], tf.float32),
                                                tf.TensorSpec([], tf.float32)])


def derived_initial_weights(exp: Experiment, seeds: list[int]) -> list[np.ndarray] | None:
    """:func:`initial_weights` of all seeds, stacked on a leading seed axis, with
    one stateless draw per layer for all seeds (:func:`harness.compat.uniform_draw`)
    instead of ~8 eager ops per layer and seed (12-40 ms a seed, the largest
    setup cost left at 1000 seeds); ``None`` where that shortcut is unknown."""
    shapes = layer_shapes(exp)
    draws = [[compat.uniform_draw(init, shape) for init, shape in zip(layer_initializers(exp, s), shapes)]
             for s in seeds]
    if any(d is None for per_seed in draws for d in per_seed):
        return None
    stacked = []
    for layer, shape in enumerate(shapes):
        bounds = {d[layer][1:] for d in draws}
        if len(bounds) != 1:  # the bounds depend on the shape only; anything else is not understood
            return None
        (minval, maxval), = bounds
        pairs = tf.constant(np.stack([d[layer][0] for d in draws]))
        stacked.append(_uniform_sampler(shape)(pairs, tf.constant(minval, tf.float32),
                                               tf.constant(maxval, tf.float32)).numpy())
        stacked.append(np.zeros((len(seeds), shape[1]), np.float32))
    return stacked


def batch_initial_weights(exp: Experiment, seeds: list[int]) -> tuple[list[np.ndarray], str]:
    """(stacked initial weights, source): derived for all seeds where possible and
    checked value for value against the initializers themselves on
    :func:`verification_sample` seeds; any difference falls back to calling the
    initializers for every seed, and ``source`` says so."""
    derived = derived_initial_weights(exp, seeds)
    source = "initializers called per seed"
    if derived is not None:
        checked, mismatch = _check_sample(seeds, lambda i: all(
            np.array_equal(d[i], w) for d, w in zip(derived, initial_weights(exp, seeds[i]))))
        if not mismatch:
            return derived, f"derived, equal to the initializers' own draws on {checked} seeds"
        source = f"initializers called per seed (the derived draw differed on seeds {mismatch})"
    per_seed = [initial_weights(exp, s) for s in seeds]
    return [np.stack([w[i] for w in per_seed]) for i in range(len(per_seed[0]))], source


def shuffle_schedule(exp: Experiment, seed: int, n: int, replayed: bool | None = None) -> tuple[np.ndarray, bool]:
    """(orders, replayed), read from Keras' data adapter: orders is (epochs or 1, n).
    Keras 3 replays one permutation every epoch (see compat.shuffle_orders).
    Whether this Keras replays is a property of the installed version, not of the
    seed: with ``replayed=None`` we read two epochs and compare them; a caller
    that knows the answer (from its first seed) passes it and we read one epoch or all."""
    if replayed is None:
        probe = compat.shuffle_orders(seed, n, exp.batch_size, epochs=min(2, exp.epochs))
        if all(np.array_equal(probe[0], p) for p in probe[1:]):
            return probe[:1], True
    elif replayed:
        return compat.shuffle_orders(seed, n, exp.batch_size, epochs=1), True
    return compat.shuffle_orders(seed, n, exp.batch_size, epochs=exp.epochs), False


# Seeds on which every run checks a derived order or weight draw against Keras itself.
VERIFIED_SEEDS = 5


def verification_sample(count: int, k: int = VERIFIED_SEEDS) -> list[int]:
    """Positions of the seeds to check: the first, the last and evenly spaced ones between."""
    k = min(k, count)
    return sorted({round(i * (count - 1) / max(k - 1, 1)) for i in range(k)})


def _check_sample(seeds: list[int], agrees_at) -> tuple[int, list[int]]:
    """(how many seeds were checked, the seeds where ``agrees_at(position)`` is False)."""
    checked = verification_sample(len(seeds))
    return len(checked), [seeds[i] for i in checked if not agrees_at(i)]


def batch_orders(exp: Experiment, seeds: list[int], n: int) -> tuple[np.ndarray, bool, str]:
    """(orders (S, epochs or 1, n), replayed, source) for all seeds.

    Reading the adapter costs ~110 ms per seed, which bounded 1000-seed runs
    (py-spy); where Keras replays one permutation we compute it directly
    (:func:`harness.compat.derived_shuffle_order`, ~2 ms) and check it against
    the adapter on :func:`verification_sample` seeds.  Any disagreement falls
    back to the adapter for every seed, and ``source`` says so."""
    first, replayed = shuffle_schedule(exp, seeds[0], n)  # probes whether this Keras replays the order
    source = "adapter"
    derived = [compat.derived_shuffle_order(s, n) for s in seeds] if replayed else [None]
    if derived[0] is not None:
        checked, mismatch = _check_sample(seeds, lambda i: np.array_equal(
            derived[i], first[0] if i == 0 else shuffle_schedule(exp, seeds[i], n, True)[0][0]))
        if not mismatch:
            return np.stack(derived)[:, None, :], True, f"derived, checked against the adapter on {checked} seeds"
        source = f"adapter (the derived order disagreed with it on seeds {mismatch})"
    rest = [shuffle_schedule(exp, s, n, replayed)[0] for s in seeds[1:]]
    return np.stack([first] + rest), replayed, source


class Program:
    """The compiled training program for one experiment's architecture."""

    def __init__(self, exp: Experiment, split: data.Split):
        self.exp = exp
        self.act = _ACTIVATIONS[exp.activation]
        self.n_layers = exp.hidden_layers + 1
        self.train_x = tf.constant(split.train_x)
        self.train_y = tf.constant(split.train_y)
        self.test_x = tf.constant(split.test_x)
        self.test_y = tf.constant(split.test_y)
        self.n = int(split.train_x.shape[0])
        self.bs = exp.batch_size
        self.full_batches = self.n // self.bs
        self.partial = self.n - self.full_batches * self.bs
        self.learning_rate, self.momentum = exp.learning_rate, exp.momentum
        self.threshold = 0.5  # binary_accuracy's threshold on the sigmoid
        # XLA (jit_compile=True) was measured 2-5x slower here on CPU: keep plain graph mode.
        # One trace for any number of seeds, epochs and replayed orders: the
        # signature leaves those axes open (a retrace costs seconds, and the
        # suite calls with 3, 10 and 30 seeds).
        shapes = [s for shape in layer_shapes(exp) for s in (shape, shape[1:])]
        params_spec = [tf.TensorSpec([None, *shape], tf.float32) for shape in shapes]
        self.run = tf.function(self._run, jit_compile=False, input_signature=[
            params_spec, params_spec, tf.TensorSpec([None, None, self.n], tf.int32), tf.TensorSpec([None], tf.int32)])
        self._run_states = None

    # -- model ---------------------------------------------------------------
    def forward(self, params, x):
        """x: (S, B, F) -> output pre-activation of the last layer (S, B, 1)."""
        h = x
        for i in range(self.n_layers):
            w, b = params[2 * i], params[2 * i + 1]
            h = tf.einsum("sbi,sio->sbo", h, w) + b[:, None, :]
            if i < self.n_layers - 1:
                h = self.act(h)
        if self.exp.output_activation == "linear":
            return h
        return h  # logits; the sigmoid is applied where Keras applies it

    def per_sample_loss(self, out, y):
        """(S, B) losses as Keras' loss functions compute them (mean over the last axis)."""
        if self.exp.classification:
            y = tf.broadcast_to(y, tf.shape(out))
            return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=out), axis=-1)
        return tf.reduce_mean(tf.square(y - out), axis=-1)

    def correct(self, out, y):
        """(S, B) 1.0 where Keras' binary_accuracy counts a hit: y == (sigmoid(z) > 0.5)."""
        pred = tf.cast(tf.math.sigmoid(out) > self.threshold, tf.float32)
        return tf.reduce_mean(tf.cast(tf.equal(y, pred), tf.float32), axis=-1)

    def clip(self, g):
        if self.exp.clipnorm:
            axes = list(range(1, len(g.shape)))  # every axis but the seed axis
            return tf.clip_by_norm(g, self.exp.clipnorm, axes=axes)
        if self.exp.clipvalue:
            v = self.exp.clipvalue
            return tf.clip_by_value(g, -v, v)
        return g

    def grads(self, params, idx):
        """Per-seed mean-batch loss, hits, and gradients for index batch idx (S, B)."""
        xb = tf.gather(self.train_x, idx)  # (S, B, F)
        yb = tf.gather(self.train_y, idx)  # (S, B, 1)
        with tf.GradientTape() as tape:
            tape.watch(params)
            out = self.forward(params, xb)
            batch_loss = tf.reduce_mean(self.per_sample_loss(out, yb), axis=1)  # (S,)
            # Seeds are independent, so d(sum)/dw_s = d(loss_s)/dw_s.
            total = tf.reduce_sum(batch_loss)
        grads = tape.gradient(total, params)
        hits = tf.reduce_sum(self.correct(out, yb), axis=1) if self.exp.classification else tf.zeros_like(batch_loss)
        return batch_loss, hits, grads

    def clip_all(self, grads):
        """Keras clips each variable's gradient on its own (``clipnorm`` is not a global norm)."""
        return [self.clip(g) for g in grads]

    def update(self, w, m, g, epoch):
        """SGD with momentum, Keras' form: m = momentum * m - lr * g; w = w + m (g already clipped).
        ``epoch``: (S,) int32, each row's true epoch index (0-based)."""
        m = m * tf.constant(self.momentum, tf.float32) - g * tf.constant(self.learning_rate, tf.float32)
        return w + m, m

    @staticmethod
    def per_row(values, like):
        """(S,) values shaped to broadcast against ``like`` (S, ...)."""
        return tf.reshape(values, tf.concat([tf.shape(values), tf.ones([tf.rank(like) - 1], tf.int32)], 0))

    def step(self, params, moms, idx, epoch):
        batch_loss, hits, grads = self.grads(params, idx)
        new_params, new_moms = [], []
        for w, m, g in zip(params, moms, self.clip_all(grads)):
            w, m = self.update(w, m, g, epoch)
            new_moms.append(m)
            new_params.append(w)
        return new_params, new_moms, batch_loss, hits

    def reorder(self, orders: np.ndarray, seeds: np.ndarray, epoch0: np.ndarray) -> np.ndarray:
        """The batch orders (S, K, n) of rows ``seeds`` from their epochs ``epoch0`` on, as
        given (a hook for :mod:`harness.mutants`)."""
        return orders

    def reinit(self, weights: list[np.ndarray]) -> list[np.ndarray]:
        """The initial weights as given (a hook for :mod:`harness.mutants`)."""
        return weights

    def evaluate(self, params, x, y):
        out = self.forward(params, tf.broadcast_to(x[None], [tf.shape(params[0])[0], *x.shape]))
        loss = tf.reduce_mean(self.per_sample_loss(out, y[None]), axis=1)
        acc = tf.reduce_mean(self.correct(out, y[None]), axis=1) if self.exp.classification else tf.zeros_like(loss)
        return loss, acc, out[..., 0]

    # -- a stretch of training -----------------------------------------------
    def epoch_index(self, epoch0, e):
        """(S,) the true epoch index of each row at the call's ``e``-th epoch (a hook for mutants)."""
        return epoch0 + e

    @property
    def run_keeping_states(self):
        """:meth:`_run` that also returns the state after every epoch (traced on first use)."""
        if self._run_states is None:
            self._run_states = tf.function(functools.partial(self._run, keep_states=True), jit_compile=False,
                                           input_signature=self.run.input_signature)
        return self._run_states

    def _run(self, params, moms, orders, epoch0, keep_states=False):
        """params, moms: lists of (S, ...) tensors (the state at the start of each row's
        epoch ``epoch0``); orders: (S, K, n) int32, each row's orders of its next K epochs;
        epoch0: (S,) int32.  Returns per-epoch histories (K, S) and the state after K epochs
        (with ``keep_states``, also the states after every epoch, (K, S, ...) per variable).
        A whole run is one call from the initial state at epoch 0 (or a few, when long
        orders are fed in segments); a certificate window is one call from a checkpoint."""
        params, moms = list(params), list(moms)
        epochs = tf.shape(orders)[1]
        n_seeds = tf.shape(params[0])[0]
        bs, nfull = self.bs, self.full_batches
        hist = {k: tf.TensorArray(tf.float32, size=epochs) for k in
                ("loss", "accuracy", "val_loss", "val_accuracy")}
        if keep_states:
            for i in range(len(params)):
                hist[f"w{i}"] = tf.TensorArray(tf.float32, size=epochs)
                hist[f"m{i}"] = tf.TensorArray(tf.float32, size=epochs)

        def epoch_body(e, params, moms, hist):
            order = orders[:, e, :]  # (S, n)
            epoch = self.epoch_index(epoch0, e)  # (S,) the true epoch index of each row

            def batch_body(b, params, moms, loss_sum, hit_sum):
                idx = order[:, b * bs:(b + 1) * bs]
                params, moms, bl, hits = self.step(params, moms, idx, epoch)
                return b + 1, params, moms, loss_sum + bl * bs, hit_sum + hits

            zeros = tf.zeros([n_seeds], tf.float32)
            _, params, moms, loss_sum, hit_sum = tf.while_loop(
                lambda b, *_: b < nfull, batch_body, (0, params, moms, zeros, zeros))
            if self.partial:
                idx = order[:, nfull * bs:]
                params, moms, bl, hits = self.step(params, moms, idx, epoch)
                loss_sum, hit_sum = loss_sum + bl * self.partial, hit_sum + hits
            val_loss, val_acc, _ = self.evaluate(params, self.test_x, self.test_y)
            hist = dict(hist)
            hist["loss"] = hist["loss"].write(e, loss_sum / self.n)
            hist["accuracy"] = hist["accuracy"].write(e, hit_sum / self.n)
            hist["val_loss"] = hist["val_loss"].write(e, val_loss)
            hist["val_accuracy"] = hist["val_accuracy"].write(e, val_acc)
            if keep_states:
                for i, (w, m) in enumerate(zip(params, moms)):
                    hist[f"w{i}"] = hist[f"w{i}"].write(e, w)
                    hist[f"m{i}"] = hist[f"m{i}"].write(e, m)
            return e + 1, params, moms, hist

        _, params, moms, hist = tf.while_loop(lambda e, *_: e < epochs, epoch_body, (0, params, moms, hist))
        return {k: v.stack() for k, v in hist.items()}, params, moms

    def initial_grad_max_abs(self, params, first_idx):
        _, _, grads = self.grads(params, first_idx)
        return tf.reduce_max(tf.stack([tf.reduce_max(tf.abs(g), axis=list(range(1, len(g.shape)))) for g in grads]), axis=0)


_PROGRAMS: dict[tuple, Program] = {}


def _program(exp: Experiment, split: data.Split, program: type) -> Program:
    # One traced program per architecture, optimizer and program class; epochs
    # are a tensor input, so a short run reuses the full-length trace.
    key = (exp.with_epochs(1).fingerprint, program)
    if key not in _PROGRAMS:
        _PROGRAMS[key] = program(exp, split)
    return _PROGRAMS[key]


# Orders are fed to the program in segments of epochs, so that 1000 seeds x 500 epochs of
# orders (1 GB as int32) are never held at once.
SEGMENT_BYTES = 64 * 2**20


def _segments(epochs: int, n_rows: int, n: int, cuts=()) -> list[tuple[int, int]]:
    size = max(1, SEGMENT_BYTES // (4 * max(n_rows, 1) * n))
    bounds = sorted({*range(0, epochs, size), *(c for c in cuts if 0 < c < epochs), epochs})
    return list(zip(bounds[:-1], bounds[1:]))


def _replayed_orders(exp: Experiment, seeds: list[int], n: int) -> tuple[np.ndarray, str]:
    """(S, n): the permutation seeded Keras 3's fit replays every epoch, per seed."""
    orders, replayed, source = batch_orders(exp, seeds, n)
    if not replayed:
        raise ValueError("--batch-order=replayed is seeded Keras 3's replayed order; this Keras "
                         f"({compat.keras_version()}) draws a fresh order every epoch")
    return orders[:, 0, :], source


def train(exp: Experiment, seeds: list[int], program: type = Program, batch_order: str = "lesson",
          checkpoints: tuple[int, ...] = ()) -> list[RunRecord]:
    """Train ``seeds`` of ``exp`` as one program.  ``program``: :class:`Program`
    or a subclass (the semantic mutants of :mod:`harness.mutants`).  ``checkpoints``:
    epochs at whose start each seed's state is kept in ``record.extra['states']``."""
    from .. import orders as orderlib

    orderlib.check(batch_order)
    start = time.perf_counter()
    split = common.split_for(exp)
    n = len(split.train_x)
    prog = _program(exp, split, program)
    weights, init_source = batch_initial_weights(exp, seeds)
    params = [tf.constant(w) for w in prog.reinit(weights)]
    moms = [tf.zeros_like(p) for p in params]
    if batch_order == "lesson":
        streams = [orderlib.OrderStream(s, n) for s in seeds]
        replayed, shuffle_source = None, "lesson: a fresh permutation per epoch (harness.orders)"
    else:
        replayed, shuffle_source = _replayed_orders(exp, seeds, n)
    seed_arr = np.asarray(seeds, np.int64)
    states: dict[int, tuple] = {}
    hists, grad0 = [], None
    setup = time.perf_counter() - start
    for lo, hi in _segments(exp.epochs, len(seeds), n, checkpoints):
        if lo in checkpoints:
            states[lo] = ([p.numpy() for p in params], [m.numpy() for m in moms])
        seg = (np.stack([st.draw(hi - lo) for st in streams]) if replayed is None
               else np.broadcast_to(replayed[:, None, :], (len(seeds), hi - lo, n)))
        seg = prog.reorder(np.ascontiguousarray(seg, np.int32), seed_arr, np.full(len(seeds), lo, np.int32))
        if grad0 is None:
            grad0 = prog.initial_grad_max_abs(params, tf.constant(seg[:, 0, : exp.batch_size], tf.int32)).numpy()
        hist, params, moms = prog.run(params, moms, tf.constant(seg, tf.int32),
                                      tf.constant(np.full(len(seeds), lo, np.int32)))
        hists.append({k: v.numpy().T for k, v in hist.items()})  # (S, K)
    if exp.epochs in checkpoints:
        states[exp.epochs] = ([p.numpy() for p in params], [m.numpy() for m in moms])
    hist = {k: np.concatenate([h[k] for h in hists], axis=1) for k in hists[0]}
    metrics = _final_metrics(prog, exp, split, params)
    wall = time.perf_counter() - start
    device = environment.device_name()
    keys = ["loss", "val_loss"] + (["accuracy", "val_accuracy"] if exp.classification else [])
    out = []
    for i, seed in enumerate(seeds):
        history = {k: hist[k][i].tolist() for k in keys}
        m = metrics[i]
        m["first_nonfinite_epoch"] = first_nonfinite_epoch(history["loss"])
        m["init_grad_max_abs"] = float(grad0[i])
        extra = {"batch_seeds": len(seeds), "batch_wall_seconds": wall, "setup_seconds": setup,
                 "batch_order": batch_order, "shuffle_source": shuffle_source, "init_source": init_source}
        if checkpoints:
            extra["states"] = {e: {"weights": [w[i] for w in ps], "momentums": [m_[i] for m_ in ms],
                                   "iterations": e * -(-n // exp.batch_size)} for e, (ps, ms) in states.items()}
        out.append(RunRecord(
            experiment=exp.name, fingerprint=exp.fingerprint, seed=int(seed), engine="batched",
            epochs=exp.epochs, history=history, metrics=m,
            wall_seconds=wall / len(seeds), device=device, extra=extra))
    return out


def continuous(exp: Experiment, seeds: list[int], every: int, program: type = Program) -> list[dict]:
    """``seeds`` trained from epoch 0 to the end in ONE program call on the lesson's orders, as a
    run trains them, keeping each seed's state at the start of every ``every``-th epoch: per seed
    {"history", "final", "init_grad_max_abs", "states": {epoch: state}} (the continuity check of
    :func:`harness.windows.continuity`: restarts must reproduce it)."""
    from .. import orders as orderlib

    split = common.split_for(exp)
    n = len(split.train_x)
    prog = _program(exp, split, program)
    weights, _ = batch_initial_weights(exp, seeds)
    weights = prog.reinit(weights)
    params = [tf.constant(w) for w in weights]
    moms = [tf.zeros_like(p) for p in params]
    orders = np.stack([orderlib.lesson_orders(s, n, 0, exp.epochs) for s in seeds])
    orders = prog.reorder(np.ascontiguousarray(orders, np.int32), np.asarray(seeds, np.int64),
                          np.zeros(len(seeds), np.int32))
    grad0 = prog.initial_grad_max_abs(params, tf.constant(orders[:, 0, : exp.batch_size], tf.int32)).numpy()
    out, end_params, _ = prog.run_keeping_states(params, moms, tf.constant(orders, tf.int32),
                                                 tf.constant(np.zeros(len(seeds), np.int32)))
    out = {k: v.numpy() for k, v in out.items()}
    metrics = _final_metrics(prog, exp, split, end_params)
    keys = ["loss", "val_loss"] + (["accuracy", "val_accuracy"] if exp.classification else [])
    steps = -(-n // exp.batch_size)
    result = []
    for i, seed in enumerate(seeds):
        states = {0: {"weights": [w[i] for w in weights], "momentums": [np.zeros_like(w[i]) for w in weights],
                      "iterations": 0}}
        for c in range(every, exp.epochs, every):
            states[c] = {"weights": [out[f"w{j}"][c - 1, i] for j in range(len(weights))],
                         "momentums": [out[f"m{j}"][c - 1, i] for j in range(len(weights))],
                         "iterations": c * steps}
        result.append({"seed": int(seed), "history": {k: out[k][:, i].tolist() for k in keys},
                       "final": metrics[i], "init_grad_max_abs": float(grad0[i]), "states": states})
    return result


def _final_metrics(prog: Program, exp: Experiment, split: data.Split, params) -> list[dict]:
    """``evaluate`` on both halves and the test predictions, as the lesson ends its runs."""
    train_loss, train_acc, _ = prog.evaluate(params, prog.train_x, prog.train_y)
    test_loss, test_acc, test_out = prog.evaluate(params, prog.test_x, prog.test_y)
    train_eval, test_eval = {"loss": train_loss.numpy()}, {"loss": test_loss.numpy()}
    if exp.classification:
        train_eval["accuracy"], test_eval["accuracy"] = train_acc.numpy(), test_acc.numpy()
    return common.final_metrics(exp, split, train_eval, test_eval, test_out.numpy())


def restart(exp: Experiment, rows: list[tuple[int, int, dict]], epochs: int,
            program: type = Program) -> list[tuple[dict, dict | None, float | None]]:
    """Each row (seed, epoch, state) restarted from ``state`` (``None`` at epoch 0: the engine's
    own initial weights, as a run starts) at the start of its true epoch
    and trained ``epochs`` epochs on the lesson's orders of those epochs, all rows as one
    program: per row (History, final metrics where the window ends the run, the initial
    gradient where it starts it)."""
    from .. import orders as orderlib

    split = common.split_for(exp)
    n = len(split.train_x)
    prog = _program(exp, split, program)
    own = [i for i, r in enumerate(rows) if r[2] is None]
    if own:  # rows without a state start where a run starts: the engine's own initial weights
        if any(rows[i][1] != 0 for i in own):
            raise ValueError("only a window at epoch 0 starts from the engine's own initial state")
        weights, _ = batch_initial_weights(exp, [rows[i][0] for i in own])
        weights = prog.reinit(weights)
        rows = list(rows)
        for j, i in enumerate(own):
            rows[i] = (rows[i][0], 0, {"weights": [w[j] for w in weights],
                                       "momentums": [np.zeros_like(w[j]) for w in weights]})
    params = [tf.constant(np.stack([r[2]["weights"][i] for r in rows]).astype(np.float32))
              for i in range(len(rows[0][2]["weights"]))]
    moms = [tf.constant(np.stack([r[2]["momentums"][i] for r in rows]).astype(np.float32))
            for i in range(len(rows[0][2]["momentums"]))]
    epoch0 = np.asarray([r[1] for r in rows], np.int32)
    seg = np.stack([orderlib.lesson_orders(seed, n, epoch, epoch + epochs) for seed, epoch, _ in rows])
    seg = prog.reorder(np.ascontiguousarray(seg, np.int32), np.asarray([r[0] for r in rows], np.int64), epoch0)
    grad0 = prog.initial_grad_max_abs(params, tf.constant(seg[:, 0, : exp.batch_size], tf.int32)).numpy()
    hist, params, _ = prog.run(params, moms, tf.constant(seg, tf.int32), tf.constant(epoch0))
    hist = {k: v.numpy().T for k, v in hist.items()}
    metrics = _final_metrics(prog, exp, split, params)
    keys = ["loss", "val_loss"] + (["accuracy", "val_accuracy"] if exp.classification else [])
    return [({k: hist[k][i].tolist() for k in keys}, metrics[i] if rows[i][1] + epochs == exp.epochs else None,
             float(grad0[i]) if rows[i][1] == 0 else None) for i in range(len(rows))]
