"""The dose-response rules (harness.statistics.dose) on constructed evidence, each with a case that must say no."""
from __future__ import annotations

import math

import numpy as np
import pytest

from harness.spec import SpecError, Verdict
from harness.maintainer.error_rates import ArrayEvidence, col
from harness.statistics.dose import CrossingDoseRule, SeedTrendRule, mann_kendall_signs

ALPHA = 0.00125
DOSES = (10, 12, 15, 17, 20, 22, 25)


def _curves(rising: int, falling: int, flat: int = 0, doses: int = 6) -> ArrayEvidence:
    up = np.arange(doses, dtype=float)
    rows = [up] * rising + [up[::-1]] * falling + [np.ones(doses)] * flat
    a = np.array(rows)
    return ArrayEvidence({f"d{i}": a[:, i:i + 1] for i in range(doses)})


def _trend(claimed="increasing", doses=6):
    return SeedTrendRule(tuple((i, f"d{i}") for i in range(doses)), col(0), claimed, "metric")


def test_mann_kendall_signs_rank_a_never_reached_epoch_last_and_tie_equal_values():
    got = mann_kendall_signs(np.array([[1, 2, 3], [3, 2, 1], [2, 2, 2], [1, math.inf, math.inf],
                                       [math.inf, math.inf, math.inf]]))
    assert got.tolist() == [1, -1, 0, 1, 0]


def test_seed_trend_supports_refutes_and_waits():
    assert _trend()(_curves(90, 10), ALPHA).verdict is Verdict.SUPPORTED
    assert _trend()(_curves(10, 90), ALPHA).verdict is Verdict.REFUTED  # must say no
    assert _trend("decreasing")(_curves(10, 90), ALPHA).verdict is Verdict.SUPPORTED
    d = _trend()(_curves(52, 48), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE and d.effect == pytest.approx(0.52)
    flat = _trend()(_curves(0, 0, 30), ALPHA)
    assert flat.untestable and "no seed" in flat.untestable


def test_seed_trend_counts_flat_seeds_apart_and_refuses_nan():
    d = _trend()(_curves(60, 0, 40), ALPHA)
    assert d.verdict is Verdict.SUPPORTED and d.effect == 1.0 and "40 without" in d.detail
    ev = _curves(50, 50)
    ev.arrays["d3"][0, 0] = math.nan
    assert _trend()(ev, ALPHA).untestable


def test_seed_trend_needs_three_increasing_doses():
    with pytest.raises(SpecError):
        SeedTrendRule(((1, "a"), (2, "b")), col(0), "increasing", "m")
    with pytest.raises(SpecError):
        SeedTrendRule(((2, "a"), (1, "b"), (3, "c")), col(0), "increasing", "m")


def _rates(rates, n=300, seed=0) -> ArrayEvidence:
    rng = np.random.default_rng(seed)
    out = {}
    for d, p in zip(DOSES, rates):
        k = int(round(p * n))
        v = np.zeros(n)
        v[rng.permutation(n)[:k]] = 1.0
        out[f"d{d}"] = v[:, None]
    return ArrayEvidence(out)


def _crossing():
    return CrossingDoseRule(tuple((d, f"d{d}") for d in DOSES), col(0), 0.1, (0.05, 0.15), 20, "learn")


def test_crossing_at_about_20_is_supported_with_its_interval():
    d = _crossing()(_rates((0.6, 0.5, 0.4, 0.3, 0.08, 0.0, 0.0)), ALPHA)
    assert d.verdict is Verdict.SUPPORTED
    assert d.effect == 0  # the first dose observed below 0.1 is 20
    assert d.ci_low == 0 and d.ci_high == 2  # [20, 22]: 20 is not shown above 0.15, 22 is shown below 0.05


def test_crossing_too_early_is_refuted():
    d = _crossing()(_rates((0.02, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)), ALPHA)  # must say no: gone by 10-12 layers
    assert d.verdict is Verdict.REFUTED and d.effect == -10


def test_crossing_on_the_line_and_beyond_the_sweep():
    d = _crossing()(_rates((0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.09)), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE and not d.at_threshold  # 22 not shown below: the crossing may be past 25
    assert d.ci_high is None and "beyond 25" in d.detail
    late = _crossing()(_rates((0.6, 0.5, 0.4, 0.1, 0.1, 0.0, 0.0)), ALPHA)  # 17 not shown capable, 22 incapable
    assert late.verdict is Verdict.INCONCLUSIVE and late.at_threshold


def test_crossing_cannot_support_where_its_seeds_cannot_show_a_rate_below_005():
    rule = _crossing()
    assert rule.reachable(100, ALPHA) == (False, False)  # 0.95^100 = 0.006 > alpha: no dose can be shown below
    assert rule.reachable(300, ALPHA) == (True, True)
    assert rule.test_doses() == {"capable": 17, "incapable": 22, "too_early": 12, "too_late": None}
    with pytest.raises(SpecError):
        CrossingDoseRule(((1, "a"), (2, "b")), col(0), 0.2, (0.05, 0.15), 20, "learn")
