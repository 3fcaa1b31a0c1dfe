"""A summary re-decided from what it records: each look's two one-sided p-values give its verdict at the
design's alpha, the sequential design says which look had to decide, and rate rules are decided again
from their counts.  Nothing is trained; a summary whose labels do not follow from its own looks is
reported look by look (a tampered, truncated or mis-merged summary)."""
from __future__ import annotations

from typing import Mapping

from harness.spec import Verdict, label
from harness.results import model
from harness.statistics.decisions import zone_verdict

def _verdict(p_sup: float | None, p_ref: float | None, alpha: float) -> Verdict:
    """The rules' own reading of the two one-sided p's (a p not recorded rejects nothing)."""
    return zone_verdict(1.0 if p_sup is None else p_sup, 1.0 if p_ref is None else p_ref, alpha)[0]


def _settled(d) -> bool:
    return d.verdict is not Verdict.INCONCLUSIVE or d.at_threshold or d.untestable_settled


def redecide(claim: model.ClaimResult, rule=None) -> tuple[str, list[str]]:
    """(the label ``claim``'s looks give, the problems found); ``rule``: the claim's rule, decided again from
    its counts where it has ``from_counts`` (rates)."""
    problems = []
    if not claim.looks:
        return claim.label, [f"{claim.id}: no looks recorded"]
    if claim.plan and [lk.seeds for lk in claim.looks] != list(claim.plan.looks[:len(claim.looks)]):
        problems.append(f"{claim.id}: looks at {[lk.seeds for lk in claim.looks]} are not the plan's "
                        f"{list(claim.plan.looks)}")
    got = claim.label
    for i, lk in enumerate(claim.looks):
        d = lk.decision
        last = i == len(claim.looks) - 1
        if d.untestable is None and d.p_value is not None:
            v = _verdict(d.p_supported, d.p_refuted, d.alpha)
            if v is not d.verdict:
                problems.append(f"{claim.id}: look at {lk.seeds} seeds records {d.verdict.value}, its p-values "
                                f"({d.p_supported}, {d.p_refuted}) at alpha {d.alpha:g} give {v.value}")
        if rule is not None and hasattr(rule, "from_counts") and d.statistic is not None and d.untestable is None:
            again = rule.from_counts(int(d.statistic), lk.seeds, d.alpha, explain=False)
            if (again.verdict, again.at_threshold) != (d.verdict, d.at_threshold):
                problems.append(f"{claim.id}: {int(d.statistic)}/{lk.seeds} decided again gives {again.label}, the "
                                f"summary records {d.label}")
        if not last and _settled(d):
            problems.append(f"{claim.id}: the look at {lk.seeds} seeds was settled ({d.label}) yet a later look "
                            "was taken")
        if last:
            got = label(d.verdict.value, d.at_threshold, d.untestable)
            more = claim.plan is not None and lk.seeds < claim.plan.looks[-1]
            if more and not _settled(d):
                problems.append(f"{claim.id}: stopped at {lk.seeds} seeds undecided before the plan's last look")
    if got != claim.label:
        problems.append(f"{claim.id}: its looks give {got}, the summary records {claim.label}")
    return got, problems


def redecide_all(summary: model.Results, rules: Mapping[str, object] | None = None
                 ) -> tuple[dict[str, str], list[str]]:
    """{test: label from its looks} and every problem found, over a summary or results."""
    labels, problems = {}, []
    for c in summary.claims:
        labels[c.id], found = redecide(c, (rules or {}).get(c.id))
        problems += found
    return labels, problems
