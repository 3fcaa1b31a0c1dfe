"""One test's section: the lesson's words, the label with what was expected and every amendment, the
numbers of the deciding look and of each look, the deciding metric of every seed, and the learning curves;
laid out by ``templates/claim.html``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from harness.report import figures
from harness.report.verdict_parts import effect_cell, seeds_cell, tag
from harness.report.figure_files import Drawn, safe_name
from harness.report.format import effect_text, fmt_num, fmt_p, fmt_seconds, interval_text
from harness.report.histories import LearningCurves
from harness.report.labels import direction, expected_of, old_label, readings_text
from harness.report.readings import power_text, readings_cell
from harness.results.model import ClaimResult, ExperimentRun, Variant, VariantClaim


@dataclass(frozen=True)
class ClaimContext:
    """What a test's section needs from the rest of the run."""

    sentences: Mapping[str, list[ClaimResult]]  # the lesson's claims and their tests (labels.lesson_claims)
    fingerprint: str  # the environment's: which pinned numbers of an expectation apply here
    experiments: Mapping[str, ExperimentRun]
    replayed: Variant | None
    curves: LearningCurves
    drawn: Drawn

    def replayed_claim(self, cid: str) -> VariantClaim | None:
        if self.replayed is None or self.replayed.error or cid not in self.replayed.claims:
            return None
        return self.replayed.claims[cid]


def claim_samples(c: ClaimResult) -> dict[str, list[float]]:
    """The deciding metric's real per-seed values by experiment (never the rule's 0/1 hits: those are
    :func:`claim_outcomes`)."""
    return {exp: list(values) for exp, values in c.metric_samples.items()}


def claim_outcomes(c: ClaimResult) -> dict[str, list[bool]] | None:
    """Per experiment, did each seed meet the rule's per-seed condition (None: the rule counts none)."""
    return dict(c.outcomes) if c.outcomes else None


def effect_threshold(c: ClaimResult) -> float | None:
    """What the test's effect is compared with."""
    return c.effect.threshold


def _verdict_lines(c: ClaimResult, ctx: ClaimContext) -> dict:
    """The label, what was expected, the replayed order's label and every amendment, with the label before."""
    expected, differs = expected_of(c)
    replayed = ctx.replayed_claim(c.id)
    amendments = []
    for a in c.amendments:
        then = old_label(a.old_verdict)
        amendments.append({"date": a.date, "reason": a.reason, "then": then,
                           "direction": direction(then, c.label) if then else "", "old_rule": a.old_rule,
                           "old_verdict": a.old_verdict, "new_rule": a.new_rule})
    return {"expected": expected, "differs": differs, "amendments": amendments,
            "replayed": None if replayed is None else {
                "label": replayed.label, "effect": effect_text(replayed.effect), "seeds": fmt_num(replayed.seeds)}}


def expectation(c: ClaimResult, fingerprint: str) -> dict:
    """Whether the run was as expected: the numbers pinned for this environment, what missed, and why."""
    pins = c.expectation.pins_for(fingerprint)
    return {"passed": c.as_expected,
            "pins": "; ".join(f"{q} in [{fmt_num(low)}, {fmt_num(high)}]" for q, (low, high) in pins.items()),
            "lines": [line for line in (*c.expectation_missed, c.expectation.why) if line]}


def _facts(c: ClaimResult, ctx: ClaimContext) -> dict:
    """The rows of the test's table of facts, each spelled for the reader."""
    confidence = c.effect.confidence
    return {
        "verdict": _verdict_lines(c, ctx), "expectation": expectation(c, ctx.fingerprint),
        "statistic": fmt_num(c.statistic) if c.statistic is not None else None,
        "p": fmt_p(c.p_value), "alpha": fmt_num(c.alpha), "effect": effect_cell(c),
        "effect_text": effect_text(c.effect, 4), "confidence": fmt_num(confidence) if confidence is not None else None,
        "seeds": seeds_cell(c),
        "seeds_needed": fmt_num(c.seeds_needed) if c.seeds_needed is not None else None,
        "readings_text": readings_text(c), "readings": readings_cell(c), "power": power_text(c.power),
        "findings": [f for f in c.findings if f]}


def _looks(c: ClaimResult) -> dict:
    """Every look the sequential design took, with its decision and what it cost."""
    plan = (f" of the planned {', '.join(str(n) for n in c.plan.looks)} (each one-sided test at "
            f"{fmt_p(c.plan.alpha)})" if c.plan is not None else "")
    rows = [{"seeds": fmt_num(lk.seeds), "label": lk.decision.label, "p": fmt_p(lk.decision.p_value),
             "alpha": fmt_p(lk.decision.alpha),
             "effect": interval_text(lk.decision.effect, lk.decision.ci_low, lk.decision.ci_high),
             "cost": fmt_seconds(lk.seconds)} for lk in c.looks]
    return {"plan": plan, "rows": rows}


def _metric_row(experiment: str, values: list[float], outcomes: list[bool] | None) -> list[str]:
    """Seeds, how many non-finite, and the finite values' median and range (a diverged seed is counted,
    never dropped); how many met the rule's per-seed condition."""
    arr = np.asarray(values, dtype=float)
    finite = np.sort(arr[np.isfinite(arr)])
    median, low, high = ((float(np.median(finite)), float(finite[0]), float(finite[-1])) if finite.size
                         else (None, None, None))
    met = f"{sum(outcomes)}/{len(outcomes)}" if outcomes else "—"
    return [experiment] + [fmt_num(v) for v in (arr.size, arr.size - finite.size, median, low, high)] + [met]


def _metric(c: ClaimResult, drawn: Drawn) -> dict:
    """The deciding metric of every seed: a table per experiment and the figure."""
    metric = c.metric or "metric"
    samples, outcomes = claim_samples(c), claim_outcomes(c)
    rows = [_metric_row(exp, values, outcomes[exp] if outcomes and exp in outcomes else None)
            for exp, values in samples.items()]
    threshold = c.metric_threshold
    fig = figures.metric_figure(samples, metric, f"{c.id}: {metric}, every seed", outcomes=outcomes,
                                threshold=threshold, paired=c.comparison == "paired")
    return {"metric": metric, "threshold": fmt_num(threshold) if threshold is not None else None, "rows": rows,
            "figure": drawn.show(f"{safe_name(c.id)}__metric.png", figures.png(fig), f"{c.id}: {metric} of every seed")}


def _curves(c: ClaimResult, ctx: ClaimContext) -> list[dict]:
    """The learning curves of each experiment the test reads, coloured by each seed's outcome."""
    parts = []
    outcomes = claim_outcomes(c) or {}
    for exp in c.experiments or list(c.metric_samples):
        info = ctx.experiments[exp] if exp in ctx.experiments else None
        png, n = ctx.curves.png(exp, outcomes[exp] if exp in outcomes else None, c.metric or "metric", c.seeds)
        parts.append({"experiment": exp,
                      "description": " — ".join(x for x in (info.section, info.description) if x) if info else "",
                      "figure": None if png is None else ctx.drawn.show(
                          f"{safe_name(c.id)}__curves_{safe_name(exp)}.png", png,
                          f"{c.id}: learning curves of {exp} over {n} seeds")})
    return parts


def claim_section(anchor: str, c: ClaimResult, ctx: ClaimContext) -> dict:
    """One test's section: the test itself (``claim``, read by the template as it is) and what is computed
    from it."""
    return {"anchor": anchor, "claim": c, "tag": tag(c, ctx.sentences), "facts": _facts(c, ctx),
            "looks": _looks(c) if c.looks else None, "metric": _metric(c, ctx.drawn) if c.metric_samples else None,
            "curves": _curves(c, ctx), "runs_note": ctx.curves.note}
