"""How the run decided and where it ran: the decision design, the regression check against a baseline, the
environment, the wall time per experiment and the run's notes."""
from __future__ import annotations

import dataclasses
import math

from harness.report.format import esc, fmt_num, kv_table, num, pass_badge, table
from harness.report.hardware import machine_text
from harness.results.drift import DriftResult
from harness.results.model import Environment, ExperimentRun, SuiteDesign
from harness.training import records


def design_section(design: SuiteDesign | None) -> str:
    """The sequential design, the multiplicity statement, and amendments that apply to every claim."""
    if design is None:
        return ""
    seq = design.sequential.to_dict()  # the design's own words: its alpha per test, their split, the claim's
    looks = ", ".join(str(n) for n in design.sequential.looks)
    parts = ['<h2 id="design">Decision design</h2>',
             f"<p>Sequential looks at {esc(looks)} seeds: a claim still undecided is decided again on more seeds, "
             "until SUPPORTED, REFUTED, or its interval lies inside its indifference zone (the effect sits on the "
             f"claim's line). Each one-sided test at alpha = {esc(fmt_num(seq['alpha_per_test']))} "
             f"({esc(seq['split'])}), so a claim's chance of a wrong decision is at most "
             f"{esc(fmt_num(seq['claim_alpha']))}.</p>"]
    if design.multiplicity:
        parts.append(f"<p>{esc(design.multiplicity)}</p>")
    for a in design.amendments:
        parts.append(f'<div class="amendment"><b>amended {esc(a.date)}, every claim</b>: {esc(a.new_rule)}'
                     f'<br><span class="small">was: {esc(a.old_rule)}<br>why: {esc(a.reason)}'
                     f"<br>verdicts under the old rule: {esc(a.old_verdict)}</span></div>")
    return "\n".join(parts)


def drift_section(drift: tuple[DriftResult, ...]) -> str:
    """Each claim's deciding metric against the baseline's (only when the run was given one)."""
    if not drift:
        return ""
    rows = [[esc(d.claim), esc(d.experiment or "—"), pass_badge(not d.drifted), esc(d.message)] for d in drift]
    return "\n".join(['<h2 id="drift">Regression check against the baseline</h2>',
                      "<p>Per claim and experiment: the deciding metric now against the baseline's (two-sided "
                      "Mann-Whitney). It fails on a changed verdict, or on p &lt; 0.01 with P(now &gt; baseline) "
                      "outside [0.29, 0.71].</p>",
                      table(["claim", "experiment", "check", "detail"], rows)])


def _value(v) -> str:
    """A setting as text: a part of several values (determinism, devices) as its JSON."""
    if dataclasses.is_dataclass(v):
        return records.dumps(dataclasses.asdict(v))
    return fmt_num(v)


def environment_section(schema: str, suite_version: str | None, env: Environment) -> str:
    items = [("schema", esc(schema)), ("suite version", esc(fmt_num(suite_version)))]
    items += [(f.name, esc(machine_text(env.machine) if f.name == "machine" else _value(getattr(env, f.name))))
              for f in dataclasses.fields(env)]
    return '<h2 id="environment">Environment</h2>\n' + kv_table(items)


def wall_time_section(experiments: dict[str, ExperimentRun]) -> str:
    parts = ['<h2 id="wall-time">Wall time per experiment</h2>']
    if not experiments:
        parts.append('<p class="muted">No experiments in this results file.</p>')
        return "\n".join(parts)
    rows = [[esc(name), esc(e.section), esc(e.description), esc(e.engine), esc(fmt_num(e.seeds)),
             num(fmt_num(e.wall_seconds)), f"<code>{esc(e.fingerprint)}</code>"] for name, e in experiments.items()]
    total = sum(e.wall_seconds for e in experiments.values() if math.isfinite(e.wall_seconds))
    rows.append(["<b>total</b>", "", "", "", "", f'<span class="num"><b>{esc(fmt_num(total))}</b></span>', ""])
    parts.append(table(["experiment", "section", "description", "engine", "seeds", "wall seconds", "fingerprint"],
                       rows))
    return "\n".join(parts)


def notes_section(notes: tuple[str, ...]) -> str:
    body = ("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>") if notes \
        else '<p class="muted">None.</p>'
    return '<h2 id="notes">Notes</h2>\n' + body
