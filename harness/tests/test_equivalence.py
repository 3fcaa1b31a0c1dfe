"""The engine-equivalence checks' own logic, on constructed records: each must
pass what two correct engines produce and say no to a real difference."""
from __future__ import annotations

import math

import numpy as np
import pytest

from harness import equivalence
from harness.records import RunRecord


def _rec(seed, loss, first_nan=None, acc=None):
    history = {"loss": list(loss), "val_loss": list(loss)}
    if acc is not None:
        history.update(accuracy=list(acc), val_accuracy=list(acc))
    return RunRecord("e", "fp", seed, "x", len(loss), history, {"first_nonfinite_epoch": first_nan})


def test_trajectory_passes_within_tolerance_and_names_the_first_failure():
    base = [1.0, 0.5, 0.25]
    ok = equivalence.trajectory("e", [_rec(0, base)], [_rec(0, [v * (1 + 5e-5) for v in base])], epochs=3)
    assert ok["passed"] and ok["max_rel_diff"] < equivalence.RTOL
    bad = equivalence.trajectory("e", [_rec(0, base)], [_rec(0, [1.0, 0.5, 0.26])], epochs=3)
    assert not bad["passed"]
    assert "seed 0, loss, epoch 3: keras 0.25 vs batched 0.26" in bad["detail"]


def test_trajectory_compares_only_the_window():
    a, b = _rec(0, [1.0, 0.5, 0.25]), _rec(0, [1.0, 0.5, 9.0])
    assert equivalence.trajectory("e", [a], [b], epochs=2)["passed"]
    assert not equivalence.trajectory("e", [a], [b], epochs=3)["passed"]


def test_trajectory_fails_on_a_nan_in_a_different_epoch():
    a = _rec(0, [1.0, math.nan, math.nan], first_nan=2)
    b = _rec(0, [1.0, 2.0, math.nan], first_nan=3)
    res = equivalence.trajectory("e", [a], [b], epochs=3)
    assert not res["passed"] and "epoch 2" in res["detail"] and "nan" in res["detail"]
    same = equivalence.trajectory("e", [a], [_rec(0, [1.0, math.inf, math.nan], first_nan=2)], epochs=3)
    assert same["passed"]


def test_trajectory_checks_accuracy_to_one_sample():
    loss, acc = [1.0, 0.5], [0.500, 0.600]
    acc = [float(np.float32(0.49)), 0.600]  # History holds float32 means
    one = [float(np.float32(0.492)), 0.600]  # one sample of 500 flipped: two correct engines can do that
    many = [acc[0], 0.580]  # ten samples: a moved threshold does that
    samples = {"accuracy": 500, "val_accuracy": 500}
    assert equivalence.trajectory("e", [_rec(0, loss, acc=acc)], [_rec(0, loss, acc=one)], 2, samples)["passed"]
    res = equivalence.trajectory("e", [_rec(0, loss, acc=acc)], [_rec(0, loss, acc=many)], 2, samples)
    assert not res["passed"] and "accuracy, epoch 2: keras 0.6 vs batched 0.58" in res["detail"]


def test_trajectory_fails_when_history_keys_differ():
    res = equivalence.trajectory("e", [_rec(0, [1.0], acc=[0.5])], [_rec(0, [1.0])], epochs=1)
    assert not res["passed"] and "history keys" in res["detail"]


def test_trajectory_refuses_to_compare_different_seeds():
    with pytest.raises(ValueError, match="seed 0 compared with seed 1"):
        equivalence.trajectory("e", [_rec(0, [1.0])], [_rec(1, [1.0])], epochs=1)


def test_distribution_passes_on_the_same_distribution():
    rng = np.random.default_rng(0)
    k, b = rng.normal(0.8, 0.03, 10), rng.normal(0.8, 0.03, 30)
    res = equivalence.distribution("c", "e", "acc", k, b, alpha=0.001)
    assert res["passed"] and "agree" not in res and res["batched_seeds"] == 30


def test_distribution_fails_on_a_shift_and_names_both_medians():
    k = np.linspace(0.78, 0.82, 10)
    res = equivalence.distribution("c", "e", "acc", k, np.linspace(0.68, 0.72, 30), alpha=0.001)
    assert not res["passed"] and res["p_value"] < 0.001
    assert "median keras 0.8" in res["detail"] and "batched 0.7" in res["detail"]


def test_distribution_fails_when_outcome_rates_differ():
    k = np.linspace(0.78, 0.82, 10)
    b = np.linspace(0.78, 0.82, 30)
    yes10, yes30 = [True] * 10, [True] * 30
    assert equivalence.distribution("c", "e", "acc", k, b, yes10, yes30, alpha=0.001)["passed"]
    res = equivalence.distribution("c", "e", "acc", k, b, yes10, [False] * 30, alpha=0.001)
    assert not res["passed"] and res["outcome_p_value"] < 0.001 and "10/10 vs batched 0/30" in res["detail"]


def test_distribution_counts_nan_as_worst():
    """All-NaN on one side vs finite on the other is a difference, never dropped."""
    res = equivalence.distribution("c", "e", "loss", np.full(10, math.nan), np.linspace(1, 2, 30), alpha=0.001)
    assert not res["passed"]
    assert equivalence.distribution("c", "e", "loss", np.full(10, math.nan), np.full(30, math.nan),
                                    alpha=0.001)["passed"]


def test_distribution_refuses_settings_where_it_cannot_fail():
    # 2 vs 2 seeds: the smallest two-sided Mann-Whitney p is 1/3
    with pytest.raises(ValueError, match="could never fail"):
        equivalence.distribution("c", "e", "acc", [0.1, 0.2], [0.8, 0.9], alpha=0.01)
    with pytest.raises(ValueError, match="needs >= 2 seeds"):
        equivalence.distribution("c", "e", "acc", [0.1], [0.8, 0.9])


def test_smallest_p_and_detectable_differences():
    assert equivalence.smallest_p_mann_whitney(2, 2) == pytest.approx(1 / 3)
    assert equivalence.smallest_p_mann_whitney(5, 5) == pytest.approx(2 / 252)
    # more seeds detect smaller differences; a stricter alpha needs larger ones
    a, b = (equivalence.detectable_superiority(10, n, 0.001) for n in (10, 30))
    assert 0.5 < b < a <= 1
    assert equivalence.detectable_superiority(10, 30, 0.0001) > b
    assert 0 < equivalence.detectable_rate_difference(10, 30, 0.001) < equivalence.detectable_rate_difference(10, 10, 0.001) <= 1


def test_check_alpha_splits_the_family():
    assert equivalence.check_alpha(50) == pytest.approx(0.0002)
    with pytest.raises(ValueError):
        equivalence.check_alpha(0)
