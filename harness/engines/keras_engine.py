"""The lesson's code, literally: one compiled Sequential per seed and ``fit``."""
from __future__ import annotations

import time

import numpy as np

from .. import compat, data, environment, models
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


def train_one(exp: Experiment, seed: int) -> RunRecord:
    split = common.split_for(exp)
    # The first epoch's order, read from Keras' own pipeline; this seeds the
    # global RNG itself, so we seed again below and the fit sees a fresh state.
    first_order = compat.shuffle_orders(seed, len(split.train_x), exp.batch_size, epochs=1)[0]
    start = time.perf_counter()
    compat.seed_everything(seed)
    model = models.build(exp)
    grad0 = initial_gradient_max_abs(model, exp, split, first_order)
    fit = model.fit(
        split.train_x, split.train_y,
        validation_data=(split.test_x, split.test_y),
        epochs=exp.epochs, batch_size=exp.batch_size, shuffle=True, verbose=0,
    )
    history = compat.normalize_history(fit.history)
    train_eval = compat.evaluate_dict(model, split.train_x, split.train_y)
    test_eval = compat.evaluate_dict(model, split.test_x, split.test_y)
    test_pred = model.predict(split.test_x, verbose=0, batch_size=exp.batch_size)
    metrics = common.final_metrics(exp, split, train_eval, test_eval, test_pred.reshape(1, -1))[0]
    metrics["first_nonfinite_epoch"] = first_nonfinite_epoch(history["loss"])
    metrics["init_grad_max_abs"] = grad0
    return RunRecord(
        experiment=exp.name, fingerprint=exp.fingerprint, seed=int(seed), engine="keras",
        epochs=exp.epochs, history=history, metrics=metrics,
        wall_seconds=time.perf_counter() - start, device=environment.device_name(),
    )


def train(exp: Experiment, seeds: list[int]) -> list[RunRecord]:
    return [train_one(exp, s) for s in seeds]
