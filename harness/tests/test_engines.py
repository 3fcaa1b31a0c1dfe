"""Checks the ``batched`` engine against the ``keras`` engine (the lesson's
literal ``Sequential`` + ``fit``) and against real Keras/TensorFlow pieces, on
tiny cases (1-3 epochs, 2 seeds).  Each claim is paired with a variant that
breaks it, so every agreement test can fail.

Every Keras training runs once per session (``_train`` is cached).
"""
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import functools  # noqa: E402
import itertools  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from harness.training import compat, experiments, models  # noqa: E402
from harness.training.engines import batched, common, keras_engine  # noqa: E402

SEEDS = (0, 1)
N_TRAIN = 500
BATCH = 32
RTOL = 1e-5


# ------------------------------------------------------------------ helpers

@functools.lru_cache(maxsize=None)
def _train(engine: str, name: str, epochs: int, seeds: tuple = SEEDS):
    """Trains once per (engine, experiment, epochs, seeds); records are shared: don't mutate."""
    exp = experiments.get(name).with_epochs(epochs)
    if engine == "keras-replayed":
        return tuple(keras_engine.train(exp, list(seeds), batch_order="replayed"))
    fn = keras_engine.train if engine == "keras" else batched.train
    return tuple(fn(exp, list(seeds)))


def _rel_diff(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-12)))


def _assert_histories_agree(ref, got, keys, rtol=RTOL):
    for rk, rb in zip(ref, got, strict=True):
        assert rk.seed == rb.seed
        for key in keys:
            np.testing.assert_allclose(
                rb.history[key], rk.history[key], rtol=rtol, atol=0, equal_nan=True,
                err_msg=f"{rk.experiment} seed {rk.seed} {key}")


def _max_history_rel_diff(ref, got, key) -> float:
    return max(_rel_diff(rk.history[key], rb.history[key]) for rk, rb in zip(ref, got, strict=True))


def _program(name: str) -> "batched.Program":
    """A fresh program (not the module's traced cache), safe to modify."""
    exp = experiments.get(name)
    return batched.Program(exp, common.split_for(exp))


def _stacked_initial(exp, seeds=SEEDS):
    ws = [batched.initial_weights(exp, s) for s in seeds]
    return [tf.constant(np.stack([w[i] for w in ws])) for i in range(len(ws[0]))]


def _first_batches(seeds, k):
    """(k, S, 32) int32: the first k batches of each seed's first-epoch order."""
    orders = np.stack([compat.shuffle_orders(s, N_TRAIN, BATCH, epochs=1)[0] for s in seeds])
    return [tf.constant(orders[:, i * BATCH:(i + 1) * BATCH], tf.int32) for i in range(k)]


# ------------------------------------------------------- 1. initial weights

@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_initial_weights_equal_built_model(name):
    exp = experiments.get(name)
    for seed in SEEDS:
        expected_from_batched = batched.initial_weights(exp, seed)
        compat.seed_everything(seed)
        built = models.build_layers(exp).get_weights()
        assert len(expected_from_batched) == len(built) == 2 * (exp.hidden_layers + 1)
        for i, (a, b) in enumerate(zip(expected_from_batched, built)):
            assert a.shape == b.shape and a.dtype == b.dtype, (name, seed, i)
            assert np.array_equal(a, b), f"{name} seed {seed}: weight {i} differs"


def test_initial_weights_depend_on_seed():
    exp = experiments.get("circles_relu5")
    a, b = (batched.initial_weights(exp, s) for s in SEEDS)
    assert not np.array_equal(a[0], b[0])


@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_derived_initial_weights_equal_the_initializers(name):
    """The all-seeds-at-once draw is bit-identical to calling the initializers per seed
    (Keras 3; Keras 2 has no such shortcut and calls them)."""
    exp = experiments.get(name)
    seeds = [0, 1, 2, 17]
    derived = batched.derived_initial_weights(exp, seeds)
    if compat.keras_major() < 3:
        assert derived is None
        return
    for i, seed in enumerate(seeds):
        for j, w in enumerate(batched.initial_weights(exp, seed)):
            assert derived[j][i].dtype == w.dtype and np.array_equal(derived[j][i], w), (name, seed, j)


def test_batch_initial_weights_fall_back_on_a_wrong_derivation(monkeypatch):
    """A derived draw that differs from the initializers on a checked seed is never used."""
    exp = experiments.get("circles_relu5")
    seeds = list(range(6))
    expected = [batched.initial_weights(exp, s) for s in seeds]

    def stacked_equal(weights):
        return all(np.array_equal(weights[j][i], expected[i][j]) for i in range(len(seeds)) for j in range(len(weights)))

    weights, source = batched.batch_initial_weights(exp, seeds)
    assert stacked_equal(weights)
    if compat.keras_major() < 3:
        assert source == "initializers called per seed"
        return
    assert source.startswith("derived")
    original = compat.uniform_draw

    def widened(init, shape):  # a wrong bound, e.g. a Keras that changed its fan rule
        seed, lo, hi = original(init, shape)
        return seed, lo * 1.01, hi * 1.01

    monkeypatch.setattr(compat, "uniform_draw", widened)
    weights, source = batched.batch_initial_weights(exp, seeds)
    assert stacked_equal(weights)
    assert source.startswith("initializers called per seed (the derived draw differed on seeds [0, 1, 2, 4, 5])")


# ------------------------------------------------- 2. the initializer trap

def _hidden_5x5_kernels(name, seed=SEEDS[0]):
    compat.seed_everything(seed)
    w = models.build_layers(experiments.get(name)).get_weights()
    kernels = [w[i] for i in (2, 4, 6, 8)]
    assert all(k.shape == (5, 5) for k in kernels)
    return kernels


def test_shared_random_uniform_gives_identical_hidden_kernels():
    kernels = _hidden_5x5_kernels("circles_tanh5_literal")
    for k in kernels[1:]:
        assert np.array_equal(k, kernels[0])
    assert kernels[0].min() >= 0 and kernels[0].max() <= 1  # RandomUniform(0, 1)
    assert np.unique(kernels[0]).size == 25  # the kernel itself is random, not constant


def test_fresh_random_uniform_gives_distinct_hidden_kernels():
    kernels = _hidden_5x5_kernels("circles_tanh5_fresh")
    for a, b in itertools.combinations(kernels, 2):
        assert not np.array_equal(a, b)
    assert all(k.min() >= 0 and k.max() <= 1 for k in kernels)


def test_he_uniform_relu_kernels_distinct():
    kernels = _hidden_5x5_kernels("circles_relu5")
    for a, b in itertools.combinations(kernels, 2):
        assert not np.array_equal(a, b)
    limit = np.sqrt(6 / 5)  # He uniform, fan_in 5
    assert all(np.abs(k).max() <= limit for k in kernels)
    assert any(k.min() < 0 for k in kernels)


# --------------------------------------------------------- 3. batch order

def test_shuffle_orders_are_permutations():
    orders = compat.shuffle_orders(SEEDS[0], N_TRAIN, BATCH, epochs=3)
    assert orders.shape == (3, N_TRAIN)
    for row in orders:
        assert np.array_equal(np.sort(row), np.arange(N_TRAIN))
    assert not np.array_equal(orders[0], np.arange(N_TRAIN))  # actually shuffled


def test_epoch_permutations_follow_the_installed_keras():
    """Keras 3 replays one permutation every epoch; Keras 2's DataHandler draws a fresh one."""
    orders = compat.shuffle_orders(SEEDS[0], N_TRAIN, BATCH, epochs=3)
    sched, replayed = batched.shuffle_schedule(experiments.get("circles_relu5").with_epochs(3), SEEDS[0], N_TRAIN)
    if compat.keras_major() >= 3:
        assert np.array_equal(orders[0], orders[1]) and np.array_equal(orders[0], orders[2])
        assert replayed and sched.shape == (1, N_TRAIN) and np.array_equal(sched[0], orders[0])
    else:
        assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
        assert not replayed and sched.shape == (3, N_TRAIN) and np.array_equal(sched, orders)


def test_shuffle_orders_differ_between_seeds():
    a, b = (compat.shuffle_orders(s, N_TRAIN, BATCH, epochs=1)[0] for s in SEEDS)
    assert not np.array_equal(a, b)
    # and are reproducible for one seed
    assert np.array_equal(a, compat.shuffle_orders(SEEDS[0], N_TRAIN, BATCH, epochs=1)[0])


@pytest.mark.skipif(compat.keras_major() < 3, reason="Keras 2 draws a fresh permutation per epoch: read from the adapter")
def test_derived_shuffle_order_is_the_adapters():
    """The ~2 ms direct computation equals the adapter's order on 40 seeds (seed 0's
    special (0, 0) seed pair included), on other sizes, and twice in a row for one
    seed (a stateful kernel reused would continue its stream instead)."""
    for n in (N_TRAIN, 37, 1000):
        for seed in range(40) if n == N_TRAIN else (0, 3, 99):
            derived = compat.derived_shuffle_order(seed, n)
            assert np.array_equal(derived, compat.shuffle_orders(seed, n, BATCH, epochs=1)[0]), (n, seed)
            assert np.array_equal(derived, compat.derived_shuffle_order(seed, n)), (n, seed)


def test_verification_sample_spans_the_seeds():
    assert batched.verification_sample(1) == [0]
    assert batched.verification_sample(3) == [0, 1, 2]
    assert batched.verification_sample(30) == [0, 7, 14, 22, 29]
    assert batched.verification_sample(1000) == [0, 250, 500, 749, 999]


def test_batch_orders_fall_back_to_the_adapter_on_a_wrong_derivation(monkeypatch):
    """A derivation that disagrees with the adapter on any checked seed is never used."""
    exp = experiments.get("circles_relu5").with_epochs(3)
    seeds = list(range(7))
    adapter = [batched.shuffle_schedule(exp, s, N_TRAIN)[0] for s in seeds]
    orders, replayed, source = batched.batch_orders(exp, seeds, N_TRAIN)
    assert np.array_equal(orders, np.stack(adapter))
    if compat.keras_major() < 3:
        assert source == "adapter" and not replayed
        return
    assert replayed and source.startswith("derived")
    original = compat.derived_shuffle_order

    def wrong_for_seed_6(seed, n):  # 6 is the last seed: checked
        order = original(seed, n)
        return np.roll(order, 1) if seed == 6 else order

    monkeypatch.setattr(compat, "derived_shuffle_order", wrong_for_seed_6)
    orders, replayed, source = batched.batch_orders(exp, seeds, N_TRAIN)
    assert np.array_equal(orders, np.stack(adapter)) and replayed
    assert source.startswith("adapter") and "[6]" in source


def _patch_lesson_orders(monkeypatch, change):
    """The batched engine's lesson orders, changed by ``change(orders, first_epoch)`` as drawn."""
    from harness.training import orders

    original = orders.OrderStream.draw

    def draw(self, epochs):
        start = self.epoch
        return change(original(self, epochs), start)

    monkeypatch.setattr(orders.OrderStream, "draw", draw)


def test_fit_uses_the_lesson_order(monkeypatch):
    """The epoch loss averages over batches seen at changing weights, so it
    depends on the sample order: agreement with real ``fit`` pins the order."""
    ref = _train("keras", "reg_target_standard", 1)
    assert all(r.extra["batch_order"] == "lesson" for r in ref)
    _assert_histories_agree(ref, _train("batched", "reg_target_standard", 1), ["loss", "val_loss"])

    _patch_lesson_orders(monkeypatch, lambda orders, start: np.roll(orders, 1, axis=-1))
    wrong = batched.train(experiments.get("reg_target_standard").with_epochs(1), list(SEEDS))
    assert _max_history_rel_diff(ref, wrong, "loss") > 100 * RTOL
    assert _max_history_rel_diff(ref, wrong, "val_loss") > 100 * RTOL


def test_epoch_two_order_matters(monkeypatch):
    """Replay epoch 1's order in epoch 2 (what seeded Keras 3's fit does) instead of the
    lesson's fresh one: epoch 1 still agrees with real fit, epoch 2 breaks."""
    ref = _train("keras", "circles_relu5", 2)

    def replay_first(orders, start):
        orders = orders.copy()
        if start == 0 and len(orders) > 1:
            orders[1] = orders[0]
        return orders

    _patch_lesson_orders(monkeypatch, replay_first)
    wrong = batched.train(experiments.get("circles_relu5").with_epochs(2), list(SEEDS))
    for rk, rb in zip(ref, wrong):
        np.testing.assert_allclose(rb.history["loss"][0], rk.history["loss"][0], rtol=RTOL)
    # the right order agrees to ~1e-7 (test_momentum_two_epochs_agree_with_keras); near
    # chance level the circles loss is flat, so a wrong order moves it by only ~5e-4
    for key in ("loss", "val_loss"):
        assert max(_rel_diff(rk.history[key][1], rb.history[key][1]) for rk, rb in zip(ref, wrong)) > 10 * RTOL


@pytest.mark.skipif(compat.keras_major() < 3, reason="the replayed order is seeded Keras 3's")
def test_fit_uses_the_replayed_order_when_asked(monkeypatch):
    """--batch-order=replayed: both engines train seeded Keras 3's ``fit(shuffle=True)`` as it is,
    one permutation every epoch, read from Keras' adapter; a rolled order breaks the agreement."""
    exp = experiments.get("reg_target_standard").with_epochs(2)
    ref = _train("keras-replayed", "reg_target_standard", 2)
    got = batched.train(exp, list(SEEDS), batch_order="replayed")
    assert all(r.extra["batch_order"] == "replayed" for r in (*ref, *got))
    _assert_histories_agree(ref, got, ["loss", "val_loss"])
    lesson = _train("keras", "reg_target_standard", 2)
    assert _max_history_rel_diff(lesson, ref, "loss") > 100 * RTOL  # the two orders train differently

    original = batched.shuffle_schedule

    def rolled(exp, seed, n, replayed=None):
        orders, replayed = original(exp, seed, n, replayed)
        return np.roll(orders, 1, axis=-1), replayed

    monkeypatch.setattr(batched, "shuffle_schedule", rolled)
    monkeypatch.setattr(compat, "derived_shuffle_order", lambda seed, n: None)  # read the (rolled) adapter
    wrong = batched.train(exp, list(SEEDS), batch_order="replayed")
    assert _max_history_rel_diff(ref, wrong, "loss") > 100 * RTOL


@pytest.mark.skipif(compat.keras_major() >= 3, reason="Keras 3 has a replayed order")
def test_keras_2_has_no_replayed_order():
    with pytest.raises(ValueError, match="--batch-order=replayed is seeded Keras 3's replayed order"):
        batched.train(experiments.get("reg_target_standard").with_epochs(1), list(SEEDS), batch_order="replayed")


def test_unknown_batch_order_is_refused():
    with pytest.raises(ValueError, match="unknown batch order 'nope'"):
        batched.train(experiments.get("reg_target_standard").with_epochs(1), list(SEEDS), batch_order="nope")


# --------------------------------------------------- 4. last partial batch

def test_partial_batch_counts():
    prog = _program("reg_target_standard")
    assert (prog.n, prog.bs, prog.full_batches, prog.partial) == (500, 32, 15, 20)
    if compat.keras_major() >= 3:  # what fit's own data adapter makes of it
        from keras.src.trainers.data_adapters import get_data_adapter

        x = np.zeros((N_TRAIN, 1), np.float32)
        adapter = get_data_adapter(x=x, y=x, batch_size=BATCH, shuffle=True)
        assert adapter.num_batches == 16 and adapter.partial_batch_size == 20
        assert sum(1 for _ in adapter.get_tf_dataset()) == 16


def test_partial_batch_is_trained(monkeypatch):
    ref = _train("keras", "reg_target_standard", 1)
    _assert_histories_agree(ref, _train("batched", "reg_target_standard", 1), ["loss", "val_loss"])

    # ``partial`` is read when the program is traced, so drop it on a fresh,
    # untraced program and make train() use that one.
    prog = _program("reg_target_standard")
    prog.partial = 0
    monkeypatch.setattr(batched, "_program", lambda exp, split, program: prog)
    dropped = batched.train(experiments.get("reg_target_standard").with_epochs(1), list(SEEDS))
    assert _max_history_rel_diff(ref, dropped, "loss") > 100 * RTOL
    assert _max_history_rel_diff(ref, dropped, "val_loss") > 100 * RTOL


# ------------------------------------------------------------- 5. momentum

def test_momentum_two_epochs_agree_with_keras():
    ref = _train("keras", "circles_relu5", 2)
    got = _train("batched", "circles_relu5", 2)
    _assert_histories_agree(ref, got, ["loss", "val_loss"])
    _assert_histories_agree(ref, got, ["accuracy", "val_accuracy"], rtol=1e-6)


def test_step_is_sgd_with_momentum():
    """Two eager ``step`` calls equal m = 0.9 m - 0.01 g; w += m in numpy, with
    g from ``program.grads``; and equal real Keras SGD on a per-seed model."""
    name = "circles_relu5"
    exp = experiments.get(name)
    prog = _program(name)
    params0 = _stacked_initial(exp)
    idxs = _first_batches(SEEDS, 2)

    params, moms = params0, [tf.zeros_like(p) for p in params0]
    w = [p.numpy().astype(np.float64) for p in params0]
    m = [np.zeros_like(x) for x in w]
    for idx in idxs:
        _, _, g = prog.grads([tf.constant(x, tf.float32) for x in w], idx)
        m = [0.9 * mi - 0.01 * gi.numpy() for mi, gi in zip(m, g)]
        w = [wi + mi for wi, mi in zip(w, m)]
        params, moms, *_ = prog.step(params, moms, idx, tf.constant(0))
    for got, want in zip(params, w):
        np.testing.assert_allclose(got.numpy(), want, atol=1e-6, rtol=0)
    moved = max(float(np.abs(p.numpy() - p0.numpy()).max()) for p, p0 in zip(params, params0))
    assert moved > 1e-4  # the check is not vacuous

    # Real Keras: gradients through the Keras model and loss, update by Keras SGD.
    k = compat.keras()
    loss_fn = k.losses.get(exp.loss)
    split = common.split_for(exp)
    for s, seed in enumerate(SEEDS):
        compat.seed_everything(seed)
        model = models.build_layers(exp)
        opt = compat.sgd(exp.learning_rate, exp.momentum, exp.clipnorm, exp.clipvalue)
        for idx in idxs:
            i = idx.numpy()[s]
            xb, yb = tf.constant(split.train_x[i]), tf.constant(split.train_y[i])
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(loss_fn(yb, model(xb, training=True)))
            grads = tape.gradient(loss, model.trainable_weights)
            opt.apply_gradients(zip(grads, model.trainable_weights))
        for got, want in zip(params, model.get_weights()):
            np.testing.assert_allclose(got.numpy()[s], want, atol=1e-6, rtol=0)


# ------------------------------------------------------ 6. per-seed clipnorm

def test_clipnorm_is_per_seed_and_per_variable():
    name = "reg_unscaled_clipnorm"
    exp = experiments.get(name)
    assert exp.clipnorm == 1.0
    prog = _program(name)
    _, _, g = prog.grads(_stacked_initial(exp), _first_batches(SEEDS, 1)[0])
    k_opt = compat.sgd(exp.learning_rate, exp.momentum, exp.clipnorm, exp.clipvalue)
    for gv in g:
        a0, b0 = gv[0], gv[1]
        assert float(tf.norm(a0)) > 1.0  # unscaled data: gradients in the hundreds
        a = a0 / tf.norm(a0) * 0.5  # seed 0: norm 0.5, must pass unclipped
        b = 1000.0 * b0  # seed 1: huge norm, must be scaled to norm 1
        clipped = prog.clip(tf.stack([a, b]))
        np.testing.assert_allclose(clipped[0].numpy(), tf.clip_by_norm(a, 1.0).numpy(), rtol=1e-6, atol=0)
        np.testing.assert_allclose(clipped[0].numpy(), a.numpy(), rtol=1e-6, atol=0)
        np.testing.assert_allclose(clipped[1].numpy(), tf.clip_by_norm(b, 1.0).numpy(), rtol=1e-6, atol=1e-12)
        assert float(tf.norm(clipped[1])) == pytest.approx(1.0, rel=1e-5)
        if hasattr(k_opt, "_clip_gradients"):  # Keras' own clipping, one seed at a time
            for s, one in enumerate((a, b)):
                want = np.asarray(k_opt._clip_gradients([one])[0])
                np.testing.assert_allclose(clipped[s].numpy(), want, rtol=1e-6, atol=1e-12)
        # A norm taken across seeds would have shrunk seed 0 as well.
        across = tf.clip_by_norm(tf.stack([a, b]), 1.0)
        assert not np.allclose(across[0].numpy(), clipped[0].numpy(), rtol=1e-3)


@pytest.mark.parametrize("name", ["reg_unscaled_clipnorm", "reg_unscaled_clipvalue"])
def test_clipped_two_epochs_agree_with_keras(name):
    ref = _train("keras", name, 2)
    got = _train("batched", name, 2)
    _assert_histories_agree(ref, got, ["loss", "val_loss"], rtol=1e-4)
    assert all(np.isfinite(r.history["loss"]).all() for r in ref)  # clipping keeps it finite


# ------------------------------------------------------------ 7. NaN epoch

def test_nonfinite_epoch_agrees_with_keras():
    ref = _train("keras", "reg_unscaled", 3)
    got = _train("batched", "reg_unscaled", 3)
    for rk, rb in zip(ref, got, strict=True):
        assert rk.metrics["first_nonfinite_epoch"] is not None  # the lesson's divergence
        assert rb.metrics["first_nonfinite_epoch"] == rk.metrics["first_nonfinite_epoch"]
        for key in ("loss", "val_loss"):
            assert np.array_equal(np.isnan(rb.history[key]), np.isnan(rk.history[key])), (rk.seed, key)
            assert np.array_equal(np.isinf(rb.history[key]), np.isinf(rk.history[key])), (rk.seed, key)
        # "error gradients ... in the hundreds", measured identically at the start
        assert rb.metrics["init_grad_max_abs"] == pytest.approx(rk.metrics["init_grad_max_abs"], rel=RTOL)
        assert rk.metrics["init_grad_max_abs"] > 100


# ------------------------------------------------ 8. clipvalue element-wise

def test_clipvalue_is_elementwise():
    prog = _program("reg_unscaled_clipvalue")
    v = prog.exp.clipvalue
    assert v == 5.0
    rng = np.random.default_rng(0)
    g = rng.normal(scale=10.0, size=(2, 20, 25)).astype(np.float32)
    g[0, 0, :4] = [5.0, -5.0, 4.999, -1e6]
    g[1] *= 100.0  # another seed's scale must not matter
    got = prog.clip(tf.constant(g)).numpy()
    assert np.array_equal(got, np.clip(g, -v, v))
    assert (np.abs(g) > v).mean() > 0.3 and (np.abs(g) < v).any()  # both branches exercised


def test_schedule_hint_reads_the_same_orders():
    """Knowing whether Keras replays (from the first seed) skips the probe, never changes the orders."""
    exp = experiments.get("circles_relu5").with_epochs(3)
    for seed in SEEDS:
        probed, replayed = batched.shuffle_schedule(exp, seed, N_TRAIN)
        hinted, again = batched.shuffle_schedule(exp, seed, N_TRAIN, replayed)
        assert again == replayed and np.array_equal(probed, hinted)


# ------------------------------------------- 9. states, checkpoints and windows

def test_keras_window_restarts_where_the_run_left_off():
    """A Keras state snapshot at epoch 2 and ``fit`` restarted from it for the last 2 epochs give
    the run's own last 2 epochs; the batched engine restarted from the same state agrees."""
    exp = experiments.get("reg_target_standard").with_epochs(4)
    rec = keras_engine.train_one(exp, 1, snapshots=(0, 2))
    states = rec.extra["states"]
    assert sorted(states) == [0, 2] and states[2]["iterations"] == 2 * 16 and states[0]["iterations"] == 0
    for a, b in zip(states[0]["weights"], batched.initial_weights(exp, 1)):
        assert np.array_equal(a, b)
    assert all(not m.any() for m in states[0]["momentums"])
    assert any(m.any() for m in states[2]["momentums"])  # momentum slots are part of the state

    history, final = keras_engine.window(exp, 1, 2, states[2], 2)
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(history[key], rec.history[key][2:], rtol=1e-6, err_msg=key)
    assert final["test_loss"] == pytest.approx(rec.metrics["test_loss"], rel=1e-6)
    mid, none = keras_engine.window(exp, 1, 0, states[0], 2)
    assert none is None
    np.testing.assert_allclose(mid["loss"], rec.history["loss"][:2], rtol=1e-6)

    (hist, bfinal, grad), (hist0, _, grad0) = batched.restart(exp, [(1, 2, states[2]), (1, 0, None)], 2)
    assert grad is None and grad0 == pytest.approx(rec.metrics["init_grad_max_abs"], rel=RTOL)
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(hist[key], history[key], rtol=RTOL, err_msg=key)
        np.testing.assert_allclose(hist0[key], rec.history[key][:2], rtol=RTOL, err_msg=key)
    assert bfinal["test_loss"] == pytest.approx(final["test_loss"], rel=RTOL)

    # a wrong state (momentum slots dropped) does not reproduce the window
    no_momentum = {**states[2], "momentums": [np.zeros_like(m) for m in states[2]["momentums"]]}
    (wrong, _, _), = batched.restart(exp, [(1, 2, no_momentum)], 2)
    assert _rel_diff(wrong["loss"], history["loss"]) > 100 * RTOL


def test_batched_checkpoints_continue_like_the_whole_run():
    """States kept at checkpoints, restarted for the rest of the run at their true epochs, give
    the run's own History (the engine's half of every certificate window)."""
    exp = experiments.get("circles_relu5").with_epochs(6)
    runs = batched.train(exp, [0, 1, 2], checkpoints=(0, 2, 4))
    assert all(sorted(r.extra["states"]) == [0, 2, 4] for r in runs)
    assert runs[0].extra["states"][4]["iterations"] == 4 * 16
    rows = [(r.seed, c, r.extra["states"][c]) for r in runs for c in (2, 4)]
    out = batched.restart(exp, rows, 2)
    for (seed, c, _), (hist, final, grad) in zip(rows, out):
        r = runs[seed]
        assert grad is None and (final is None) == (c == 2)
        for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
            np.testing.assert_allclose(hist[key], r.history[key][c:c + 2], rtol=RTOL, err_msg=(seed, c, key))
    # restarting at the wrong epoch index trains on other epochs' orders
    (shifted, _, _), = batched.restart(exp, [(0, 3, runs[0].extra["states"][2])], 2)
    assert _rel_diff(shifted["loss"], runs[0].history["loss"][2:4]) > 10 * RTOL


def test_keras_state_round_trips():
    exp = experiments.get("reg_target_standard")
    compat.seed_everything(0)
    model = models.build(exp)
    state = keras_engine.get_state(model)
    changed = {"weights": [w + 1 for w in state["weights"]], "momentums": [m + 0.5 for m in state["momentums"]],
               "iterations": 48}
    keras_engine.set_state(model, changed)
    back = keras_engine.get_state(model)
    assert back["iterations"] == 48
    for key in ("weights", "momentums"):
        assert all(np.array_equal(a, b) for a, b in zip(back[key], changed[key]))
