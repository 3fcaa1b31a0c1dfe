"""The lesson's code, literally: one compiled Sequential per seed and Keras' own ``fit``.

The batch order is the lesson reader's, a fresh permutation per epoch
(:mod:`harness.orders`), fed to ``fit`` as a tf.data pipeline of each epoch's
batches with ``steps_per_epoch``, so one ``fit`` call trains every epoch in the
given order (its iterator runs on across epochs; ``shuffle`` is then off).
The ``replayed`` variant is the lesson's ``fit(x, y, shuffle=True)`` after
``keras.utils.set_random_seed``, as it is: seeded Keras 3 replays one order.

:func:`train_one` can also snapshot the training state (weights, momentum
slots, iteration count) at the start of chosen epochs, and :func:`window`
restarts ``fit`` from such a state at its true epoch: the two halves of the
certificate's windows (:mod:`harness.windows`).
"""
from __future__ import annotations

import math
import time

import numpy as np

from .. import compat, data, environment, models, orders
from ..experiments import Experiment
from ..records import RunRecord, first_nonfinite_epoch
from . import common


def initial_gradient_max_abs(model, exp: Experiment, split: data.Split, order: np.ndarray) -> float:
    """max |dL/dw| over all weights, for the first batch ``fit`` will see, at the
    initial weights (the lesson's "error gradients ... in the hundreds")."""
    import tensorflow as tf

    idx = order[: exp.batch_size]
    xb, yb = tf.constant(split.train_x[idx]), tf.constant(split.train_y[idx])
    loss_fn = compat.keras().losses.get(exp.loss)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(loss_fn(yb, model(xb, training=True)))
    grads = tape.gradient(loss, model.trainable_weights)
    return float(max(tf.reduce_max(tf.abs(g)).numpy() for g in grads))


def steps_per_epoch(exp: Experiment, n: int) -> int:
    return math.ceil(n / exp.batch_size)


def ordered_dataset(exp: Experiment, split: data.Split, epoch_orders: np.ndarray):
    """A tf.data pipeline of the batches of each epoch in ``epoch_orders`` (E, n), in that
    order: 15 batches of 32 then the last 20 samples, per epoch (what ``fit`` batches).  ``fit`` is
    called with ``shuffle=False``: the order is this pipeline's."""
    import tensorflow as tf

    x, y = tf.constant(split.train_x), tf.constant(split.train_y)
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(epoch_orders, tf.int32))
    ds = ds.flat_map(lambda idx: tf.data.Dataset.from_tensor_slices(idx).batch(exp.batch_size))
    return ds.map(lambda b: (tf.gather(x, b), tf.gather(y, b)))


def validation(exp: Experiment, split: data.Split) -> dict:
    """``fit``'s validation arguments: the test half in batches of 32, as ``validation_data=(x, y)``
    gives, from one repeated pipeline with ``validation_steps``, so ``fit`` keeps one iterator
    instead of building one per epoch (13 ms each, half of ``fit``'s time here: profiled).
    The values are the same: the same batches, unshuffled, the same weighted mean."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((split.test_x, split.test_y)).batch(exp.batch_size).repeat()
    return {"validation_data": ds, "validation_steps": math.ceil(len(split.test_x) / exp.batch_size)}


def optimizer_slots(model) -> list:
    """The momentum variables, in ``get_weights()`` order (Keras 3 and tf-keras' SGD both call them ``momentums``)."""
    opt = model.optimizer
    if not getattr(opt, "built", True) or not hasattr(opt, "momentums"):
        opt.build(model.trainable_variables)
    return list(opt.momentums)


def get_state(model) -> dict:
    """What the next batches depend on: weights, momentum slots, the iteration count
    (the batch order is a function of seed and epoch, see :mod:`harness.orders`)."""
    return {"weights": [np.asarray(w, np.float32) for w in model.get_weights()],
            "momentums": [np.asarray(m.numpy(), np.float32) for m in optimizer_slots(model)],
            "iterations": int(model.optimizer.iterations.numpy())}


def set_state(model, state: dict) -> None:
    model.set_weights([np.asarray(w, np.float32) for w in state["weights"]])
    for var, value in zip(optimizer_slots(model), state["momentums"], strict=True):
        var.assign(np.asarray(value, np.float32))
    model.optimizer.iterations.assign(int(state["iterations"]))


def _snapshotter(model, epochs: set[int], out: dict):
    k = compat.keras()

    class Snapshot(k.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):  # the state at the start of epoch + 1
            if epoch + 1 in epochs:
                out[epoch + 1] = get_state(model)

    return Snapshot()


def train_one(exp: Experiment, seed: int, batch_order: str = orders.DEFAULT,
              snapshots: tuple[int, ...] = ()) -> RunRecord:
    """One seed of the lesson's code.  ``snapshots``: epochs at whose start the state
    is kept (0 = the initial weights); they go into ``record.extra['states']``."""
    split = common.split_for(exp)
    n = len(split.train_x)
    if batch_order == "lesson":
        epoch_orders = orders.lesson_orders(seed, n, 0, exp.epochs)
        first_order = epoch_orders[0]
    else:
        # The first epoch's order, read from Keras' own pipeline; this seeds the
        # global RNG itself, so we seed again below and the fit sees a fresh state.
        first_order = compat.shuffle_orders(seed, n, exp.batch_size, epochs=1)[0]
    start = time.perf_counter()
    compat.seed_everything(seed)
    model = models.build(exp)
    grad0 = initial_gradient_max_abs(model, exp, split, first_order)
    states: dict[int, dict] = {}
    callbacks = []
    if snapshots:
        if 0 in snapshots:
            states[0] = get_state(model)
        callbacks.append(_snapshotter(model, set(snapshots), states))
    if batch_order == "lesson":
        fit = model.fit(ordered_dataset(exp, split, epoch_orders), **validation(exp, split), shuffle=False,
                        epochs=exp.epochs, steps_per_epoch=steps_per_epoch(exp, n), verbose=0, callbacks=callbacks)
    else:
        fit = model.fit(split.train_x, split.train_y, validation_data=(split.test_x, split.test_y),
                        epochs=exp.epochs, batch_size=exp.batch_size, shuffle=True, verbose=0, callbacks=callbacks)
    history = compat.normalize_history(fit.history)
    metrics = final_metrics(model, exp, split)
    metrics["first_nonfinite_epoch"] = first_nonfinite_epoch(history["loss"])
    metrics["init_grad_max_abs"] = grad0
    extra = {"batch_order": batch_order}
    if snapshots:
        extra["states"] = states
    return RunRecord(
        experiment=exp.name, fingerprint=exp.fingerprint, seed=int(seed), engine="keras",
        epochs=exp.epochs, history=history, metrics=metrics,
        wall_seconds=time.perf_counter() - start, device=environment.device_name(), extra=extra,
    )


def final_metrics(model, exp: Experiment, split: data.Split) -> dict:
    train_eval = compat.evaluate_dict(model, split.train_x, split.train_y)
    test_eval = compat.evaluate_dict(model, split.test_x, split.test_y)
    test_pred = model.predict(split.test_x, verbose=0, batch_size=exp.batch_size)
    return common.final_metrics(exp, split, train_eval, test_eval, test_pred.reshape(1, -1))[0]


_MODELS: dict[str, object] = {}


def window(exp: Experiment, seed: int, epoch: int, state: dict, epochs: int) -> tuple[dict, dict | None]:
    """``fit`` restarted from ``state`` at the start of ``epoch`` for ``epochs`` epochs, on the
    lesson's orders of those epochs: (History, final metrics where the window ends the run)."""
    split = common.split_for(exp)
    n = len(split.train_x)
    model = _MODELS.get(exp.fingerprint)
    if model is None:  # one compiled model per configuration: its train function is traced once
        compat.seed_everything(seed)
        model = _MODELS[exp.fingerprint] = models.build(exp)
    set_state(model, state)
    fit = model.fit(ordered_dataset(exp, split, orders.lesson_orders(seed, n, epoch, epoch + epochs)),
                    **validation(exp, split), shuffle=False, initial_epoch=epoch, epochs=epoch + epochs,
                    steps_per_epoch=steps_per_epoch(exp, n), verbose=0)
    history = compat.normalize_history(fit.history)
    return history, (final_metrics(model, exp, split) if epoch + epochs == exp.epochs else None)


def train(exp: Experiment, seeds: list[int], batch_order: str = orders.DEFAULT) -> list[RunRecord]:
    return [train_one(exp, s, batch_order) for s in seeds]
