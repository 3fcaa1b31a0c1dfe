"""Beside each verdict: its alternative readings, what its rule could detect (power), and the suite-wide
error bound with the family-wise labelling (issue 26)."""
from __future__ import annotations

from harness.report.format import badge, effect_text, esc, fmt_num, fmt_p, link, num, table
from harness.report.labels import DECIDED, error_bound_text, readings_text, robustness_counts
from harness.results.model import ClaimResult, Familywise, Power


def power_text(p: Power | None) -> str:
    """"would say REFUTED at <= x, SUPPORTED at >= y (80%, 30 seeds)" on the effect's scale."""
    if p is None:
        return "no power estimate (no zone to depart from)"
    def side(v, word):
        return f"{word} at {fmt_num(v, 3)}" if v is not None else f"never {word} at these seeds"
    text = (f"{side(p.refute_at, 'REFUTED')}, {side(p.support_at, 'SUPPORTED')} ({p.power:.0%} of the time, "
            f"{p.seeds} seeds, alpha {fmt_p(p.alpha)} per test; {p.method}")
    return text + (f"; {p.note})" if p.note else ")")


def readings_cell(c: ClaimResult) -> str:
    """The readings' labels beside the primary's, or why there are none."""
    if not c.readings:
        return (f'<span class="muted small">no contestable word: {esc(c.uncontested)}</span>' if c.uncontested
                else '<span class="muted small">not recorded: decided before readings were (2026-12-02)</span>')
    items = []
    for r in c.readings:
        differs = r.label != c.label
        items.append(f"<li>{badge(r.label)} <b>{esc(r.name)}</b>"
                     + (' <span class="mismatch small">differs</span>' if differs else "")
                     + f': {esc(r.words)}<br><span class="muted small">{esc(effect_text(r.effect))}; '
                       f"{esc(r.detail)}</span></li>")
    return "<ul>" + "".join(items) + "</ul>"


def readings_section(claims: list[tuple[str, ClaimResult]]) -> str:
    """Every test: its label, its readings' labels, whether robust, and its rule's power."""
    tests = [c for _, c in claims]
    if not tests:
        return ""
    rows = [[link(anchor, c.id), badge(c.label), esc(readings_text(c)), readings_cell(c),
             f'<span class="small">{esc(power_text(c.power))}</span>'] for anchor, c in claims]
    return "\n".join([
        '<h2 id="readings">Readings side by side, and what each rule could detect</h2>',
        f"<p>Each alternative reading was declared in the claim's spec before the run that decides it and is "
        f"decided on the same runs, at the same alpha; the primary reading and its label do not change. A test is "
        f"<b>robust</b> when every reading gives its label, <b>reading-dependent</b> otherwise (the readings that "
        f"differ are named). {esc(robustness_counts(tests))}. Power: the true effect, on the effect's own scale, "
        f"at which the rule would say REFUTED (the smallest departure from the claim it detects) or SUPPORTED, "
        f"80% of the time, at the seeds and alpha of the look that decided it.</p>",
        table(["test", "label", "readings", "each reading", "power"], rows)])


def error_bound_section(tests: list[ClaimResult], fw: Familywise | None) -> str:
    parts = ['<h2 id="error-bound">The chance that a verdict here is wrong</h2>',
             f"<p>{esc(error_bound_text(tests, fw))}. Tests that share an experiment share runs, so their errors "
             "are not independent: the bound is the sum, which needs no independence. For verdicts decided by the "
             "procedure of 2026-11-28 (a 30-seed look before the design was fixed) the per-test bound is 3%, not "
             "1% (docs/design.md).</p>"]
    if fw is None:
        parts.append('<p class="muted">Run with <code>--claims-familywise=0.05</code> to label every test also '
                     "under Holm's correction across the run (the same runs re-decided, nothing trained).</p>")
        return "\n".join(parts)
    rows = []
    for c in tests:
        theirs = fw.labels.get(c.id, "—")
        rows.append([esc(c.id), badge(c.label), num(fmt_p(fw.p_values.get(c.id))), badge(theirs),
                     "<strong>differs</strong>" if theirs != c.label else "same"])
    decided = sum(lab in DECIDED for lab in fw.labels.values())
    parts.append(f"<p>Family-wise at {esc(fmt_num(fw.alpha))} ({esc(fw.method)}): {decided} of {fw.tests} tests "
                 "decided; a decided test that Holm does not reject is INCONCLUSIVE there.</p>")
    parts.append(table(["test", "its own label", "design-adjusted p", f"Holm at {fmt_num(fw.alpha)}", ""], rows))
    return "\n".join(parts)
