"""One test's section: the lesson's words, the label with what was expected and every amendment, the
numbers of the deciding look and of each look, the deciding metric of every seed, and the learning curves."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from harness.spec import NOT_TESTABLE, ON_THE_LINE
from harness.report import figures
from harness.report.verdict_parts import effect_cell, seeds_cell, tag
from harness.report.figure_files import Drawn, safe_name
from harness.report.format import (badge, effect_text, esc, fmt_num, fmt_p, fmt_seconds, interval_text, kv_table,
                                   num, pass_badge, table)
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


def _verdict_lines(anchor: str, c: ClaimResult, ctx: ClaimContext) -> str:
    """The label, what was expected, the replayed order's label and every amendment, with the label before."""
    now = c.label
    text = badge(now)
    expected, differs = expected_of(c)
    text += f' <span class="muted">expected {esc(expected)}</span>'
    if differs:
        text += ' <span class="mismatch">≠</span>'
    if now == ON_THE_LINE:
        text += (' <span class="muted">(the interval lies inside the indifference zone: more seeds would not '
                 "decide it)</span>")
    replayed = ctx.replayed_claim(c.id)
    if replayed is not None:
        text += (f'<div class="muted">Under seeded Keras 3\'s replayed batch order: {badge(replayed.label)} '
                 f"({esc(effect_text(replayed.effect))}; {esc(fmt_num(replayed.seeds))} seeds): "
                 + ("<strong>a different verdict</strong>" if replayed.label != now else "the same verdict")
                 + ' (<a href="#replayed-order">all claims</a>)</div>')
    for i, a in enumerate(c.amendments):
        then = old_label(a.old_verdict)
        moved = (f"<br>then {badge(then)} → now {badge(now)} <span class=\"muted\">({esc(direction(then, now))})"
                 "</span>" if then else "")
        target = f' id="{esc(anchor)}-amendments"' if i == 0 else ""  # the first is where links land
        text += (f'<div class="amendment"{target}><b>amended {esc(a.date)}</b>: {esc(a.reason)}{moved}'
                 f"<br>old rule: {esc(a.old_rule)}<br>old verdict: {esc(a.old_verdict)}"
                 f"<br>new rule: {esc(a.new_rule)}</div>")
    return text


def _expectation(c: ClaimResult, fingerprint: str) -> str:
    """Whether the run was as expected: the numbers pinned for this environment, what missed, and why."""
    text = pass_badge(c.as_expected)
    pins = c.expectation.pins_for(fingerprint)
    if pins:
        text += " " + esc("; ".join(f"{q} in [{fmt_num(low)}, {fmt_num(high)}]" for q, (low, high) in pins.items()))
    for line in (*c.expectation_missed, c.expectation.why):
        if line:
            text += f'<br><span class="small">{esc(line)}</span>'
    return text


def _facts(anchor: str, c: ClaimResult, ctx: ClaimContext) -> str:
    now = c.label
    items = [("interpretation", esc(c.interpretation)), ("decision rule", esc(c.rule)),
             ("label", _verdict_lines(anchor, c, ctx))]
    if now == NOT_TESTABLE:
        items.append(("not testable here", esc(c.untestable) + ' <span class="muted">(the rule\'s test could '
                      "not run on this evidence: no effect and no p-value)</span>"))
    items.append(("expectation", _expectation(c, ctx.fingerprint)))
    if c.comparison:
        items.append(("comparison", esc(c.comparison) + (f' <span class="muted">— {esc(c.pairing)}</span>'
                                                      if c.pairing else "")))
    confidence = c.effect.confidence
    items += [
        ("test", esc(c.test or "—") + (f' <span class="muted">(statistic {esc(fmt_num(c.statistic))})</span>'
                                       if c.statistic is not None else "")),
        ("p-value", esc(fmt_p(c.p_value))
         + f' <span class="muted">(alpha = {esc(fmt_num(c.alpha))} for each one-sided test)</span>'),
        ("effect [interval]", effect_cell(c) if now == NOT_TESTABLE else esc(effect_text(c.effect, 4)) + (
            f' <span class="muted">({esc(fmt_num(confidence))} interval)</span>' if confidence is not None else "")),
        ("seeds", seeds_cell(c)),
        ("detail", esc(c.detail)),
    ]
    if now == "INCONCLUSIVE":  # short of seeds: how many more would decide it
        text = (esc(fmt_num(c.seeds_needed)) if c.seeds_needed is not None
                else '<span class="muted">not estimated</span>')
        if c.seeds_needed_for:
            text += f' <span class="muted">{esc(c.seeds_needed_for)}</span>'
        items.append(("seeds needed", text))
    items.append(("readings", f"<b>{esc(readings_text(c))}</b>" + readings_cell(c)))
    items.append(("power", esc(power_text(c.power))))
    findings = [f for f in c.findings if f]
    if findings:
        items.append(("findings", "<ul>" + "".join(f"<li>{esc(f)}</li>" for f in findings) + "</ul>"))
    return kv_table(items)


def _looks(c: ClaimResult) -> str:
    """Every look the sequential design took, with its decision and what it cost."""
    plan = (f" of the planned {', '.join(str(n) for n in c.plan.looks)} (each one-sided test at "
            f"{fmt_p(c.plan.alpha)})" if c.plan is not None else "")
    rows = [[num(fmt_num(lk.seeds)), badge(lk.decision.label), num(fmt_p(lk.decision.p_value)),
             num(fmt_p(lk.decision.alpha)),
             esc(interval_text(lk.decision.effect, lk.decision.ci_low, lk.decision.ci_high)),
             num(fmt_seconds(lk.seconds))] for lk in c.looks]
    return (f"<h4>Looks{esc(plan)}</h4>\n"
            + table(["seeds", "label", "p-value", "alpha", "effect [interval]", "cost"], rows))


def _metric_row(experiment: str, values: list[float], outcomes: list[bool] | None) -> list[str]:
    """Seeds, how many non-finite, and the finite values' median and range (a diverged seed is counted,
    never dropped); how many met the rule's per-seed condition."""
    arr = np.asarray(values, dtype=float)
    finite = np.sort(arr[np.isfinite(arr)])
    median, low, high = ((float(np.median(finite)), float(finite[0]), float(finite[-1])) if finite.size
                         else (None, None, None))
    met = f"{sum(outcomes)}/{len(outcomes)}" if outcomes else "—"
    return [esc(experiment)] + [num(fmt_num(v)) for v in (arr.size, arr.size - finite.size, median, low, high)] \
        + [num(met)]


def _metric(c: ClaimResult, drawn: Drawn) -> str:
    """The deciding metric of every seed: a table per experiment and the figure."""
    metric = c.metric or "metric"
    samples, outcomes = claim_samples(c), claim_outcomes(c)
    rows = [_metric_row(exp, values, outcomes[exp] if outcomes and exp in outcomes else None)
            for exp, values in samples.items()]
    threshold = c.metric_threshold
    fig = figures.metric_figure(samples, metric, f"{c.id}: {metric}, every seed", outcomes=outcomes,
                                threshold=threshold, paired=c.comparison == "paired")
    return "\n".join([
        f"<h4>Deciding metric: <code>{esc(metric)}</code>"
        + (f' <span class="muted">(threshold {esc(fmt_num(threshold))})</span>' if threshold is not None else "")
        + "</h4>",
        table(["experiment", "seeds", "non-finite", "median (finite)", "min (finite)", "max (finite)",
               "met the per-seed condition"], rows),
        drawn.show(f"{safe_name(c.id)}__metric.png", figures.png(fig), f"{c.id}: {metric} of every seed")])


def _curves(c: ClaimResult, ctx: ClaimContext) -> list[str]:
    """The learning curves of each experiment the test reads, coloured by each seed's outcome."""
    parts = []
    outcomes = claim_outcomes(c) or {}
    for exp in c.experiments or list(c.metric_samples):
        info = ctx.experiments[exp] if exp in ctx.experiments else None
        desc = " — ".join(x for x in (info.section, info.description) if x) if info else ""
        parts.append(f"<h4>Learning curves: <code>{esc(exp)}</code>"
                     + (f' <span class="muted">{esc(desc)}</span>' if desc else "") + "</h4>")
        png, n = ctx.curves.png(exp, outcomes[exp] if exp in outcomes else None, c.metric or "metric", c.seeds)
        if png is None:
            parts.append('<p class="muted">No runs of this experiment in the results file'
                         + (f" ({esc(ctx.curves.note)})" if ctx.curves.note else "") + ".</p>")
            continue
        parts.append(ctx.drawn.show(f"{safe_name(c.id)}__curves_{safe_name(exp)}.png", png,
                                    f"{c.id}: learning curves of {exp} over {n} seeds"))
    return parts


def claim_section(anchor: str, c: ClaimResult, ctx: ClaimContext) -> str:
    head = f"<h3>{esc(c.id)} {badge(c.label)}"
    if c.amendments:
        head += f' <a href="#{esc(anchor)}-amendments" class="badge amend">amended</a>'
    parts = [f'<section id="{esc(anchor)}" class="claim">', head + "</h3>"]
    if t := tag(c, ctx.sentences):
        parts.append(f"<p>{t}</p>")
    if c.quote:
        parts.append(f'<blockquote>{esc(c.quote)}<br><span class="muted small">lesson section '
                     f"{esc(c.section or '—')}</span></blockquote>")
    parts.append(_facts(anchor, c, ctx))
    if c.looks:
        parts.append(_looks(c))
    if c.metric_samples:
        parts.append(_metric(c, ctx.drawn))
    parts += _curves(c, ctx)
    parts.append("</section>")
    return "\n".join(parts)
