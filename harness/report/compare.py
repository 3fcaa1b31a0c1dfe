"""``python -m harness compare A.json B.json ...``: claims x environments.

Writes ``reports/matrix.html`` (self-contained, figures embedded): each cell is a claim's verdict and effect size in one
environment; environments are ordered by TensorFlow version, then Keras major;
a cell whose verdict differs from its left neighbour's, or whose deciding
metric drifted from it (:mod:`harness.results.drift`), is highlighted; per claim, an
overlay of the deciding metric's per-seed distribution in every environment.

``--out-dir`` is checked for writability before anything is read
(``harness.__main__``).  Bad input never stops the comparison of the rest: a
file that is unreadable, truncated, from another suite version, or a second
file of an environment already read is reported on stderr by name and left
out.
"""
from __future__ import annotations

import html
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.spec import RULES
from harness.results import Cell, ClaimResult, Difference, Neighbours, Results, drift, summaries
from harness.report.format import fmt_p
from harness.storage.store import atomic_write_text


@dataclass(frozen=True)
class Column:
    """One environment: its summary and the file it came from, or (a matrix cell) why it has none."""

    path: str
    summary: Results | None
    env: str | None = None  # the tox environment of a matrix cell
    status: str = "decided"
    reason: str = ""

    @property
    def label(self) -> str:
        if self.summary is None:
            return self.env or self.path
        return summaries.label(self.summary) + (f" ({self.env})" if self.env else "")

    @property
    def current_rules(self) -> bool:
        return self.summary is not None and self.summary.rules == RULES

    @property
    def chain(self) -> str | None:
        """Which line of neighbours a matrix cell is on: Keras 2 ("k2") or Keras 3 ("k3", the newest
        included); None for a summary file, all of which are one line."""
        if not self.env:
            return None
        return "k2" if "-k2-" in self.env else "k3"

    @classmethod
    def of(cls, cell: Cell) -> "Column":
        return cls(f"reports/cells/{cell.env}.json", cell.summary, cell.env, cell.status, cell.reason)


@dataclass(frozen=True)
class Entry:
    """One claim in one environment of the table."""

    claim: ClaimResult
    changed: bool = False  # its label differs from the left neighbour's
    drift: tuple[drift.DriftResult, ...] = ()  # its deciding metric against the left neighbour's


@dataclass(frozen=True)
class Row:
    id: str
    section: str
    metric: str
    cells: tuple[Entry | None, ...]  # None: the claim is not in that environment's summary
    effect: str = ""  # what each cell's effect measures


def load_all(paths, warn=lambda msg: print(msg, file=sys.stderr)) -> list[Column]:
    columns, seen = [], {}
    for p in paths:
        try:
            s = summaries.load(p)
        except summaries.SummaryError as exc:
            warn(f"skipped {exc}")
            continue
        fp = s.environment.fingerprint
        if fp in seen:
            warn(f"skipped {p}: same environment ({fp}) as {seen[fp]}; give one file per environment")
            continue
        seen[fp] = str(p)
        columns.append(Column(str(p), s))
    return sorted(columns, key=lambda c: summaries.sort_key(c.summary))


def matrix(columns: list[Column]) -> list[Row]:
    """Claims x environments; neighbours are compared only when both were decided under the current rules."""
    order: dict[str, tuple] = {}
    for col in columns:
        for c in col.summary.claims if col.summary else ():
            order.setdefault(c.id, (c.section, c.id))
    rows = []
    for cid in sorted(order, key=order.get):
        cells, prev, metric, effect, chain = [], None, "", "", None
        for col in columns:
            if col.chain != chain:  # Keras 3's first cell is no neighbour of Keras 2's last
                prev, chain = None, col.chain
            c = next((x for x in col.summary.claims if x.id == cid), None) if col.summary else None
            if c is None:
                cells.append(None)
                continue
            metric, effect = metric or c.metric, effect or c.effect.name or ""
            cell = Entry(c)
            if prev is not None and col.current_rules:
                checks = tuple(drift.check(cid, exp, c.metric, prev.metric_samples[exp], values)
                               for exp, values in c.metric_samples.items() if exp in prev.metric_samples)
                cell = Entry(c, changed=prev.label != c.label, drift=checks)
            cells.append(cell)
            prev = c if col.current_rules else prev
        rows.append(Row(cid, order[cid][0], metric, tuple(cells), effect))
    return rows


def familywise_drift(rows: list[Row], alpha: float = drift.ALPHA) -> tuple[int, list[str], list[str]]:
    """(checks, drifted each at ``alpha``, drifted under Holm's correction across every claim x cell check):
    a drift beyond tolerance needs the large effect either way; Holm only raises the bar on the p-value."""
    from harness.statistics.familywise import holm

    checks = {f"{d.claim} [{d.experiment}] {i}:{j}": d for i, row in enumerate(rows)
              for j, e in enumerate(row.cells) if e is not None for d in e.drift if d.p_value is not None}
    rejected = holm({k: d.p_value for k, d in checks.items()}, alpha)
    each = [k for k, d in checks.items() if d.drifted]
    family = [k for k, d in checks.items() if d.drifted and rejected[k]]
    return len(checks), each, family


def _familywise_paragraph(rows: list[Row]) -> str:
    n, each, family = familywise_drift(rows)
    if not n:
        return ""
    return (f"<p>Drift checks across the table: {n} (claim x experiment x neighbouring cells). {len(each)} drifted "
            f"at p &lt; {drift.ALPHA} each; corrected across all {n} by Holm (family-wise {drift.ALPHA}), {len(family)} "
            "still do: the chance that any red outline under that correction is chance is at most "
            f"{drift.ALPHA}.</p>")


def _overlay_png(cid: str, metric: str, columns: list[Column]) -> bytes | None:
    from harness.report import figures

    groups = {}
    for col in columns:
        c = next((x for x in col.summary.claims if x.id == cid), None) if col.summary else None
        if c is None:
            continue
        for exp, values in c.metric_samples.items():
            # TF and Keras on their own lines (the tox environment is in the table's header, not here)
            name = summaries.label(col.summary).replace(" / ", "\n")
            groups[name if len(c.metric_samples) == 1 else f"{name}\n{exp}"] = values
    if not groups:
        return None
    return figures.png(figures.metric_figure(groups, metric, cid))


_CSS = """body{font-family:sans-serif;margin:1.5em;max-width:1400px}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top}th{background:#f4f4f4}
.supported{color:#176317;font-weight:bold}.refuted{color:#a31515;font-weight:bold}
.line{color:#3b5f8c;font-weight:bold}.untestable{color:#5f5f5f;font-weight:bold}
.inconclusive{color:#8a6d00;font-weight:bold}td.changed{background:#ffe08a}td.drift{outline:3px solid #d9534f}
img{max-width:100%}.small{font-size:11px;color:#555}"""


# A class (and colour) per label: the report's colours, darkened for text on white.
_LABEL_CLASSES = {"SUPPORTED": "supported", "REFUTED": "refuted", "ON THE LINE": "line",
                  "NOT TESTABLE HERE": "untestable", "INCONCLUSIVE": "inconclusive"}


def _p(p: float | None) -> str:
    """"p = 0.041", "p < 1e-6" (the report's floor), "no test"."""
    if p is None:
        return "no test"
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _fmt(x) -> str:
    try:
        return f"{float(x):.3g}"
    except (TypeError, ValueError):
        return "—"


def _neighbours(pairs: list[Neighbours]) -> str:
    if not pairs:
        return ""
    esc = html.escape

    def names(xs) -> str:
        return f"{len(xs)}: {', '.join(xs)}" if xs else "none"

    rows = "".join(
        f"<tr><td>{esc(p.left)} &rarr; {esc(p.right)}</td>"
        + (f'<td colspan="4">{esc(p.unknown)}</td>' if p.unknown else
           f"<td>{esc(names(p.identical))}</td><td>{esc(names(p.numerics))}"
           + (f" (part at epochs {p.first_parting[0]}-{p.first_parting[1]})" if p.first_parting else "")
           + f"</td><td>{esc(names(p.reporting))}</td><td>{esc(names(p.behaviour))}</td>") + "</tr>" for p in pairs)
    return ("<h2>Neighbours' training compared</h2><p>Each pair of neighbouring cells, configuration by "
            "configuration: the two certificates' Keras references (seeds of the certificate) bit-identical "
            "over every epoch; the same initial weights with losses that part later (numerics); weights and "
            "momentum bit-identical at every checkpoint while the History's losses differ (reporting: how Keras "
            "reports the loss, not the training); or parting at the initial weights or by more than 1e-5 relative "
            "in the first epoch (behaviour). A cell whose certification failed is compared with the nearest "
            "decided cell on its Keras line.</p>"
            "<table><thead><tr><th>cells</th>"
            "<th>identical</th><th>numerics</th><th>reporting</th><th>behaviour</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _differences(diffs: list[Difference]) -> str:
    if not diffs:
        return ("<h2>Why neighbours differ</h2><p>No claim's label or deciding metric differs beyond chance "
                "between neighbouring cells.</p>")
    esc = html.escape
    rows = "".join(f"<tr><td>{esc(d.claim)}</td><td>{esc(d.left)} &rarr; {esc(d.right)}</td><td>{esc(d.what)}</td>"
                   f"<td><b>{esc(d.kind)}</b></td><td>{'<br>'.join(esc(e) for e in d.evidence)}</td></tr>"
                   for d in diffs)
    return ("<h2>Why neighbours differ</h2><p>Neighbours differ in one thing: the next TensorFlow minor with the "
            "same Keras family, or the same minor with the other Keras. A difference is explained from the two "
            "certificates' Keras references (the lesson's own code, same seeds, same batch order): "
            "<b>behaviour</b> when the initial weights differ, or the first epoch's loss by more than 1e-5 relative "
            "(initializers, optimizer, loss, shuffling); <b>numerics</b> when the losses part later or by a few "
            "ulps (other kernels' rounding, amplified by training); <b>reporting</b> when weights and momentum are "
            "bit-identical at every checkpoint and only the History's losses differ; <b>chance</b> when only a label moved and the "
            "deciding metric did not move beyond the drift tolerance.</p>"
            "<table><thead><tr><th>claim</th><th>cells</th><th>what differs</th><th>kind</th><th>evidence</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>")


def render(columns: list[Column], out_dir: Path, diffs: list[Difference] | None = None,
           pairs: list[Neighbours] | None = None) -> Path:
    import base64

    # Keras 2's line of cells, then Keras 3's (a column's neighbour is the one to its left on its line)
    columns = sorted(columns, key=lambda c: c.chain == "k3")
    current = [c for c in columns if c.current_rules]
    older = [c for c in columns if c.summary is not None and not c.current_rules]
    rows = matrix(current)
    esc = html.escape
    head = "".join(f"<th>{esc(c.label)}<br><span class=small>"
                   f"{esc(c.summary.environment.fingerprint if c.summary else c.status)}</span></th>"
                   for c in current)
    body = []
    for row in rows:
        tds = []
        for col, cell in zip(current, row.cells):
            if cell is None:
                tds.append('<td class=small title="not in this summary">—</td>')
                continue
            c = cell.claim
            drifted = [d for d in cell.drift if d.drifted]
            cls = " ".join(x for x in ("changed" if cell.changed else "", "drift" if drifted else "") if x)
            title = "; ".join(d.message for d in cell.drift)
            tds.append(f'<td class="{cls}" title="{esc(title)}"><span class="{_LABEL_CLASSES.get(c.label, "")}">'
                       f'{esc(c.label)}</span><br>{_fmt(c.effect.value)}'
                       f' [{_fmt(c.effect.ci_low)}, {_fmt(c.effect.ci_high)}]'
                       f'<br><span class=small>{_p(c.p_value)}, {c.seeds} seeds'
                       + (f"; metric moved vs left ({_p(drifted[0].p_value)})" if drifted else "")
                       + "</span></td>")
        body.append(f'<tr><th><a href="#{esc(row.id)}">{esc(row.id)}</a><br>'
                    f'<span class=small>{esc(row.section)}: {esc(row.effect)}</span></th>{"".join(tds)}</tr>')
    figs = []
    for row in rows:
        png = _overlay_png(row.id, row.metric, current)
        img = (f'<img alt="{esc(row.id)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
               if png else "")
        figs.append(f'<h3 id="{esc(row.id)}">{esc(row.id)}</h3><p>{esc(row.metric)} per seed, '
                    f"by environment</p>{img}")
    apart = ""
    if older:  # verdicts of other rules are not comparable with these: listed, never compared
        apart = ("<h2>Decided under other rules (not compared)</h2><ul>"
                 + "".join(f"<li>{esc(c.label)} ({esc(c.path)}): rules {esc(c.summary.rules or 'before 2026-11-28')},"
                           f" this suite's are {esc(RULES)}</li>" for c in older) + "</ul>")
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lesson-claims: claims x "
            f"environments</title><style>{_CSS}</style></head><body><h1>Claims across environments</h1>"
            "<p>Each cell: the claim's label in that environment, its effect (named under the claim) with its "
            "interval, p-value and seeds. Keras 2's cells come first, then Keras 3's; a cell's neighbour is the one "
            "to its left on the same Keras. A yellow cell's label differs from its left neighbour's; a red outline means the deciding metric "
            "moved from the left neighbour beyond the drift tolerance (two-sided Mann-Whitney p &lt; 0.01 and "
            "P(superiority) outside [0.29, 0.71]); hover a cell for the numbers.</p>"
            f"<table><thead><tr><th>claim</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"{_familywise_paragraph(rows)}{apart}"
            + (_not_run(columns, pairs or []) + _differences(diffs) if diffs is not None else "") + _neighbours(pairs or []) +
            f"<h2>Deciding metric by environment</h2>{''.join(figs)}</body></html>\n")
    index = Path(out_dir) / "matrix.html"
    atomic_write_text(index, page)
    return index


def _not_run(columns: list[Column], pairs: list[Neighbours]) -> str:
    """The cells without a decision: why (the first part of the reason, every failure folded under it), and
    for a failed certification, how its Keras references compare with its nearest decided cell's."""
    missing = [c for c in columns if c.summary is None]
    if not missing:
        return ""
    esc = html.escape
    items = []
    for c in missing:
        head, *rest = c.reason.split(" | ")
        item = f"{esc(c.env or c.path)}: <b>{esc(c.status)}</b>: {esc(head)}"
        for p in (p for p in pairs if p.left == c.env and not p.unknown):
            kinds = [f"{len(xs)} {k}" for k, xs in (("reporting", p.reporting), ("identical", p.identical),
                                                     ("numerics", p.numerics), ("behaviour", p.behaviour)) if xs]
            item += (f". Against {esc(p.right)}'s Keras references, of the configurations: {esc(', '.join(kinds))} "
                     "(see the neighbours' table below)")
        if rest:
            item += "<details><summary>each failure</summary><ul>" + "".join(f"<li>{esc(r)}</li>" for r in rest) \
                + "</ul></details>"
        items.append(f"<li>{item}</li>")
    return "<h2>Cells not decided</h2><ul>" + "".join(items) + "</ul>"


def run_compare(args, cells: list[Cell] | None = None, diffs: list[Difference] | None = None,
                pairs: list[Neighbours] | None = None) -> int:
    """Summary files (``args.files``), or the matrix's cells with the differences between neighbours."""
    columns = [Column.of(c) for c in cells] if cells is not None else load_all(args.files)
    if not columns:
        print("compare: no usable results files", file=sys.stderr)
        return 2
    index = render(columns, args.out_dir, diffs, pairs)
    print(index)
    for row in matrix([c for c in columns if c.current_rules]):
        labels = [c.claim.label if c else "-" for c in row.cells]
        if len(set(v for v in labels if v != "-")) > 1:
            print(f"label changes across environments: {row.id}: {' | '.join(labels)}")
    return 1 if cells is None and len(columns) < len(args.files) else 0
