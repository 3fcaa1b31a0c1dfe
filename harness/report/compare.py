"""``python -m harness compare A.json B.json ...``: claims x environments.

Writes ``reports/matrix.html`` (self-contained, figures embedded, from ``templates/matrix.html``, autoescaped):
a claims x environments grid that fits a 1280 px screen, each cell the claim's label as the report's colour
(:data:`harness.report.format.BADGE_CLASSES`, :data:`harness.report.figures.VERDICT_COLORS`) with its effect
written in the first cell of each Keras line and elsewhere only where it differs, every number on hover;
environments ordered Keras 2's line, then Keras 3's, each by TensorFlow version; a cell whose deciding metric
drifted from its left neighbour's (:mod:`harness.results.drift`) outlined.  Below it, every cell's numbers
(the cells that share a result on one row, a label that differs from its left neighbour's highlighted), the
cells not decided, why neighbours differ, and per claim an overlay of the deciding metric's per-seed
distribution in every environment.

``--out-dir`` is checked for writability before anything is read
(``harness.__main__``).  Bad input never stops the comparison of the rest: a
file that is unreadable, truncated, from another suite version, or a second
file of an environment already read is reported on stderr by name and left
out.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path


from harness.spec import RULES
from harness.results import Cell, ClaimResult, Difference, Neighbours, Results, drift, summaries
from harness.report.figures import LABEL_MEANINGS, VERDICT_COLORS
from harness.report.render import ENV as PAGES  # the one template environment of the pages
from harness.report.format import BADGE_CLASSES, fmt_p
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


# -- the page: data for templates/matrix.html (autoescaped; nothing here writes HTML) ----------------------



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


def _effect(c: ClaimResult) -> str:
    """The effect with its interval, as the hover and the full table give it."""
    return f"{_fmt(c.effect.value)} [{_fmt(c.effect.ci_low)}, {_fmt(c.effect.ci_high)}]"


def short_name(col: Column) -> str:
    """A column's header: TF minor and Keras family, "2.12 k2", "2.21 k3new"; for a summary file, its TF minor and
    Keras major."""
    if col.env:
        parts = col.env.split("-")
        tf = next((p[2:] for p in parts if p.startswith("tf") and p[2:].isdigit()), "")
        fam = next((p for p in parts if p.startswith("k") and p[1:2].isdigit()), "")
        if tf:
            return f"{tf[0]}.{tf[1:]} {fam}".strip()
        return col.env
    if col.summary is not None:
        env = col.summary.environment
        return f"{'.'.join(str(env.tensorflow).split('.')[:2])} k{str(env.keras).split('.')[0]}"
    return col.path


@dataclass(frozen=True)
class GridCell:
    """One claim in one column of the grid: its label as a colour class, the effect where it is written, and
    every number in ``title`` (the hover)."""

    css: str  # the label's class (format.BADGE_CLASSES), "differs" and "drift" added; "missing" without the claim
    text: str  # the effect: in the first cell of its Keras line, and where it differs from that cell's
    title: str


@dataclass(frozen=True)
class GridRow:
    id: str
    about: str  # the claim's section and what its effect measures
    cells: tuple[GridCell, ...]


def grid(columns: list[Column], rows: list[Row]) -> list[GridRow]:
    """The grid at a glance: per claim, per column, the label's colour; the effect written in the first cell of
    each Keras line (tox order) and elsewhere only where it differs from that first cell's."""
    out = []
    for row in rows:
        first: dict[str | None, str] = {}  # the line's first cell's effect, per line
        cells = []
        for col, entry in zip(columns, row.cells):
            name = short_name(col)
            if entry is None:
                cells.append(GridCell("missing", "", f"{name}: not in this summary"))
                continue
            c = entry.claim
            effect = _fmt(c.effect.value)
            anchor = col.chain not in first
            ref = first.setdefault(col.chain, effect)
            drifted = [d for d in entry.drift if d.drifted]
            css = " ".join(x for x in (BADGE_CLASSES.get(c.label, "unknown"), "" if anchor or effect == ref else
                                       "differs", "drift" if drifted else "") if x)
            title = "; ".join([f"{name} ({col.env or col.path}): {c.label}", f"effect {_effect(c)}", _p(c.p_value),
                               f"{c.seeds} seeds"] + [d.message for d in entry.drift if d.message])
            cells.append(GridCell(css, effect if anchor or effect != ref else "", title))
        out.append(GridRow(row.id, f"{row.section}: {row.effect}" if row.effect else row.section, tuple(cells)))
    return out


@dataclass(frozen=True)
class Shared:
    """One result of a claim and the cells that share it (the full table's row)."""

    cells: str  # short names, consecutive cells of a line as a range: "2.12–2.20 k2, 2.17 k3"
    envs: str  # their tox environments (or files), for the hover
    label: str
    css: str
    effect: str
    p: str
    seeds: str
    vs_left: str  # what moved against the left neighbour
    classes: str  # "changed" (label differs from the left neighbour's), "drift" (metric moved beyond tolerance)


def _ranges(columns: list[Column], idx: list[int]) -> str:
    runs: list[list[int]] = []
    for i in idx:
        if runs and runs[-1][-1] == i - 1 and short_name(columns[i]).split(" ")[-1] == \
                short_name(columns[i - 1]).split(" ")[-1]:
            runs[-1].append(i)
        else:
            runs.append([i])

    def name(run):
        a, b = short_name(columns[run[0]]), short_name(columns[run[-1]])
        return a if len(run) == 1 else f"{a.split(' ')[0]}–{b}"

    return ", ".join(name(r) for r in runs)


def full_table(columns: list[Column], rows: list[Row]) -> list[tuple[Row, list[Shared]]]:
    """Every number of every cell: per claim, one row per distinct result (label, effect with interval, p-value,
    seeds) with the cells that share it; a cell whose label or metric moved from its left neighbour's has a row
    of its own."""
    out = []
    for row in rows:
        groups: dict[tuple, list[int]] = {}
        for i, entry in enumerate(row.cells):
            if entry is None:
                key = ("missing",)
            else:
                c, drifted = entry.claim, [d for d in entry.drift if d.drifted]
                key = (c.label, _effect(c), _p(c.p_value), c.seeds, entry.changed, bool(drifted),
                       i if entry.changed or drifted else None)
            groups.setdefault(key, []).append(i)
        shared = []
        for key, idx in groups.items():
            names = ", ".join(columns[i].env or columns[i].path for i in idx)
            if key == ("missing",):
                shared.append(Shared(_ranges(columns, idx), names, "not in this summary", "missing", "", "", "",
                                     "", ""))
                continue
            entry = row.cells[idx[0]]
            c, drifted = entry.claim, [d for d in entry.drift if d.drifted]
            moved = (["label differs from the left neighbour's"] if entry.changed else []) + \
                ([f"metric moved vs left ({_p(drifted[0].p_value)})"] if drifted else [])
            shared.append(Shared(_ranges(columns, idx), names, c.label, BADGE_CLASSES.get(c.label, "unknown"),
                                 _effect(c), _p(c.p_value), str(c.seeds), "; ".join(moved),
                                 " ".join(x for x in ("changed" if entry.changed else "",
                                                      "drift" if drifted else "") if x)))
        out.append((row, shared))
    return out


def _familywise(rows: list[Row]) -> dict | None:
    n, each, family = familywise_drift(rows)
    return {"n": n, "each": len(each), "family": len(family), "alpha": drift.ALPHA} if n else None


def _not_decided(columns: list[Column], pairs: list[Neighbours]) -> list[dict]:
    """The cells without a decision: why (the first part of the reason, every failure folded under it), and
    for a failed certification, how its Keras references compare with its nearest decided cell's."""
    items = []
    for c in (c for c in columns if c.summary is None):
        head, *rest = c.reason.split(" | ")
        against = [(p.right, ", ".join(f"{len(xs)} {k}" for k, xs in (
            ("reporting", p.reporting), ("identical", p.identical), ("numerics", p.numerics),
            ("behaviour", p.behaviour)) if xs)) for p in pairs if p.left == c.env and not p.unknown]
        items.append({"name": c.env or c.path, "status": c.status, "head": head, "against": against,
                      "failures": rest})
    return items


def _names(xs) -> str:
    return f"{len(xs)}: {', '.join(xs)}" if xs else "none"


def _pairs(pairs: list[Neighbours]) -> list[dict]:
    return [{"left": p.left, "right": p.right, "unknown": p.unknown, "identical": _names(p.identical),
             "numerics": _names(p.numerics) + (f" (part at epochs {p.first_parting[0]}-{p.first_parting[1]})"
                                               if p.first_parting else ""),
             "reporting": _names(p.reporting), "behaviour": _names(p.behaviour)} for p in pairs]


def render(columns: list[Column], out_dir: Path, diffs: list[Difference] | None = None,
           pairs: list[Neighbours] | None = None) -> Path:
    import base64

    # Keras 2's line of cells, then Keras 3's (a column's neighbour is the one to its left on its line)
    columns = sorted(columns, key=lambda c: c.chain == "k3")
    current = [c for c in columns if c.current_rules]
    older = [c for c in columns if c.summary is not None and not c.current_rules]
    rows = matrix(current)
    lines = []  # the grid's header groups: (name, columns)
    for col in current:
        name = {"k2": "Keras 2", "k3": "Keras 3"}.get(col.chain, "")
        if lines and lines[-1][0] == name:
            lines[-1][1] += 1
        else:
            lines.append([name, 1])
    figs = []
    for row in rows:
        png = _overlay_png(row.id, row.metric, current)
        figs.append({"id": row.id, "metric": row.metric,
                     "src": f"data:image/png;base64,{base64.b64encode(png).decode()}" if png else None})
    page = PAGES.get_template("matrix.html").render(
        columns=[{"short": short_name(c), "label": summaries.label(c.summary), "env": c.env or c.path,
                  "fingerprint": c.summary.environment.fingerprint if c.summary else c.status} for c in current],
        lines=lines if any(name for name, _ in lines) else [],
        colours=[(cls, VERDICT_COLORS[label], label, LABEL_MEANINGS.get(label, ""))
                 for label, cls in BADGE_CLASSES.items()],
        grid=grid(current, rows), full=full_table(current, rows), familywise=_familywise(rows),
        drift_alpha=drift.ALPHA, drift_low=round(1 - drift.LARGE_EFFECT, 2), drift_high=drift.LARGE_EFFECT,
        older=[{"label": c.label, "path": c.path, "rules": c.summary.rules or "before 2026-11-28"} for c in older],
        rules=RULES, show_differences=diffs is not None, not_decided=_not_decided(columns, pairs or []),
        diffs=diffs or [], pairs=_pairs(pairs or []), figures=figs)
    index = Path(out_dir) / "matrix.html"
    atomic_write_text(index, page)
    return index


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
