"""The batch order each epoch trains on: the lesson's, reproducibly.

The lesson's code is unseeded, so its reader's ``fit(shuffle=True)`` draws a
fresh permutation of the 500 training samples in every epoch (Keras 2 and
unseeded Keras 3 alike).  Seeded Keras 3 does not: with
``keras.utils.set_random_seed`` its tf.data shuffle has a fixed op seed and a
new iterator per epoch, so it replays ONE permutation 500 times.  Both engines
therefore take their orders from here, not from Keras:

* ``lesson`` (the default): a fresh permutation per epoch, seeded by the suite:
  epoch ``e`` of seed ``s`` is the ``(e + 1)``-th ``permutation(n)`` of
  ``numpy.random.default_rng([ORDER_KEY, s])``.  It is the same in every Keras
  and TensorFlow version (NumPy's Generator; the certificate records a digest
  of a sample of orders, so a NumPy that drew others is caught).
* ``replayed``: what seeded Keras 3's ``fit(shuffle=True)`` does, read from
  Keras 3's own data adapter (:func:`harness.compat.shuffle_orders`) and
  replayed every epoch: a named variant, for the finding that it changes
  verdicts.  Keras 2 has no such order.
"""
from __future__ import annotations

import hashlib

import numpy as np

ORDER_KEY = 0x1E550  # the stream's key beside the seed: "lesson"
BATCH_ORDERS = ("lesson", "replayed")
DEFAULT = "lesson"


class OrderStream:
    """The lesson orders of one seed, drawn epoch after epoch."""

    def __init__(self, seed: int, n: int):
        self.seed, self.n = int(seed), int(n)
        self._rng = np.random.default_rng([ORDER_KEY, self.seed])
        self.epoch = 0  # the epoch whose order the next draw gives

    def skip_to(self, epoch: int) -> None:
        if epoch < self.epoch:
            raise ValueError(f"seed {self.seed}: cannot go back from epoch {self.epoch} to {epoch}")
        while self.epoch < epoch:
            self._rng.permutation(self.n)
            self.epoch += 1

    def draw(self, epochs: int) -> np.ndarray:
        """The next ``epochs`` epochs' orders, (epochs, n) int32."""
        out = np.empty((epochs, self.n), np.int32)
        for i in range(epochs):
            out[i] = self._rng.permutation(self.n)
        self.epoch += epochs
        return out


def lesson_orders(seed: int, n: int, start: int, stop: int) -> np.ndarray:
    """Epochs ``start`` .. ``stop - 1`` of seed ``seed``: (stop - start, n) int32."""
    stream = OrderStream(seed, n)
    stream.skip_to(start)
    return stream.draw(stop - start)


def digest(seeds=(0, 1, 999), n: int = 500, epochs: int = 3) -> str:
    """SHA-256 of a sample of lesson orders (the certificate keeps it: other NumPy, other orders)."""
    h = hashlib.sha256(f"lesson orders n={n}".encode())
    for s in seeds:
        h.update(lesson_orders(s, n, 0, epochs).astype("<i4").tobytes())
    return h.hexdigest()


def check(batch_order: str) -> str:
    if batch_order not in BATCH_ORDERS:
        raise ValueError(f"unknown batch order {batch_order!r}; choose one of {', '.join(BATCH_ORDERS)}")
    return batch_order
