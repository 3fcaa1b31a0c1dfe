"""A summary re-decided from its own looks (harness.results.audit), and the committed baseline with it."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from harness import collect
from harness.spec import Decision, Verdict
from harness.results import audit, summaries
from harness.results.model import ClaimResult
from harness.statistics.rates import RateRule
from harness.statistics.sequential import Design, Look

ROOT = Path(__file__).resolve().parents[2]
RULE = RateRule("x", bool, 0.5, "greater", "hit", (0.4, 0.6))
PLAN = Design((30, 100, 300, 1000))


def _claim(counts):
    looks = tuple(Look(n, dataclasses.replace(RULE.from_counts(k, n, PLAN.alpha), outcomes=None), 0.0)
                  for n, k in counts)
    last = looks[-1].decision
    return ClaimResult(id="c", verdict=last.verdict, at_threshold=last.at_threshold, plan=PLAN, looks=looks,
                       seeds=looks[-1].seeds)


def test_a_consistent_summary_gives_its_own_labels():
    for counts in ([(30, 29)], [(30, 18), (100, 50), (300, 150)], [(30, 17), (100, 80)]):
        c = _claim(counts)
        assert audit.redecide(c, RULE) == (c.label, [])


def test_a_tampered_verdict_is_found():
    c = _claim([(30, 18), (100, 80)])
    lk = c.looks[-1]
    forged = dataclasses.replace(c, verdict=Verdict.REFUTED, looks=(c.looks[0], dataclasses.replace(
        lk, decision=dataclasses.replace(lk.decision, verdict=Verdict.REFUTED))))
    label, problems = audit.redecide(forged, RULE)
    assert problems and any("give SUPPORTED" in p for p in problems)
    assert any("decided again gives SUPPORTED" in p for p in problems)


def test_a_look_after_a_settled_one_or_a_stop_before_the_plan_is_found():
    c = _claim([(30, 29), (100, 90)])
    assert any("was settled" in p for p in audit.redecide(c, RULE)[1])
    stopped = _claim([(30, 18)])
    assert any("stopped at 30 seeds undecided" in p for p in audit.redecide(stopped, RULE)[1])


def test_the_committed_baseline_redecides_to_its_labels():
    path = ROOT / "reports" / "baselines" / "tf2.21.0-keras3.15.1-cpu-26c161f2.json"
    summary = summaries.load(path)
    assert summary.design is not None, "the summary keeps the design"
    assert all(c.looks for c in summary.claims), "the summary keeps every look"
    rules = {c.id: c.decide for c in collect.all_claims()}
    labels, problems = audit.redecide_all(summary, rules)
    assert problems == []
    assert labels == {c.id: c.label for c in summary.claims}
