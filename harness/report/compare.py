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

from harness.claims import RULES
from harness.results import ClaimResult, Results, baseline, drift
from harness.storage.store import atomic_write_text


@dataclass(frozen=True)
class Column:
    """One environment's summary, and the file it came from."""

    path: str
    summary: Results

    @property
    def label(self) -> str:
        return baseline.label(self.summary)

    @property
    def current_rules(self) -> bool:
        return self.summary.rules == RULES


@dataclass(frozen=True)
class Cell:
    claim: ClaimResult
    changed: bool = False  # its label differs from the left neighbour's
    drift: tuple[drift.DriftResult, ...] = ()  # its deciding metric against the left neighbour's


@dataclass(frozen=True)
class Row:
    id: str
    section: str
    metric: str
    cells: tuple[Cell | None, ...]  # None: the claim is not in that environment's summary


def load_all(paths, warn=lambda msg: print(msg, file=sys.stderr)) -> list[Column]:
    columns, seen = [], {}
    for p in paths:
        try:
            s = baseline.load(p)
        except baseline.SummaryError as exc:
            warn(f"skipped {exc}")
            continue
        fp = s.environment.fingerprint
        if fp in seen:
            warn(f"skipped {p}: same environment ({fp}) as {seen[fp]}; give one file per environment")
            continue
        seen[fp] = str(p)
        columns.append(Column(str(p), s))
    return sorted(columns, key=lambda c: baseline.sort_key(c.summary))


def matrix(columns: list[Column]) -> list[Row]:
    """Claims x environments; neighbours are compared only when both were decided under the current rules."""
    order: dict[str, tuple] = {}
    for col in columns:
        for c in col.summary.claims:
            order.setdefault(c.id, (c.section, c.id))
    rows = []
    for cid in sorted(order, key=order.get):
        cells, prev, metric = [], None, ""
        for col in columns:
            c = next((x for x in col.summary.claims if x.id == cid), None)
            if c is None:
                cells.append(None)
                continue
            metric = metric or c.metric
            cell = Cell(c)
            if prev is not None and col.current_rules:
                checks = tuple(drift.check(cid, exp, c.metric, prev.metric_samples[exp], values)
                               for exp, values in c.metric_samples.items() if exp in prev.metric_samples)
                cell = Cell(c, changed=prev.label != c.label, drift=checks)
            cells.append(cell)
            prev = c if col.current_rules else prev
        rows.append(Row(cid, order[cid][0], metric, tuple(cells)))
    return rows


def _overlay_png(cid: str, metric: str, columns: list[Column]) -> bytes | None:
    from harness.report import figures

    groups = {}
    for col in columns:
        c = next((x for x in col.summary.claims if x.id == cid), None)
        if c is None:
            continue
        for exp, values in c.metric_samples.items():
            name = col.label.replace(" / ", "\n")
            groups[name if len(c.metric_samples) == 1 else f"{name}\n{exp}"] = values
    if not groups:
        return None
    return figures.png(figures.metric_figure(groups, metric, cid))


_CSS = """body{font-family:sans-serif;margin:1.5em;max-width:1400px}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top}th{background:#f4f4f4}
.supported{color:#176317;font-weight:bold}.refuted{color:#a31515;font-weight:bold}
.line{color:#3b5f8c;font-weight:bold}.untestable{color:#5f5f5f;font-weight:bold}
.inconclusive{color:#8a6d00;font-weight:bold}td.changed{background:#ffe08a}td.drift{outline:3px solid #d9534f}
img{max-width:700px}.small{font-size:11px;color:#555}"""


# A class (and colour) per label: the report's colours, darkened for text on white.
_LABEL_CLASSES = {"SUPPORTED": "supported", "REFUTED": "refuted", "ON THE LINE": "line",
                  "NOT TESTABLE HERE": "untestable", "INCONCLUSIVE": "inconclusive"}


def _fmt(x) -> str:
    try:
        return f"{float(x):.3g}"
    except (TypeError, ValueError):
        return "—"


def render(columns: list[Column], out_dir: Path) -> Path:
    import base64

    current = [c for c in columns if c.current_rules]
    older = [c for c in columns if not c.current_rules]
    rows = matrix(current)
    esc = html.escape
    head = "".join(f"<th>{esc(c.label)}<br><span class=small>{esc(c.summary.environment.fingerprint)}</span></th>"
                   for c in current)
    body = []
    for row in rows:
        tds = []
        for cell in row.cells:
            if cell is None:
                tds.append("<td>not run</td>")
                continue
            c = cell.claim
            drifted = [d for d in cell.drift if d.drifted]
            cls = " ".join(x for x in ("changed" if cell.changed else "", "drift" if drifted else "") if x)
            title = "; ".join(d.message for d in cell.drift)
            tds.append(f'<td class="{cls}" title="{esc(title)}"><span class="{_LABEL_CLASSES.get(c.label, "")}">'
                       f'{esc(c.label)}</span><br>{esc(c.effect.name or "")}: {_fmt(c.effect.value)}'
                       f' [{_fmt(c.effect.ci_low)}, {_fmt(c.effect.ci_high)}]'
                       f'<br><span class=small>p={_fmt(c.p_value)}, {c.seeds} seeds'
                       + (f"; metric moved vs left (p={_fmt(drifted[0].p_value)})" if drifted else "")
                       + "</span></td>")
        body.append(f'<tr><th><a href="#{esc(row.id)}">{esc(row.id)}</a><br>'
                    f'<span class=small>{esc(row.section)}</span></th>{"".join(tds)}</tr>')
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
            "<p>Each cell: the claim's label in that environment, its effect with its interval, p-value and seeds. "
            "A yellow cell's label differs from its left neighbour's; a red outline means the deciding metric "
            "moved from the left neighbour beyond the drift tolerance (two-sided Mann-Whitney p &lt; 0.01 and "
            "P(superiority) outside [0.29, 0.71]); hover a cell for the numbers.</p>"
            f"<table><thead><tr><th>claim</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{apart}"
            f"<h2>Deciding metric by environment</h2>{''.join(figs)}</body></html>\n")
    out_dir = Path(out_dir)
    index = out_dir / "matrix.html"
    atomic_write_text(index, page)
    return index


def run_compare(args) -> int:
    columns = load_all(args.files)
    if not columns:
        print("compare: no usable results files", file=sys.stderr)
        return 2
    index = render(columns, args.out_dir)
    print(index)
    for row in matrix([c for c in columns if c.current_rules]):
        labels = [c.claim.label if c else "-" for c in row.cells]
        if len(set(v for v in labels if v != "-")) > 1:
            print(f"label changes across environments: {row.id}: {' | '.join(labels)}")
    return 1 if len(columns) < len(args.files) else 0
