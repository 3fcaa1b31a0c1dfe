"""The top of the page: every test at a glance, then the tables that read across tests (how close to the
line, which way the latest amendment moved each label, the findings, the replayed batch order); laid out by
``templates/overview.html``."""
from __future__ import annotations

from collections import Counter

from harness.spec import ON_THE_LINE
from harness.report import figures
from harness.report.verdict_parts import effect_cell, seeds_cell, tag
from harness.report.figure_files import FOREST_FIGURE, Drawn
from harness.report.format import effect_text, fmt_num, fmt_p, interval_text, zone_text
from harness.report.labels import DECIDED, direction, expected_of, lesson_claims, old_label, readings_text
from harness.results.model import ClaimResult, Variant

Anchored = list[tuple[str, ClaimResult]]  # each test with its section's id on the page


def anchors(claims: tuple[ClaimResult, ...]) -> Anchored:
    """Each test with a unique anchor: its id, suffixed where an id repeats."""
    out, seen = [], set()
    for c in claims:
        anchor, k = c.id, 2
        while anchor in seen:
            anchor, k = f"{c.id}-{k}", k + 1
        seen.add(anchor)
        out.append((anchor, c))
    return out


def forest(claims: Anchored, drawn: Drawn) -> dict | None:
    """The forest plot: every test's effect and interval against its threshold and zone."""
    if not claims:
        return None
    rows = [figures.ForestRow(label=c.id + (" ‡" if c.robust is False else ""), verdict=c.label, effect=c.effect,
                              untestable=c.untestable) for _, c in claims]
    fig = figures.forest_figure(rows, "Each test's effect (dot) and interval (bar) against its threshold "
                                      "(dashed) and indifference zone (grey); each row has its own scale; "
                                      "‡ reading-dependent (another reading gives another label)")
    return drawn.show(FOREST_FIGURE, figures.png(fig), "every test's effect with its interval against its "
                                                        "threshold, coloured by its label")


def _summary_row(anchor: str, c: ClaimResult, sentences: dict[str, list[ClaimResult]]) -> dict:
    expected, differs = expected_of(c)
    return {"anchor": anchor, "id": c.id, "section": c.section, "tag": tag(c, sentences), "label": c.label,
            "expected": expected if differs else None, "missed": not c.as_expected, "amended": bool(c.amendments),
            "readings": None if c.robust is None else {"text": readings_text(c), "robust": c.robust},
            "effect": effect_cell(c), "p": fmt_p(c.p_value), "alpha": fmt_num(c.alpha, 2), "seeds": seeds_cell(c),
            "test": c.test or "—", "comparison": c.comparison}


def summary_table(claims: Anchored) -> list[dict]:
    """One row per test: its label (and what was expected, and whether amended), effect, p, seeds, test."""
    sentences = lesson_claims([c for _, c in claims])
    return [_summary_row(anchor, c, sentences) for anchor, c in claims]


def _factor_words(label: str, factor: float) -> str:
    if label == ON_THE_LINE:
        return f"stays on the line for zones at least {fmt_num(factor, 2)}x as wide"
    return f"holds for zones up to {fmt_num(factor, 2)}x as wide"


def zone_sensitivity(claims: Anchored) -> dict:
    """The tests decided close to their zone, and those on the line, with how wide a zone keeps them
    (``recorded``: whether the results carry zone factors at all)."""
    rows = []
    for anchor, c in claims:
        near = c.label in DECIDED and c.zone_factor is not None and c.zone_factor < 2
        if not (near or c.label == ON_THE_LINE):
            continue
        rows.append({"anchor": anchor, "id": c.id, "label": c.label,
                     "effect": interval_text(c.effect.value, c.effect.ci_low, c.effect.ci_high),
                     "zone": zone_text(c.effect),
                     "factor": (_factor_words(c.label, c.zone_factor) if c.zone_factor is not None
                                else "no zone factor in this results file")})
    return {"recorded": not all(c.zone_factor is None for _, c in claims), "rows": rows}


def amendment_moves(claims: Anchored) -> dict | None:
    """Per test, the label before the latest amendment of the claims and now: which way it moved."""
    dates = [a.date for _, c in claims for a in c.amendments if a.date]
    if not dates:
        return None
    date = max(dates)
    rows, moves, new = [], Counter(), []
    for anchor, c in claims:
        mine = [a for a in c.amendments if a.date == date]
        if not mine:
            new.append({"anchor": anchor, "id": c.id})
            continue
        old_text = mine[-1].old_verdict  # the last of that date: the rules in force just before
        old, now = old_label(old_text), c.label
        way = direction(old, now) if old else "—"
        moves[way] += 1
        rows.append({"anchor": anchor, "id": c.id, "old_text": old_text, "old": old, "now": now, "way": way})
    order = ["toward SUPPORTED", "toward REFUTED", "toward undecided", "still undecided", "unchanged", "—"]
    told = ", ".join(f"{moves[w]} {w}" for w in order if w in moves)
    return {"date": date, "rows": rows, "told": told, "new": new}


def findings(claims: Anchored) -> list[dict]:
    return [{"anchor": anchor, "id": c.id, "text": f} for anchor, c in claims for f in c.findings if f]


def replayed_order(claims: Anchored, variant: Variant | None) -> dict | None:
    """Per claim: the label under seeded Keras 3's replayed order beside this run's."""
    if variant is None:
        return None
    if variant.error:
        return {"error": variant.error}
    rows = []
    for anchor, c in claims:
        if c.id not in variant.claims:
            continue
        theirs = variant.claims[c.id]
        rows.append({"anchor": anchor, "id": c.id, "label": c.label, "effect": effect_cell(c),
                     "seeds": seeds_cell(c), "their_label": theirs.label, "their_effect": effect_text(theirs.effect),
                     "their_seeds": fmt_num(theirs.seeds), "differs": theirs.label != c.label})
    return {"error": None, "path": variant.path, "rules": variant.rules, "rows": rows,
            "moved": sum(r["differs"] for r in rows)}
