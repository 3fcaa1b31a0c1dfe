"""The window check's own logic, on constructed data: where windows start, how a
state is stored, and how one window is compared with Keras'."""
from __future__ import annotations

import math

import numpy as np
import pytest

from harness.training import experiments
from harness.certification import windows

SAMPLES = {"accuracy": 500, "val_accuracy": 500}


def test_checkpoints_tile_the_run_and_later_ones_fall_on_window_starts():
    exp = experiments.get("reg_unscaled")
    assert windows.checkpoints(exp) == tuple(range(0, 100, 10))
    assert windows.later_checkpoints(exp) == (20, 40, 60, 80)
    clip = experiments.get("reg_unscaled_clipvalue")
    assert windows.window_epochs(clip.name) == 2 and windows.checkpoints(clip) == tuple(range(0, 100, 2))
    circles = experiments.get("circles_relu5")
    assert windows.checkpoints(circles)[-1] == 490 and windows.later_checkpoints(circles) == (100, 200, 300, 400)
    assert set(windows.LATER_SEEDS).isdisjoint(windows.TRAJECTORY_SEEDS)
    for name in experiments.EXPERIMENTS:
        exp = experiments.get(name)
        w = windows.window_epochs(name)
        assert exp.epochs % w == 0 and all(c % w == 0 and c + w <= exp.epochs for c in windows.later_checkpoints(exp))


def test_a_state_round_trips_and_a_short_one_is_refused():
    exp = experiments.get("circles_relu5")
    rng = np.random.default_rng(0)
    shapes = windows.param_shapes(exp)
    assert shapes[0] == (2, 5) and shapes[-1] == (1,) and len(shapes) == 2 * (exp.hidden_layers + 1)
    state = {"weights": [rng.standard_normal(s).astype(np.float32) for s in shapes],
             "momentums": [rng.standard_normal(s).astype(np.float32) for s in shapes]}
    text = windows.encode_state(state)
    back = windows.decode_state(text, exp, 30, 16)
    assert back["iterations"] == 480
    for key in ("weights", "momentums"):
        assert all(a.dtype == np.float32 and np.array_equal(a, b) for a, b in zip(back[key], state[key]))
    with pytest.raises(ValueError, match="truncated or of another architecture"):
        windows.decode_state(text[:-8], exp, 30, 16)
    with pytest.raises(ValueError, match="not base64"):
        windows.decode_state("%%%", exp, 30, 16)


def test_series_keep_their_length():
    assert windows.decode_series(windows.encode_series([0.5, 1.5]), 2) == [0.5, 1.5]
    with pytest.raises(ValueError, match="1 epochs, expected 2"):
        windows.decode_series(windows.encode_series([0.5]), 2)


def _side(loss, acc=None, final=None, grad=None):
    history = {"loss": list(loss), "val_loss": list(loss)}
    if acc is not None:
        history.update(accuracy=list(acc), val_accuracy=list(acc))
    return {"history": history, "final": final, "init_grad_max_abs": grad}


def test_a_window_within_tolerance_passes():
    base = [1.0, 0.5, 0.25]
    failures, worst = windows.compare_window("e", 0, 10, _side(base), _side([v * (1 + 5e-5) for v in base]), SAMPLES)
    assert failures == [] and 0 < worst < windows.RTOL


def test_a_window_names_seed_checkpoint_key_and_true_epoch():
    failures, _ = windows.compare_window("e", 2, 20, _side([1.0, 0.5, 0.25]), _side([1.0, 0.5, 0.26]), SAMPLES)
    assert {f["key"] for f in failures} == {"loss", "val_loss"}
    f = next(f for f in failures if f["key"] == "loss")
    assert (f["seed"], f["checkpoint"], f["epoch"], f["keras"], f["batched"]) == (2, 20, 23, 0.25, 0.26)
    assert windows.describe(f) == "seed 2, checkpoint epoch 20, loss, epoch 23: keras 0.25 vs batched 0.26"


def test_nan_must_come_in_the_same_epoch():
    a = _side([1.0, math.nan, math.nan])
    failures, _ = windows.compare_window("e", 0, 0, a, _side([1.0, 2.0, math.nan]), SAMPLES)
    assert failures and failures[0]["epoch"] == 2
    assert windows.compare_window("e", 0, 0, a, _side([1.0, math.nan, math.nan]), SAMPLES)[0] == []
    inf = _side([1.0, math.inf, math.nan])
    assert windows.compare_window("e", 0, 0, inf, _side([1.0, math.nan, math.nan]), SAMPLES)[0]


def test_accuracy_is_compared_to_one_sample():
    loss, acc = [1.0, 0.5], [0.5, 0.6]
    one = [0.5, 0.6 + 1 / 500]
    two = [0.5, 0.6 + 2 / 500]
    assert windows.compare_window("e", 0, 0, _side(loss, acc), _side(loss, one), SAMPLES)[0] == []
    failures, _ = windows.compare_window("e", 0, 0, _side(loss, acc), _side(loss, two), SAMPLES)
    assert {f["key"] for f in failures} == {"accuracy", "val_accuracy"} and failures[0]["epoch"] == 2


def test_missing_keys_final_metrics_and_initial_gradient_are_compared():
    failures, _ = windows.compare_window("e", 0, 0, _side([1.0], acc=[0.5]), _side([1.0]), SAMPLES)
    assert {(f["key"], f["keras"], f["batched"]) for f in failures} == {
        ("accuracy", "present", "absent"), ("val_accuracy", "present", "absent")}
    final = {"test_loss": 0.25, "train_accuracy": 0.8, "first_nonfinite_epoch": None}
    same = windows.compare_window("e", 0, 90, _side([1.0], final=final), _side([1.0], final=dict(final)), SAMPLES)
    assert same[0] == []
    off = windows.compare_window("e", 0, 90, _side([1.0], final=final),
                                 _side([1.0], final={**final, "test_loss": 0.26, "train_accuracy": 0.81}), SAMPLES)[0]
    assert [(f["key"], f["epoch"]) for f in off] == [("final test_loss", None), ("final train_accuracy", None)]
    assert windows.describe(off[0]).endswith("final test_loss, end of run: keras 0.25 vs batched 0.26")
    missing = windows.compare_window("e", 0, 90, _side([1.0], final=final), _side([1.0]), SAMPLES)[0]
    assert {f["key"] for f in missing} == {"final test_loss", "final train_accuracy"}
    grad = windows.compare_window("e", 1, 0, _side([1.0], grad=300.0), _side([1.0], grad=303.0), SAMPLES)[0]
    assert [(f["key"], f["epoch"]) for f in grad] == [("init_grad_max_abs", None)]
    assert "start: keras 300.0 vs batched 303.0" in windows.describe(grad[0])


def test_the_chaos_envelope_widens_the_tolerance_where_the_dynamics_amplify_ulps():
    keras, batched = _side([1.0, 0.5]), _side([1.0, 0.5 * (1 + 1e-3)])
    assert windows.compare_window("e", 0, 0, keras, batched, SAMPLES)[0]  # 1e-3 relative: beyond RTOL
    wide = {"history": {"loss": [0.0, 1e-4], "val_loss": [0.0, 1e-4]}, "final": None}  # 10 x 1e-4 > 5e-4
    assert windows.compare_window("e", 0, 0, keras, batched, SAMPLES, wide)[0] == []
    narrow = {"history": {"loss": [0.0, 1e-5], "val_loss": [0.0, 1e-5]}, "final": None}
    failures, _ = windows.compare_window("e", 0, 0, keras, batched, SAMPLES, narrow)
    assert [f["epoch"] for f in failures] == [2, 2]


def test_a_perturbed_state_moves_each_value_by_an_ulp_or_two():
    rng = np.random.default_rng(0)
    state = {"weights": [np.linspace(-3, 3, 50, dtype=np.float32)], "momentums": [np.full(4, 0.25, np.float32)],
             "iterations": 7}
    out = windows.perturbed(state, rng)
    w = out["weights"][0]
    assert out["iterations"] == 7 and w.dtype == np.float32
    rel = np.abs(w - state["weights"][0]) / np.abs(state["weights"][0])
    assert 0 < rel.max() <= 2.5 * windows.PERTURBATION and (w != state["weights"][0]).mean() > 0.9
