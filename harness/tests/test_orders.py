"""The lesson's batch order: a fresh, reproducible permutation per epoch and seed."""
from __future__ import annotations

import numpy as np
import pytest

from harness.training import orders

N = 500


def test_lesson_orders_are_permutations_and_reproducible():
    a = orders.lesson_orders(0, N, 0, 5)
    assert a.shape == (5, N) and a.dtype == np.int32
    for row in a:
        assert np.array_equal(np.sort(row), np.arange(N))
    assert not np.array_equal(a[0], np.arange(N))  # actually shuffled
    assert np.array_equal(a, orders.lesson_orders(0, N, 0, 5))


def test_lesson_orders_differ_per_epoch_and_per_seed():
    a, b = orders.lesson_orders(0, N, 0, 3), orders.lesson_orders(1, N, 0, 3)
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])  # fresh every epoch
    assert all(not np.array_equal(x, y) for x, y in zip(a, b))


def test_lesson_orders_are_numpys_generator_keyed_by_seed():
    rng = np.random.default_rng([orders.ORDER_KEY, 7])
    want = np.stack([rng.permutation(N) for _ in range(3)])
    assert np.array_equal(orders.lesson_orders(7, N, 0, 3), want)


def test_a_stretch_of_epochs_is_the_same_slice_of_the_run():
    whole = orders.lesson_orders(3, N, 0, 30)
    assert np.array_equal(orders.lesson_orders(3, N, 10, 20), whole[10:20])
    assert np.array_equal(orders.lesson_orders(3, N, 29, 30), whole[29:])
    stream = orders.OrderStream(3, N)
    stream.skip_to(4)
    assert stream.epoch == 4 and np.array_equal(stream.draw(6), whole[4:10]) and stream.epoch == 10
    stream.skip_to(10)  # where it is: nothing drawn
    assert np.array_equal(stream.draw(1), whole[10:11])
    stream.skip_to(25)
    assert np.array_equal(stream.draw(5), whole[25:30])


def test_a_stream_does_not_go_back():
    stream = orders.OrderStream(0, N)
    stream.draw(3)
    with pytest.raises(ValueError, match="seed 0: cannot go back from epoch 3 to 1"):
        stream.skip_to(1)


def test_the_orders_digest_is_stable_and_sensitive():
    assert orders.digest() == orders.digest()
    assert orders.digest(seeds=(0, 1, 998)) != orders.digest()
    assert orders.digest(n=499) != orders.digest()


def test_batch_order_names_are_checked():
    assert orders.DEFAULT == "lesson" and orders.BATCH_ORDERS == ("lesson", "replayed")
    assert orders.check("replayed") == "replayed"
    with pytest.raises(ValueError, match="unknown batch order 'shuffled'; choose one of lesson, replayed"):
        orders.check("shuffled")
