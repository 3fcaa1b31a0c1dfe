"""Every decision rule on constructed evidence: SUPPORTED, REFUTED and INCONCLUSIVE
cases, NaN/inf, ties, the sign of the effect and of its interval, the direction
of seeds_needed, and the invariants (swapping the groups mirrors the effect; the
effect lies inside its interval)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from harness.claims import Evidence, Verdict
from harness.records import RunRecord
from harness.rules import (MeanInBandRule, PairedBestOfGroupsRule, PairedEquivalenceRule, PairedNonSuperiorityRule,
                           PairedShiftRule, PairedTighterRule, RateRule, identical_runs)

ALPHA = 0.005


def runs(name, values, key="test_loss", history=None):
    return [RunRecord(name, "fp", s, "batched", 1, history or {"loss": [float(s)]}, {key: float(v)})
            for s, v in enumerate(values)]


def metric(r):
    return r.metrics["test_loss"]


def ev(**groups):
    return Evidence({k: runs(k, v) for k, v in groups.items()})


def check_interval(d):
    if d.effect is not None and d.ci_low is not None:
        assert d.ci_low <= d.effect <= d.ci_high


# ------------------------------------------------------------------ RateRule

def rate(claimed="greater", p0=0.5, zone=(0.4, 0.6)):
    return RateRule("x", lambda r: r.metrics["test_loss"] > 0.5, p0, claimed, "hit", zone)


@pytest.mark.parametrize("k, n, verdict", [(30, 30, "SUPPORTED"), (0, 30, "REFUTED"), (16, 30, "INCONCLUSIVE")])
def test_rate_rule_three_verdicts(k, n, verdict):
    d = rate()(ev(x=[1.0] * k + [0.0] * (n - k)), ALPHA)
    assert d.verdict.value == verdict
    assert d.effect == k / n and d.outcomes == {"x": [True] * k + [False] * (n - k)}
    check_interval(d)


def test_rate_rule_less_direction_and_seeds_needed_names_the_direction():
    d = rate("less", 0.1, (0.05, 0.15))(ev(x=[1.0] * 5 + [0.0] * 25), ALPHA)  # 5/30 = 0.167 > 0.1
    assert d.verdict is Verdict.INCONCLUSIVE and not d.at_threshold
    assert d.seeds_needed and "> 0.1 (REFUTED)" in d.seeds_needed_for
    d = rate("less", 0.1, (0.05, 0.15))(ev(x=[1.0] * 1 + [0.0] * 29), ALPHA)  # 0.033 < 0.1
    assert d.verdict is Verdict.INCONCLUSIVE and "< 0.1 (SUPPORTED)" in d.seeds_needed_for


def test_rate_rule_at_threshold_only_when_the_interval_is_inside_the_zone():
    d = rate("less", 0.1, (0.05, 0.15))(ev(x=[1.0] * 100 + [0.0] * 900), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE and d.at_threshold and d.seeds_needed is None
    d = rate("less", 0.1, (0.05, 0.15))(ev(x=[1.0] * 3 + [0.0] * 27), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE and not d.at_threshold


def test_rate_rule_counts_nan_metrics_through_the_outcome_never_drops_them():
    d = rate()(ev(x=[math.nan] * 30), ALPHA)  # NaN > 0.5 is False: counted as a miss
    assert d.effect == 0.0 and len(d.outcomes["x"]) == 30 and d.verdict is Verdict.REFUTED


def test_rate_rule_refuses_a_threshold_outside_its_zone():
    with pytest.raises(ValueError):
        RateRule("x", bool, 0.5, "greater", "hit", (0.6, 0.7))


# ------------------------------------------------------------------ PairedShiftRule

def shift(higher=False):
    return PairedShiftRule("a", "b", metric, higher, "mse")


def test_paired_shift_supported_refuted_and_mirrored():
    rng = np.random.default_rng(0)
    base = rng.lognormal(0, 1, 30)
    better = base * 0.5  # lower is better: a wins every seed
    d = shift()(ev(a=better, b=base), ALPHA)
    assert d.verdict is Verdict.SUPPORTED and d.effect == 1.0 and d.design == "paired"
    check_interval(d)
    d2 = shift()(ev(a=base, b=better), ALPHA)
    assert d2.verdict is Verdict.REFUTED and d2.effect == 0.0
    assert d.effect == pytest.approx(1 - d2.effect)


def test_paired_shift_detects_what_the_unpaired_test_cannot():
    # A tiny consistent shift under a wide between-seed spread: only pairing sees it.
    rng = np.random.default_rng(1)
    base = rng.lognormal(0, 2, 30)
    d = shift()(ev(a=base * 0.99, b=base), ALPHA)
    assert d.verdict is Verdict.SUPPORTED


def test_paired_shift_inconclusive_on_noise_and_inf_ranks_worst():
    rng = np.random.default_rng(2)
    a, b = rng.normal(5, 1, 30), rng.normal(5, 1, 30)
    d = shift()(ev(a=a, b=b), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE
    check_interval(d)
    b_inf = np.full(30, math.inf)  # every b run diverged: a (finite) wins every seed
    assert shift()(ev(a=a, b=b_inf), ALPHA).verdict is Verdict.SUPPORTED


def test_paired_shift_all_ties_and_nan_are_named_inconclusive():
    d = shift()(ev(a=[1.0] * 30, b=[1.0] * 30), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE and d.p_value is None and "tie" in d.detail
    assert any("30/30 seeds bit-identical" in f for f in d.findings)
    d = shift()(ev(a=[math.nan] * 30, b=[1.0] * 30), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE and d.p_value is None and "NaN" in d.detail
    d = shift()(ev(a=[1.0, 2.0], b=[2.0, 3.0]), ALPHA)
    assert d.p_value is None and "at least" in d.detail


# ------------------------------------------------------------------ PairedEquivalenceRule

def equiv():
    return PairedEquivalenceRule("a", "b", metric, 0.1, "log10 MSE")


def test_paired_equivalence_supported_where_welch_could_not_decide():
    rng = np.random.default_rng(3)
    base = rng.normal(-2, 0.4, 30)  # wide between seeds
    other = base + rng.normal(0.01, 0.03, 30)  # correlated, nearly equal
    d = equiv()(ev(a=base, b=other), ALPHA)
    assert d.verdict is Verdict.SUPPORTED and d.ci_low > -0.1 and d.ci_high < 0.1
    check_interval(d)


@pytest.mark.parametrize("offset, verdict", [(0.3, "REFUTED"), (-0.3, "REFUTED"), (0.1, "INCONCLUSIVE")])
def test_paired_equivalence_refutes_beyond_the_margin_on_either_side(offset, verdict):
    rng = np.random.default_rng(4)
    base = rng.normal(-2, 0.4, 30)
    other = base + rng.normal(0, 0.05, 30)
    d = equiv()(ev(a=base + offset, b=other), ALPHA)
    assert d.verdict.value == verdict
    assert np.sign(d.effect) == np.sign(offset)  # effect = a - b
    check_interval(d)
    swapped = equiv()(ev(a=other, b=base + offset), ALPHA)  # swapping the groups mirrors effect and interval
    assert swapped.verdict is d.verdict
    assert (swapped.effect, swapped.ci_low, swapped.ci_high) == pytest.approx((-d.effect, -d.ci_high, -d.ci_low))


def test_paired_equivalence_identical_runs_decided_exactly_and_reported():
    same = ev(a=[-2.0, -2.1, -1.9] * 10, b=[-2.0, -2.1, -1.9] * 10)
    # make the histories identical too (runs() gives seed-dependent loss, the same in a and b)
    d = equiv()(same, ALPHA)
    assert d.verdict is Verdict.SUPPORTED and d.effect == 0.0 and d.p_value == 0.0
    assert d.findings and "30/30 seeds bit-identical" in d.findings[0]


def test_paired_equivalence_diverged_run_is_named_inconclusive():
    d = equiv()(ev(a=[-2.0] * 29 + [math.inf], b=[-2.0] * 30), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE and d.p_value is None and "diverged" in d.detail


def test_paired_equivalence_at_threshold_and_seeds_needed_direction():
    rng = np.random.default_rng(5)
    base = rng.normal(-2, 0.4, 2000)
    d = equiv()(ev(a=base + 0.1, b=base + rng.normal(0, 0.05, 2000)), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE and d.at_threshold  # interval inside (0.05, 0.15)
    base = rng.normal(-2, 0.4, 30)
    noise = rng.normal(0, 0.2, 30)
    d = equiv()(ev(a=base + 0.04, b=base + noise - noise.mean()), ALPHA)  # mean difference exactly 0.04
    assert d.verdict is Verdict.INCONCLUSIVE and "(SUPPORTED)" in d.seeds_needed_for


# ------------------------------------------------------------------ PairedNonSuperiorityRule

def nonsup():
    return PairedNonSuperiorityRule("base", "clip", metric, 0.1, "log10 MSE")


@pytest.mark.parametrize("gain, verdict", [(-0.3, "SUPPORTED"), (0.0, "SUPPORTED"), (0.4, "REFUTED")])
def test_non_superiority_sign_and_verdict(gain, verdict):
    rng = np.random.default_rng(6)
    base = rng.normal(-2, 0.5, 30)
    clip = base - gain + rng.normal(0, 0.05, 30)  # gain > 0: clipping lowers the MSE
    d = nonsup()(Evidence({"base": runs("base", base), "clip": runs("clip", clip)}), ALPHA)
    assert d.verdict.value == verdict
    check_interval(d)
    if gain:
        assert np.sign(d.effect) == np.sign(gain)
        assert (d.ci_low > 0) == (gain > 0)


def test_non_superiority_inconclusive_names_direction_and_diverged_is_named():
    rng = np.random.default_rng(7)
    base = rng.normal(-2, 0.5, 30)
    d = nonsup()(Evidence({"base": runs("base", base), "clip": runs("clip", base - 0.1 + rng.normal(0, 0.3, 30))}),
                 ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE and d.seeds_needed_for
    d = nonsup()(Evidence({"base": runs("base", base), "clip": runs("clip", [math.inf] * 30)}), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE and d.p_value is None


# ------------------------------------------------------------------ MeanInBandRule

def band():
    return MeanInBandRule("x", (("acc", metric),), (0.75, 0.85))


@pytest.mark.parametrize("center, verdict", [(0.80, "SUPPORTED"), (0.60, "REFUTED"), (0.95, "REFUTED"),
                                             (0.75, "INCONCLUSIVE")])
def test_mean_in_band(center, verdict):
    rng = np.random.default_rng(8)
    d = band()(ev(x=rng.normal(center, 0.01, 30)), ALPHA)
    assert d.verdict.value == verdict
    check_interval(d)


def test_mean_in_band_nonfinite_is_named():
    d = band()(ev(x=[0.8] * 29 + [math.nan]), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE and d.p_value is None


# ------------------------------------------------------------------ three groups

GROUPS = (("u", "u"), ("n", "n"), ("s", "s"))


def test_best_of_groups_supported_refuted_inconclusive():
    rng = np.random.default_rng(9)
    base = rng.lognormal(-5, 1, 30)
    best = PairedBestOfGroupsRule(GROUPS, "n", metric)
    assert best(ev(u=base, n=base * 0.1, s=base * 1.1), ALPHA).verdict is Verdict.SUPPORTED
    assert best(ev(u=base, n=base * 10, s=base * 1.1), ALPHA).verdict is Verdict.REFUTED
    noise = [rng.lognormal(-5, 1, 30) for _ in range(3)]
    d = best(ev(u=noise[0], n=noise[1], s=noise[2]), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE
    check_interval(d)


def test_tighter_supported_refuted_and_undecidable():
    rng = np.random.default_rng(10)
    tight = PairedTighterRule(GROUPS, "n", metric)
    z = rng.normal(0, 1, 30)
    wide = [1 + z * 0.5 + rng.normal(0, 0.01, 30) for _ in range(2)]
    d = tight(ev(u=wide[0], n=1 + z * 0.05, s=wide[1]), ALPHA)
    assert d.verdict is Verdict.SUPPORTED and d.effect < 1
    d = tight(ev(u=1 + z * 0.05, n=wide[0], s=1 + z * 0.05 + 0.001), ALPHA)
    assert d.verdict is Verdict.REFUTED
    d = tight(ev(u=[1.0] * 29 + [math.inf], n=wide[0], s=wide[1]), ALPHA)
    assert d.verdict is Verdict.INCONCLUSIVE and d.p_value is None


# ------------------------------------------------------------------ helpers

def test_identical_runs_compares_every_history_value_and_metric():
    a = runs("a", [1.0, 2.0])
    b = runs("b", [1.0, 2.0])
    assert identical_runs(a, b) == 2
    b[1].history["loss"][0] = 99.0
    assert identical_runs(a, b) == 1
    b[0].metrics["test_loss"] = math.nan
    assert identical_runs(a, b) == 0
