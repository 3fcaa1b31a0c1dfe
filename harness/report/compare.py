"""``python -m harness compare A.json B.json ...``: claims x environments.

Writes ``reports/matrix.html`` (self-contained, figures embedded) and
``reports/matrix.json``: each cell is a claim's verdict and effect size in one
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
from pathlib import Path

from harness.results import baseline, drift
from harness.training import records
from harness.storage.store import atomic_write_text


def load_all(paths, warn=lambda msg: print(msg, file=sys.stderr)) -> list[dict]:
    summaries, seen = [], {}
    for p in paths:
        try:
            s = baseline.load(p)
        except baseline.SummaryError as exc:
            warn(f"skipped {exc}")
            continue
        fp = s["environment"]["fingerprint"]
        if fp in seen:
            warn(f"skipped {p}: same environment ({fp}) as {seen[fp]}; give one file per environment")
            continue
        seen[fp] = str(p)
        summaries.append(s)
    return sorted(summaries, key=baseline.sort_key)


def _label(c: dict) -> str:
    """The reader's label (harness.claims.label); a summary without ``at_threshold``/``untestable`` gives
    its verdict."""
    from harness.claims import label

    return label(c["verdict"], bool(c.get("at_threshold")), c.get("untestable"))


def matrix(summaries: list[dict]) -> dict:
    """{"environments": [...], "claims": [{"id", "section", "metric", "cells": [...]}]}."""
    order: dict[str, tuple] = {}
    for s in summaries:
        for c in s["claims"]:
            order.setdefault(c["id"], (c.get("section") or "", c["id"]))
    rows = []
    for cid in sorted(order, key=order.get):
        cells, prev = [], None
        metric = None
        for s in summaries:
            c = next((x for x in s["claims"] if x["id"] == cid), None)
            if c is None:
                cells.append(None)
                continue
            metric = metric or c.get("metric")
            cell = {"verdict": c["verdict"], "label": _label(c), "effect": c.get("effect"),
                    "p_value": c.get("p_value"), "seeds": c.get("seeds"), "changed": False, "drift": []}
            if prev is not None:
                cell["changed"] = _label(prev) != cell["label"]
                for exp, values in c["metric_samples"].items():
                    base = prev["metric_samples"].get(exp)
                    if base:
                        cell["drift"].append(drift.check(cid, exp, c.get("metric") or "", base, values).to_dict())
            cells.append(cell)
            prev = c
        rows.append({"id": cid, "section": order[cid][0], "metric": metric, "cells": cells})
    envs = [{"label": baseline.label(s), "path": s["path"], **s["environment"]} for s in summaries]
    return {"environments": envs, "claims": rows}


def _overlay_png(cid: str, metric: str, summaries: list[dict]) -> bytes | None:
    from harness.report import figures

    groups = {}
    for s in summaries:
        c = next((x for x in s["claims"] if x["id"] == cid), None)
        if c is None:
            continue
        for exp, values in c["metric_samples"].items():
            name = baseline.label(s).replace(" / ", "\n")
            groups[name if len(c["metric_samples"]) == 1 else f"{name}\n{exp}"] = values
    if not groups:
        return None
    if hasattr(figures, "metric_figure"):  # figures returns a Figure; png() makes it bytes
        return figures.png(figures.metric_figure(groups, metric, cid))
    return figures.metric_distribution(groups, metric, cid)


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


def render(summaries: list[dict], out_dir: Path) -> Path:
    import base64

    m = matrix(summaries)
    esc = html.escape
    head = "".join(f"<th>{esc(e['label'])}<br><span class=small>{esc(e['fingerprint'])}</span></th>"
                   for e in m["environments"])
    body = []
    for row in m["claims"]:
        tds = []
        for cell in row["cells"]:
            if cell is None:
                tds.append("<td>not run</td>")
                continue
            drifted = [d for d in cell["drift"] if d["drifted"]]
            cls = " ".join(x for x in ("changed" if cell["changed"] else "", "drift" if drifted else "") if x)
            eff = cell.get("effect") or {}
            title = "; ".join(d["message"] for d in cell["drift"])
            tds.append(f'<td class="{cls}" title="{esc(title)}"><span class="{_LABEL_CLASSES.get(cell["label"], "")}">'
                       f'{esc(cell["label"])}</span><br>{esc(str(eff.get("name", "")))}: {_fmt(eff.get("value"))}'
                       f'<br><span class=small>p={_fmt(cell.get("p_value"))}, {cell.get("seeds")} seeds'
                       + (f"; metric moved vs left (p={_fmt(drifted[0]['p_value'])})" if drifted else "")
                       + "</span></td>")
        body.append(f'<tr><th><a href="#{esc(row["id"])}">{esc(row["id"])}</a><br>'
                    f'<span class=small>{esc(row["section"])}</span></th>{"".join(tds)}</tr>')
    figs = []
    for row in m["claims"]:
        png = _overlay_png(row["id"], row["metric"] or "", summaries)
        img = (f'<img alt="{esc(row["id"])}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
               if png else "")
        figs.append(f'<h3 id="{esc(row["id"])}">{esc(row["id"])}</h3><p>{esc(row["metric"] or "")} per seed, '
                    f"by environment</p>{img}")
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lesson-claims: claims x "
            f"environments</title><style>{_CSS}</style></head><body><h1>Claims across environments</h1>"
            "<p>Each cell: the claim's label in that environment, its effect size and p-value. A yellow cell's "
            "label differs from its left neighbour's; a red outline means the deciding metric moved from the "
            "left neighbour beyond the drift tolerance (two-sided Mann-Whitney p &lt; 0.01 and P(superiority) "
            "outside [0.29, 0.71]); hover a cell for the numbers.</p>"
            f"<table><thead><tr><th>claim</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<h2>Deciding metric by environment</h2>{''.join(figs)}</body></html>\n")
    out_dir = Path(out_dir)
    atomic_write_text(out_dir / "matrix.json", records.dumps(m, indent=1) + "\n")
    index = out_dir / "matrix.html"
    atomic_write_text(index, page)
    return index


def run_compare(args) -> int:
    summaries = load_all(args.files)
    if not summaries:
        print("compare: no usable results files", file=sys.stderr)
        return 2
    index = render(summaries, args.out_dir)
    print(index)
    for row in matrix(summaries)["claims"]:
        verdicts = [c["verdict"] if c else "-" for c in row["cells"]]
        if len(set(v for v in verdicts if v != "-")) > 1:
            print(f"verdict changes across environments: {row['id']}: {' | '.join(verdicts)}")
    return 1 if len(summaries) < len(args.files) else 0
