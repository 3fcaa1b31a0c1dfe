"""The top of the page: every test at a glance, then the tables that read across tests (how close to the
line, which way the latest amendment moved each label, the findings, the replayed batch order)."""
from __future__ import annotations

from collections import Counter

from harness.spec import ON_THE_LINE
from harness.report import figures
from harness.report.verdict_parts import effect_cell, seeds_cell, tag
from harness.report.figure_files import FOREST_FIGURE, Drawn
from harness.report.format import (badge, effect_text, esc, fmt_num, fmt_p, interval_text, link, num, table,
                                   zone_on_abs, zone_text)
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


def forest(claims: Anchored, drawn: Drawn) -> str:
    """The forest plot: every test's effect and interval against its threshold and zone."""
    if not claims:
        return ""
    rows = [figures.ForestRow(label=c.id + (" ‡" if c.robust is False else ""), verdict=c.label, name=c.effect.name, value=c.effect.value,
                              ci_low=c.effect.ci_low, ci_high=c.effect.ci_high, threshold=c.effect.threshold,
                              zone=c.effect.zone, absolute=zone_on_abs(c.effect), untestable=c.untestable)
            for _, c in claims]
    fig = figures.forest_figure(rows, "Each test's effect (dot) and interval (bar) against its threshold "
                                      "(dashed) and indifference zone (grey); each row has its own scale; "
                                      "‡ reading-dependent (another reading gives another label)")
    return drawn.show(FOREST_FIGURE, figures.png(fig), "every test's effect with its interval against its "
                                                        "threshold, coloured by its label")


def summary_table(claims: Anchored) -> str:
    """One row per test: its label (and what was expected, and whether amended), effect, p, seeds, test."""
    if not claims:
        return '<p class="muted">No claims in this results file.</p>'
    sentences = lesson_claims([c for _, c in claims])
    rows = []
    for anchor, c in claims:
        cell = badge(c.label)
        expected, differs = expected_of(c)
        if differs:
            cell += (f'<br><span class="mismatch small" title="the label differs from the expected one">'
                     f"expected {esc(expected)}</span>")
        if not c.as_expected:
            cell += '<br><span class="mismatch small">expectation missed</span>'
        if c.amendments:
            cell += (f' <a href="#{esc(anchor)}-amendments" class="badge amend" '
                     f'title="the rule was changed after its data were seen">amended</a>')
        if c.robust is not None:
            cell += (f'<br><a href="#readings" class="small{"" if c.robust else " mismatch"}">'
                     f'{esc(readings_text(c))}</a>')
        rows.append([
            link(anchor, c.id) + f'<br><span class="muted small">{esc(c.section)}</span>'
            + (f"<br>{t}" if (t := tag(c, sentences)) else ""),
            cell,
            effect_cell(c),
            f'{num(fmt_p(c.p_value))} <span class="num muted">({esc(fmt_num(c.alpha, 2))})</span>',
            seeds_cell(c),
            esc(c.test or "—") + (f'<br><span class="muted small">{esc(c.comparison)}</span>' if c.comparison
                                  else ""),
        ])
    header = ["claim", "label", "effect [interval] vs threshold", "p (alpha)", "seeds", "test"]
    widths = (24, 15, 31, 11, 8, 11)
    cols = "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>"
    return table(header, rows, "summary").replace("<thead>", cols + "<thead>", 1)


def _factor_words(label: str, factor: float) -> str:
    if label == ON_THE_LINE:
        return f"stays on the line for zones at least {fmt_num(factor, 2)}x as wide"
    return f"holds for zones up to {fmt_num(factor, 2)}x as wide"


def zone_sensitivity(claims: Anchored) -> str:
    """The tests decided close to their zone, and those on the line, with how wide a zone keeps them."""
    parts = ['<h2 id="zone-sensitivity">How close to the line: zone width</h2>',
             "<p>A test's zone factor is how far its label is from its indifference zone: scaling the "
             "zone's width about the threshold by any factor up to it keeps a SUPPORTED or REFUTED verdict, "
             "and any factor from it up keeps an ON THE LINE test on the line (1 is the zone it was decided "
             "with).</p>"]
    if all(c.zone_factor is None for _, c in claims):
        parts.append('<p class="muted">This results file carries no zone factors (written before the '
                     "rules of 2026-11-30).</p>")
        return "\n".join(parts)
    rows = []
    for anchor, c in claims:
        near = c.label in DECIDED and c.zone_factor is not None and c.zone_factor < 2
        if not (near or c.label == ON_THE_LINE):
            continue
        rows.append([link(anchor, c.id), badge(c.label),
                     num(interval_text(c.effect.value, c.effect.ci_low, c.effect.ci_high)),
                     esc(zone_text(c.effect)),
                     esc(_factor_words(c.label, c.zone_factor) if c.zone_factor is not None
                         else "no zone factor in this results file")])
    if not rows:
        parts.append("<p>No test is decided within a factor 2 of its zone's width, and none is on the line.</p>")
        return "\n".join(parts)
    parts.append(table(["test", "label", "effect [interval]", "zone", "zone factor"], rows))
    return "\n".join(parts)


def amendment_moves(claims: Anchored) -> str:
    """Per test, the label before the latest amendment of the claims and now: which way it moved."""
    dates = [a.date for _, c in claims for a in c.amendments if a.date]
    if not dates:
        return ""
    date = max(dates)
    rows, moves, new = [], Counter(), []
    for anchor, c in claims:
        mine = [a for a in c.amendments if a.date == date]
        if not mine:
            new.append(link(anchor, c.id))
            continue
        old_text = mine[-1].old_verdict  # the last of that date: the rules in force just before
        old, now = old_label(old_text), c.label
        way = direction(old, now) if old else "—"
        moves[way] += 1
        rows.append([f'<a href="#{esc(anchor)}-amendments">{esc(c.id)}</a>',
                     (f'<span title="{esc(old_text)}">{badge(old)}</span>' if old
                      else f'<span class="small">{esc(old_text)}</span>'),
                     badge(now), f"<strong>{esc(way)}</strong>" if way != "unchanged" else esc(way)])
    order = ["toward SUPPORTED", "toward REFUTED", "toward undecided", "still undecided", "unchanged", "—"]
    told = ", ".join(f"{moves[w]} {w}" for w in order if w in moves)
    return "\n".join([
        f'<h2 id="amendment-moves">The amendment of {esc(date)}: which way the verdicts moved</h2>',
        f"<p>Each test's verdict under the rules before {esc(date)} (the amendment's old verdict; hover it for "
        f"its numbers) and its label now, of {len(rows)} tests: {esc(told)}."
        + (f" Tests without an amendment of that date (new since, or not amended): {', '.join(new)}." if new
           else "") + "</p>",
        table(["test", "before", "now", "moved"], rows)])


def findings(claims: Anchored) -> str:
    items = [f"<li>{link(anchor, c.id)}: {esc(f)}</li>" for anchor, c in claims for f in c.findings if f]
    return ('<h2 id="findings">Findings</h2><ul>' + "".join(items) + "</ul>") if items else ""


def replayed_order(claims: Anchored, variant: Variant | None) -> str:
    """Per claim: the label under seeded Keras 3's replayed order beside this run's."""
    if variant is None:
        return ""
    parts = ['<h2 id="replayed-order">Under seeded Keras 3\'s replayed batch order</h2>']
    if variant.error:
        parts.append(f'<p class="muted">The replayed-order summary cannot be used: {esc(variant.error)}</p>')
        return "\n".join(parts)
    rows, moved = [], 0
    for anchor, c in claims:
        if c.id not in variant.claims:
            continue
        theirs = variant.claims[c.id]
        differs = theirs.label != c.label
        moved += differs
        rows.append([link(anchor, c.id), badge(c.label), effect_cell(c), seeds_cell(c), badge(theirs.label),
                     esc(effect_text(theirs.effect)), num(fmt_num(theirs.seeds)),
                     '<strong class="num">differs</strong>' if differs else "same"])
    parts.append("<p>A finding about seeded Keras 3: with <code>keras.utils.set_random_seed</code>, "
                 "<code>fit(shuffle=True)</code> replays one permutation in every epoch, where the lesson's "
                 "unseeded code draws a fresh one. The same claims decided under that replayed order "
                 f"(<code>{esc(variant.path)}</code>, rules {esc(variant.rules)}): "
                 f"{moved} of {len(rows)} verdicts differ.</p>")
    parts.append(table(["claim", "lesson's order", "effect", "seeds", "replayed order", "effect", "seeds",
                        "verdict"], rows))
    return "\n".join(parts)
