"""The engine-equivalence checks' own logic, on synthetic records."""
from __future__ import annotations

import math

import numpy as np

from harness import equivalence
from harness.records import RunRecord


def _rec(seed, loss, first_nan=None):
    return RunRecord("e", "fp", seed, "x", len(loss), {"loss": list(loss), "val_loss": list(loss)},
                     {"first_nonfinite_epoch": first_nan})


def test_trajectory_passes_within_tolerance_and_fails_beyond():
    base = [1.0, 0.5, 0.25]
    ok = equivalence.trajectory("e", [_rec(0, base)], [_rec(0, [v * (1 + 5e-5) for v in base])])
    assert ok["passed"] and ok["max_rel_diff"] < equivalence.RTOL
    bad = equivalence.trajectory("e", [_rec(0, base)], [_rec(0, [1.0, 0.5, 0.26])])
    assert not bad["passed"] and "3.8" in bad["detail"]


def test_trajectory_fails_on_a_nan_in_a_different_epoch():
    a = _rec(0, [1.0, math.nan, math.nan], first_nan=2)
    b = _rec(0, [1.0, 2.0, math.nan], first_nan=3)
    res = equivalence.trajectory("e", [a], [b])
    assert not res["passed"] and "first NaN epoch 2 vs 3" in res["detail"]


def test_distribution_passes_on_the_same_distribution():
    rng = np.random.default_rng(0)
    k, b = rng.normal(0.8, 0.03, 10), rng.normal(0.8, 0.03, 10)
    res = equivalence.distribution("c", "e", "acc", k, b)
    assert res["passed"] and res["agree"] is None and "no per-seed outcome" in res["detail"]


def test_distribution_fails_on_a_shift():
    k = np.linspace(0.78, 0.82, 10)
    res = equivalence.distribution("c", "e", "acc", k, k - 0.1)
    assert not res["passed"] and res["p_value"] < 0.01


def test_distribution_fails_when_per_seed_outcomes_disagree():
    k = np.linspace(0.78, 0.82, 10)
    yes = [True] * 10
    mostly_no = [True] * 5 + [False] * 5  # agreement 5/10 is not more than half
    assert equivalence.distribution("c", "e", "acc", k, k, yes, yes)["passed"]
    res = equivalence.distribution("c", "e", "acc", k, k, yes, mostly_no)
    assert not res["passed"] and "agree on 5/10" in res["detail"]


def test_distribution_counts_nan_as_worst():
    """All-NaN on one side vs finite on the other is a difference, never dropped."""
    k = np.full(10, math.nan)
    res = equivalence.distribution("c", "e", "loss", k, np.linspace(1, 2, 10))
    assert not res["passed"]
