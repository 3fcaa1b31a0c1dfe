"""The power on the record (harness.statistics.power), checked against the rules themselves."""
from __future__ import annotations

import numpy as np
from scipy import stats as sps

from harness.spec import Decision, Evidence, Verdict
from harness.statistics.power import detectable, rate_power
from harness.statistics.paired import PairedNonSuperiorityRule
from harness.statistics.rates import RateRule
from harness.training.records import RunRecord

ALPHA = 0.00125


def _p_verdict(rule, n, p, verdict):
    """The exact chance that ``rule`` says ``verdict`` on n seeds when the true rate is p."""
    return sum(sps.binom.pmf(k, n, p) for k in range(n + 1)
               if rule.from_counts(k, n, ALPHA, explain=False).verdict is verdict)


def test_a_rate_rules_power_is_the_rate_where_it_says_no_four_times_in_five():
    rule = RateRule("x", bool, 0.5, "greater", "hit", (0.4, 0.6))
    for n in (30, 100, 1000):
        refute, support = rate_power(n, rule.zone, "greater", ALPHA, ALPHA)
        assert refute < 0.4 < 0.6 < support
        assert abs(_p_verdict(rule, n, refute, Verdict.REFUTED) - 0.8) < 0.08  # a discrete test: near, not at
        assert _p_verdict(rule, n, refute - 0.05, Verdict.REFUTED) > 0.8 > _p_verdict(rule, n, refute + 0.05,
                                                                                        Verdict.REFUTED)
    # more seeds detect a smaller departure
    assert rate_power(1000, rule.zone, "greater", ALPHA, ALPHA)[0] > rate_power(30, rule.zone, "greater", ALPHA,
                                                                                ALPHA)[0]


def test_a_rule_that_cannot_say_no_at_its_seeds_has_no_power():
    # 5 seeds: even 0/5 cannot reject "rate >= 0.4" at alpha 0.00125 (0.6^5 = 0.078)
    assert rate_power(5, (0.4, 0.6), "greater", ALPHA, ALPHA) == (None, None)
    rule = RateRule("x", bool, 0.1, "less", "learn", (0.05, 0.15))
    refute, support = rate_power(1000, rule.zone, "less", ALPHA, ALPHA)
    assert support < 0.05 < 0.15 < refute  # mirrored for a claim that a rate is small
    d = rule.from_counts(100, 1000, ALPHA)
    got = detectable(rule, d, 1000)
    assert got["refute_at"] == refute and got["method"] == "exact binomial"


def _runs(name, values):
    return [RunRecord(name, "fp", s, "batched", 1, {"loss": [1.0]}, {"m": float(v)}) for s, v in enumerate(values)]


def test_a_mean_rules_power_holds_in_simulation():
    # the improvement of a paired non-superiority rule: detectable() from one decision's interval, then the rule
    # says REFUTED about 80% of the time when the true improvement is there
    rule = PairedNonSuperiorityRule("base", "treated", lambda r: r.metrics["m"], 0.1, "m")
    rng = np.random.default_rng(1)
    n, sd = 30, 0.1
    base = rng.normal(0, sd, n)
    d = rule(Evidence({"base": _runs("base", base + 1), "treated": _runs("treated", base + 1 - rng.normal(0, sd, n))}),
             alpha=ALPHA)
    got = detectable(rule, d, n)
    assert got["refute_at"] > rule.zone[1] and got["support_at"] < rule.zone[0]
    hits = 0
    for _ in range(400):
        b = rng.normal(0, 1, n)
        t = b - rng.normal(got["refute_at"], sd, n)  # per-seed improvements of the spread the decision saw
        ev = Evidence({"base": _runs("base", b + 5), "treated": _runs("treated", t + 5)})
        hits += rule(ev, alpha=ALPHA, explain=False).verdict is Verdict.REFUTED
    assert 0.6 < hits / 400 < 0.95  # the normal approximation with the observed spread: near 80%


def test_no_interval_no_power_number():
    rule = PairedNonSuperiorityRule("a", "b", float, 0.1, "m")
    d = Decision(verdict=Verdict.INCONCLUSIVE, test="t", p_value=None, alpha=ALPHA, effect_name="e", effect=None)
    got = detectable(rule, d, 30)
    assert got["refute_at"] is None and got["support_at"] is None and "no interval" in got["note"]
