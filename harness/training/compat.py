"""Every difference between the Keras/TensorFlow versions we run on, in one place.

Supported: Keras 3 (``import keras``, TF >= 2.16) and Keras 2 (TF <= 2.15's
bundled ``tf.keras``, or ``tf_keras`` with ``TF_USE_LEGACY_KERAS=1`` on newer
TF).  Nothing outside this module imports keras directly or knows which
flavour is installed.
"""
from __future__ import annotations

import functools
import os

import numpy as np


@functools.lru_cache(maxsize=None)
def keras():
    """The Keras module the lesson's ``tensorflow.keras`` resolves to here."""
    import tensorflow as tf

    if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
        try:
            import tf_keras  # Keras 2 on TF >= 2.16

            return tf_keras
        except ImportError:  # TF <= 2.15: tf.keras *is* Keras 2
            pass
    if int(tf.__version__.split(".")[1]) <= 15:
        return tf.keras
    import keras as k

    return k


def keras_version() -> str:
    k = keras()
    version = getattr(k, "__version__", None) or getattr(k, "version", lambda: None)()
    if version:
        return version
    # TF <= 2.15's tf.keras (a lazy loader) has no __version__: ask the distribution behind it.
    from importlib import metadata

    return metadata.version("tf-keras" if k.__name__.startswith("tf_keras") else "keras")


def keras_major() -> int:
    return int(keras_version().split(".")[0])


def seed_everything(seed: int) -> None:
    """The lesson's code is unseeded; we seed Python, NumPy and TF per run the
    Keras way (``keras.utils.set_random_seed``) and make TF ops deterministic."""
    import tensorflow as tf

    keras().utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


def sgd(learning_rate: float, momentum: float, clipnorm: float | None, clipvalue: float | None):
    """SGD as the lesson builds it.  The lesson writes ``SGD(lr=0.01, ...)``; ``lr``
    was removed (Keras 3 raises on it), ``learning_rate`` is the same argument."""
    kwargs = {"learning_rate": learning_rate, "momentum": momentum}
    if clipnorm is not None:
        kwargs["clipnorm"] = clipnorm
    if clipvalue is not None:
        kwargs["clipvalue"] = clipvalue
    return keras().optimizers.SGD(**kwargs)


# Keras < 2.3 named the accuracy history key "acc"; every later one "accuracy".
_HISTORY_ALIASES = {"acc": "accuracy", "val_acc": "val_accuracy"}


def normalize_history(history: dict) -> dict[str, list[float]]:
    return {_HISTORY_ALIASES.get(k, k): [float(v) for v in vals] for k, vals in history.items()}


def evaluate_dict(model, x, y) -> dict[str, float]:
    """``model.evaluate`` (batch 32, as the lesson) as {"loss": .., "accuracy": ..}."""
    values = model.evaluate(x, y, verbose=0, batch_size=32, return_dict=True)
    return {_HISTORY_ALIASES.get(n, n): float(v) for n, v in values.items()}


def shuffle_orders(seed: int, n_samples: int, batch_size: int, epochs: int) -> np.ndarray:
    """The sample order ``model.fit(shuffle=True)`` uses in each epoch, for this seed.

    Taken from the installed Keras' own data pipeline (not re-derived), after
    seeding exactly as a run does.  Returns an int array of shape (epochs, n).

    Keras 3 (``ArrayDataAdapter.get_tf_dataset``) shuffles inside a tf.data
    map function whose op seed is fixed by the global seed; every epoch makes a
    new iterator, so the *same* permutation is replayed each epoch.  Keras 2's
    ``DataHandler`` repeats one dataset over all epochs and draws a fresh
    permutation per epoch.  Both behaviours come out of this function as they
    are; ``harness/tests`` checks the result against real ``fit`` trajectories.
    """
    import tensorflow as tf

    seed_everything(seed)
    idx = np.arange(n_samples, dtype=np.float32).reshape(-1, 1)
    orders = []
    if keras_major() >= 3:
        from keras.src.trainers.data_adapters import get_data_adapter

        adapter = get_data_adapter(x=idx, y=idx, batch_size=batch_size, shuffle=True)
        dataset = adapter.get_tf_dataset()
        for _ in range(epochs):
            orders.append(np.concatenate([b[0].numpy().ravel() for b in dataset]))
    else:
        handler = _keras2_data_handler(idx, batch_size, epochs)
        for _, iterator in handler.enumerate_epochs():
            epoch = []
            for _ in handler.steps():
                epoch.append(next(iterator)[0].numpy().ravel())
            orders.append(np.concatenate(epoch))
    del tf
    return np.stack(orders).astype(np.int64)


def uniform_draw(initializer, shape: tuple[int, int]):
    """How Keras 3 draws this (already constructed) initializer's values for a
    Dense kernel: ``tf.random.stateless_uniform(shape, seed, minval, maxval)``;
    returns (seed pair, minval, maxval), or ``None`` where we know no such
    shortcut (Keras 2, another distribution).

    Mirrors ``keras/src/initializers/random_initializers.py`` (RandomUniform;
    VarianceScaling with a uniform distribution: limit = sqrt(3 * scale / fan))
    and ``keras/src/backend/tensorflow/random.py`` (an int seed s becomes
    [s, 0] as int64, then floormod(., 2**31 - 2) as int32).  A re-derivation:
    callers verify its values against calling the initializer itself.
    """
    import math

    k = keras()
    if keras_major() < 3 or not isinstance(getattr(initializer, "seed", None), int):
        return None
    seed = np.array([initializer.seed, 0], dtype=np.int64) % (2**31 - 2)
    if isinstance(initializer, k.initializers.RandomUniform):
        return seed.astype(np.int32), float(initializer.minval), float(initializer.maxval)
    if isinstance(initializer, k.initializers.VarianceScaling) and initializer.distribution == "uniform" \
            and getattr(initializer, "input_axes", None) is None and getattr(initializer, "output_axes", None) is None:
        fan_in, fan_out = shape
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[initializer.mode]
        limit = math.sqrt(3.0 * initializer.scale / max(1.0, fan))
        return seed.astype(np.int32), -limit, limit
    return None


def derived_shuffle_order(seed: int, n_samples: int) -> np.ndarray | None:
    """The permutation Keras 3's ``fit(shuffle=True)`` replays each epoch,
    computed directly with the op ``fit`` runs (~2 ms instead of the ~110 ms it
    costs to build and drain the data adapter); ``None`` where we know no such
    shortcut (Keras 2 draws a fresh permutation per epoch).

    Keras 3's ``ArrayDataAdapter.get_tf_dataset`` calls
    ``tf.random.shuffle(tf.range(n, dtype=tf.int64))`` inside a tf.data map
    function; with the global seed set and no op seed, TF gives that op the
    seeds (global seed, 0), and TF turns (0, 0) into (0, 2**31 - 1)
    (``tensorflow/python/framework/random_seed.py``, ``get_seed``).  This is a
    re-derivation, so callers verify it against :func:`shuffle_orders` (the
    adapter itself) on a sample of seeds in every run and fall back to the
    adapter on any mismatch; a harness test checks it on 40 seeds.
    """
    if keras_major() < 3:
        return None
    import tensorflow as tf
    from tensorflow.python.eager import context

    seed = int(seed) % 2**31
    seed2 = 2**31 - 1 if seed == 0 else 0
    # A stateful random op's eager kernel is cached by its attributes and keeps
    # its generator state: a second call with the same seeds would continue
    # the stream.  A fresh kernel per call is what a fresh ``fit`` iterator gets.
    context.context().clear_kernel_cache()
    order = tf.raw_ops.RandomShuffle(value=tf.range(n_samples, dtype=tf.int64), seed=seed, seed2=seed2)
    return order.numpy()


def _keras2_data_handler(idx, batch_size, epochs):
    k = keras()
    try:
        from tf_keras.src.engine import data_adapter  # tf-keras >= 2.16
    except ImportError:  # TF <= 2.15
        from keras.src.engine import data_adapter  # type: ignore
    del k
    return data_adapter.DataHandler(x=idx, y=idx, batch_size=batch_size, epochs=epochs, shuffle=True)
