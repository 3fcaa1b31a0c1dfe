"""Beside each verdict: its alternative readings, what its rule could detect (power), and the suite-wide
error bound with the family-wise labelling (issue 26); laid out by ``templates/readings.html``."""
from __future__ import annotations

from harness.report.format import effect_text, fmt_num, fmt_p
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


def readings_cell(c: ClaimResult) -> dict:
    """The readings' labels beside the primary's, or why there are none (``uncontested``)."""
    return {"uncontested": c.uncontested,
            "readings": [{"label": r.label, "name": r.name, "differs": r.label != c.label, "words": r.words,
                          "effect": effect_text(r.effect), "detail": r.detail} for r in c.readings]}


def readings_section(claims: list[tuple[str, ClaimResult]]) -> dict | None:
    """Every test: its label, its readings' labels, whether robust, and its rule's power."""
    tests = [c for _, c in claims]
    if not tests:
        return None
    rows = [{"anchor": anchor, "id": c.id, "label": c.label, "text": readings_text(c), "cell": readings_cell(c),
             "power": power_text(c.power)} for anchor, c in claims]
    return {"counts": robustness_counts(tests), "rows": rows}


def error_bound_section(tests: list[ClaimResult], fw: Familywise | None) -> dict:
    """The run's error bound and, with a family-wise labelling, each test's label under it."""
    bound = error_bound_text(tests, fw)
    if fw is None:
        return {"bound": bound, "familywise": None}
    rows = [{"id": c.id, "label": c.label, "p": fmt_p(fw.p_values.get(c.id)), "theirs": fw.labels.get(c.id, "—")}
            for c in tests]
    return {"bound": bound, "familywise": {
        "alpha": fmt_num(fw.alpha), "method": fw.method, "tests": fw.tests, "rows": rows,
        "decided": sum(lab in DECIDED for lab in fw.labels.values())}}
