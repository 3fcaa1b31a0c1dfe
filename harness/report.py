"""The evidence report: results.json, PNG figures and one self-contained HTML page.

``write_report(results, out_dir)`` writes

* ``out_dir/results.json``: the results in strict JSON (:mod:`harness.records`,
  so NaN and inf survive as the strings "NaN" / "Infinity");
* ``out_dir/figures/*.png``: learning curves and metric distributions per claim
  and the lesson's own figures, under deterministic names;
* ``out_dir/index.html``: one file with every figure embedded as a base64 data
  URI, inline CSS, no script and no external resource.

``render_from_json(path)`` re-renders the figures and index.html next to an
existing results.json.  The page is rendered from the JSON round trip of the
results in both cases, so the two give the same bytes, and the same input
always gives byte-identical files (no timestamps anywhere).

Every file goes through a temporary file and an atomic rename, so a killed run
leaves the previous file or the new one, never a torn one.
"""
from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from . import RESULTS_SCHEMA, figures, records
from .store import atomic_write_text

RESULTS_NAME = "results.json"
INDEX_NAME = "index.html"
FIGURES_DIR = "figures"
INPUT_SCALING_CLAIM = "input_scaling"

LESSON_FIGURES = ("lesson_regression_histograms.png", "lesson_circles_scatter.png",
                  "lesson_input_scaling_boxplot.png")

# ------------------------------------------------------------------ file output


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o644)  # mkstemp makes 0600; a report is for reading
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _ours(name: str) -> bool:
    """A figure name this module writes (only those are cleaned up as stale)."""
    return name.endswith(".png") and ("__curves_" in name or name.endswith("__metric.png")
                                      or name in LESSON_FIGURES)


def _safe(name: Any) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._") or "_"


# ------------------------------------------------------------------ formatting


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def fmt_num(x: Any, digits: int = 4) -> str:
    """Numbers for people: NaN / inf spelled out, None as a dash, never a crash."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float) or hasattr(x, "item"):
        try:
            v = float(x)
        except (TypeError, ValueError):
            return str(x)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v == 0:
            return "0"
        return f"{v:.{digits}g}"
    return str(x)


def fmt_p(p: Any) -> str:
    """p-values like 3.2e-05, 0.041 or 0.5."""
    if p is None or isinstance(p, bool) or not isinstance(p, (int, float)):
        return fmt_num(p)
    v = float(p)
    if not math.isfinite(v) or v == 0:
        return fmt_num(v)
    if abs(v) < 1e-3:
        return f"{v:.1e}"
    return f"{v:.3g}"


def _fmt_value(v: Any) -> str:
    if isinstance(v, (dict, list, tuple)):
        return records.dumps(v)
    return fmt_num(v)


def _fmt_seeds(seeds: Any) -> str:
    if isinstance(seeds, (list, tuple)):
        return str(len(seeds))
    return fmt_num(seeds)


def _fmt_effect(effect: Any) -> str:
    if not isinstance(effect, Mapping):
        return fmt_num(effect) if effect is not None else "—"
    name = effect.get("name")
    text = (f"{name} = " if name else "") + fmt_num(effect.get("value"))
    if effect.get("ci_low") is not None or effect.get("ci_high") is not None:
        text += f" [{fmt_num(effect.get('ci_low'))}, {fmt_num(effect.get('ci_high'))}]"
    return text


def _badge(verdict: Any) -> str:
    v = str(verdict).upper() if verdict is not None else "—"
    cls = {"SUPPORTED": "ok", "REFUTED": "bad", "INCONCLUSIVE": "warn"}.get(v, "none")
    return f'<span class="badge {cls}">{_esc(v)}</span>'


def _pass_badge(passed: Any) -> str:
    if passed is True:
        return '<span class="badge ok">PASS</span>'
    if passed is False:
        return '<span class="badge bad">FAIL</span>'
    return '<span class="badge none">—</span>'


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{_esc(alt)}" src="data:image/png;base64,{data}"></figure>'


def _table(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    """``rows`` hold already-escaped HTML cells."""
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cls_attr = f' class="{cls}"' if cls else ""
    return f"<table{cls_attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kv_table(items: list[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{v}</td></tr>" for k, v in items)
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


# ------------------------------------------------------------------ data helpers


def _floats(values: Any) -> list[float]:
    out = []
    for v in values or []:
        try:
            out.append(float(v) if v is not None else math.nan)
        except (TypeError, ValueError):
            out.append(math.nan)
    return out


def _metric_summary(values: Any) -> dict:
    vals = _floats(values)
    finite = sorted(v for v in vals if math.isfinite(v))
    ranked = sorted(v if math.isfinite(v) else math.inf for v in vals)
    return {
        "n": len(vals),
        "nan": sum(1 for v in vals if math.isnan(v)),
        "inf": sum(1 for v in vals if math.isinf(v)),
        "median_finite": float(np.median(finite)) if finite else None,
        "median_ranked": figures._quantile_inf(np.array(ranked), 0.5) if ranked else None,
        "min": finite[0] if finite else None,
        "max": finite[-1] if finite else None,
    }


def _runs_for(results: Mapping, experiment: str) -> tuple[list[dict], str | None]:
    """One engine's runs of one experiment (mixing engines would blur the curves)."""
    runs = [r for r in results.get("runs") or [] if isinstance(r, Mapping) and r.get("experiment") == experiment]
    engines = list(dict.fromkeys(r.get("engine") for r in runs))
    if len(engines) <= 1:
        return runs, engines[0] if engines else None
    exp_info = (results.get("experiments") or {}).get(experiment) or {}
    env = results.get("environment") or {}
    for preferred in (exp_info.get("engine"), env.get("engine")):
        if preferred in engines:
            return [r for r in runs if r.get("engine") == preferred], preferred
    chosen = sorted(engines, key=str)[0]
    return [r for r in runs if r.get("engine") == chosen], chosen


def _history_keys(runs: list[Mapping]) -> list[str]:
    keys = ["loss", "val_loss"]
    present = set()
    for r in runs:
        present.update((r.get("history") or {}).keys())
    if "accuracy" in present or "val_accuracy" in present:
        keys += ["accuracy", "val_accuracy"]
    return keys


# ------------------------------------------------------------------ page

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 max-width:1200px;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}
h1{border-bottom:2px solid #444;padding-bottom:.2em}
h2{border-bottom:1px solid #bbb;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0 1.2em 0;font-size:.9em}
th,td{border:1px solid #999;padding:.25em .5em;vertical-align:top;text-align:left}
thead th{background:#eee}
table.kv th{background:#f4f4f4;white-space:nowrap}
.num{white-space:nowrap;font-variant-numeric:tabular-nums}
blockquote{margin:.5em 0;padding:.4em .8em;border-left:4px solid #888;background:#f7f7f7}
figure{margin:.8em 0}
img{max-width:100%;height:auto;border:1px solid #ddd}
.badge{display:inline-block;padding:.1em .5em;border-radius:.6em;font-weight:bold;
 font-size:.85em;color:#fff;white-space:nowrap}
.badge.ok{background:#2e7d32}.badge.bad{background:#c62828}
.badge.warn{background:#f0a500;color:#222}.badge.none{background:#888}
.mismatch{color:#c62828;font-weight:bold}
.muted{color:#666}
code{background:#f2f2f2;padding:0 .2em}
"""

_HOW_TO_READ = (
    "Each row below is one sentence of the lesson, turned into a number that can be "
    "measured and a decision rule fixed before the runs, then checked over many random "
    "seeds. The verdict is SUPPORTED when the rule holds with statistical confidence, "
    "REFUTED when the data contradict it with confidence, and INCONCLUSIVE when the seeds "
    "run so far cannot tell (the claim's section then says roughly how many seeds would). "
    "p-values are per claim; the Holm column adjusts them for testing every claim of the "
    "suite together. Effect intervals are two-sided at 1 - alpha (99% unless the claim "
    "says otherwise). A diverged run (NaN or infinite loss) is never dropped: it is "
    "counted, or ranked as the worst possible value, and the figures say how many seeds "
    "were non-finite. The expected verdict is what the suite's authors predicted; a "
    "mismatch is marked in red."
)


class _Renderer:
    def __init__(self, results: Mapping):
        self.results = results
        self.figures: dict[str, bytes] = {}  # file name -> PNG, in render order
        self._curves_cache: dict[str, tuple[bytes | None, str | None, int]] = {}

    def add_figure(self, name: str, png: bytes) -> str:
        self.figures[name] = png
        return name

    # -- claims ------------------------------------------------------------
    def claims(self) -> list[tuple[str, Mapping]]:
        out, seen = [], set()
        for i, claim in enumerate(self.results.get("claims") or []):
            if not isinstance(claim, Mapping):
                continue
            cid = str(claim.get("id") or f"claim-{i + 1}")
            anchor, k = cid, 2
            while anchor in seen:
                anchor, k = f"{cid}-{k}", k + 1
            seen.add(anchor)
            out.append((anchor, claim))
        return out

    def summary_table(self, claims) -> str:
        header = ["claim id", "section", "quote", "verdict", "expected verdict", "test",
                  "statistic", "p-value", "p (Holm, suite)", "effect [interval]", "seeds"]
        rows = []
        for anchor, c in claims:
            expected = c.get("expected_verdict")
            mismatch = expected is not None and c.get("verdict") is not None and \
                str(expected).upper() != str(c.get("verdict")).upper()
            exp_cell = _esc(expected if expected is not None else "—")
            if mismatch:
                exp_cell = f'<span class="mismatch" title="verdict differs from the expected one">{exp_cell} ≠</span>'
            rows.append([
                f'<a href="#{_esc(anchor)}">{_esc(c.get("id", anchor))}</a>',
                _esc(c.get("section", "—")),
                _esc(c.get("quote", "—")),
                _badge(c.get("verdict")),
                exp_cell,
                _esc(c.get("test", "—")),
                _esc(fmt_num(c.get("statistic"))),
                _esc(fmt_p(c.get("p_value"))),
                _esc(fmt_p(c.get("p_holm_suite"))),
                _esc(_fmt_effect(c.get("effect"))),
                _esc(_fmt_seeds(c.get("seeds"))),
            ])
        if not rows:
            return '<p class="muted">No claims in this results file.</p>'
        return _table(header, rows, "summary")

    def curves(self, experiment: str) -> tuple[bytes | None, str | None, int]:
        if experiment not in self._curves_cache:
            runs, engine = _runs_for(self.results, experiment)
            if runs:
                title = f"{experiment}" + (f" ({engine} engine)" if engine else "") + f", {len(runs)} seeds"
                png = figures.learning_curves(runs, _history_keys(runs), title)
            else:
                png = None
            self._curves_cache[experiment] = (png, engine, len(runs))
        return self._curves_cache[experiment]

    def claim_section(self, anchor: str, c: Mapping) -> str:
        cid = str(c.get("id", anchor))
        parts = [f'<section id="{_esc(anchor)}">',
                 f"<h3>{_esc(cid)}{(': ' + _esc(c['title'])) if c.get('title') else ''} {_badge(c.get('verdict'))}</h3>"]
        if c.get("quote"):
            parts.append(f"<blockquote>{_esc(c['quote'])}</blockquote>")
        items = [
            ("section", _esc(c.get("section", "—"))),
            ("interpretation", _esc(c.get("interpretation", "—"))),
            ("decision rule", _esc(c.get("rule", "—"))),
            ("verdict", _badge(c.get("verdict"))),
            ("expected verdict", _esc(c.get("expected_verdict", "—"))),
            ("test", _esc(c.get("test", "—"))),
            ("statistic", _esc(fmt_num(c.get("statistic")))),
            ("p-value", _esc(fmt_p(c.get("p_value")))
             + f' <span class="muted">(Holm across the suite: {_esc(fmt_p(c.get("p_holm_suite")))};'
             f' alpha = {_esc(fmt_num(c.get("alpha")))})</span>'),
            ("effect [interval]", _esc(_fmt_effect(c.get("effect")))),
            ("seeds", _esc(_fmt_seeds(c.get("seeds")))),
            ("detail", _esc(c.get("detail", "—"))),
        ]
        if str(c.get("verdict", "")).upper() == "INCONCLUSIVE":
            needed = c.get("seeds_needed")
            items.append(("seeds needed", _esc(fmt_num(needed)) if needed is not None
                          else '<span class="muted">not estimated</span>'))
        parts.append(_kv_table(items))

        metric = str(c.get("metric") or "metric")
        metric_values = c.get("metric_values") or {}
        if isinstance(metric_values, Mapping) and metric_values:
            rows = []
            for exp, vals in metric_values.items():
                s = _metric_summary(vals)
                rows.append([_esc(exp)] + [f'<span class="num">{_esc(fmt_num(v))}</span>' for v in (
                    s["n"], s["nan"] + s["inf"], s["median_finite"], s["median_ranked"], s["min"], s["max"])])
            parts.append(f"<h4>Deciding metric: <code>{_esc(metric)}</code></h4>")
            parts.append(_table(["experiment", "n", "non-finite", "median (finite values)",
                                 "median (non-finite ranked as +inf)", "min (finite)", "max (finite)"], rows))
            name = self.add_figure(f"{_safe(cid)}__metric.png", figures.metric_distribution(
                {str(k): _floats(v) for k, v in metric_values.items()}, metric, f"{cid}: {metric} per seed"))
            parts.append(_img(self.figures[name], f"{cid}: distribution of {metric}"))

        exps = c.get("experiments")
        if not exps and isinstance(metric_values, Mapping):
            exps = list(metric_values)
        for exp in exps or []:
            exp = str(exp)
            info = (self.results.get("experiments") or {}).get(exp) or {}
            desc = " — ".join(str(x) for x in (info.get("section"), info.get("description")) if x)
            parts.append(f"<h4>Learning curves: <code>{_esc(exp)}</code>"
                         + (f' <span class="muted">{_esc(desc)}</span>' if desc else "") + "</h4>")
            png, _engine, n = self.curves(exp)
            if png is None:
                parts.append('<p class="muted">No runs of this experiment in the results file.</p>')
                continue
            name = self.add_figure(f"{_safe(cid)}__curves_{_safe(exp)}.png", png)
            parts.append(_img(png, f"{cid}: learning curves of {exp} over {n} seeds"))
        parts.append("</section>")
        return "\n".join(parts)

    # -- the rest ----------------------------------------------------------
    def lesson_figures(self, claims) -> str:
        parts = ["<h2 id=\"lesson-figures\">The lesson's own figures</h2>",
                 "<p>Redrawn from the lesson's code, to compare with the figures it describes.</p>",
                 "<h3>2.1.2: histograms of the regression inputs and target</h3>"]
        png = self.add_figure(LESSON_FIGURES[0], figures.regression_histograms())
        parts.append(_img(self.figures[png], "histograms of feature 0, feature 1 and the target"))
        parts.append("<h3>2.2.3: the circles dataset, colored by class</h3>")
        png = self.add_figure(LESSON_FIGURES[1], figures.circles_scatter())
        parts.append(_img(self.figures[png], "scatter of make_circles colored by class"))
        parts.append("<h3>2.1.2.3: test MSE by input scaling</h3>")
        values = next((c.get("metric_values") for _, c in claims if c.get("id") == INPUT_SCALING_CLAIM), None)
        if isinstance(values, Mapping) and values:
            png = self.add_figure(LESSON_FIGURES[2], figures.input_scaling_boxplot(
                {str(k): _floats(v) for k, v in values.items()}))
            parts.append(_img(self.figures[png], "box plot of test MSE by input scaling"))
        else:
            parts.append(f'<p class="muted">No claim <code>{_esc(INPUT_SCALING_CLAIM)}</code> with metric values '
                         "in this results file.</p>")
        return "\n".join(parts)

    def equivalence(self) -> str:
        parts = ['<h2 id="equivalence">Engine equivalence</h2>']
        rows_in = [e for e in self.results.get("equivalence") or [] if isinstance(e, Mapping)]
        if not rows_in:
            parts.append('<p class="muted">No engine equivalence checks in this results file.</p>')
            return "\n".join(parts)
        parts.append("<p>The batched runs this report is decided on, against the certificate's Keras references "
                     "(trajectory: per epoch, seed by seed; distribution: the claim's deciding metric and per-seed "
                     "outcomes over all seeds).</p>")
        rows = [[_esc(e.get("experiment", "—")), _esc(e.get("claim") or "—"), _esc(e.get("level", "—")),
                 _pass_badge(e.get("passed")), _esc(e.get("detail", ""))] for e in rows_in]
        parts.append(_table(["configuration", "claim", "level", "result", "detail"], rows))
        return "\n".join(parts)

    def certificate(self) -> str:
        cert = self.results.get("certificate")
        parts = ['<h2 id="certificate">Engine certificate</h2>']
        if not isinstance(cert, Mapping):
            parts.append('<p class="muted">No certificate in this results file (the literal Keras engine '
                         "needs none).</p>")
            return "\n".join(parts) + self.mutants()
        plan = cert.get("plan") or {}
        traj = plan.get("trajectory") or {}
        cost = cert.get("cost") or {}
        indep = cert.get("seed_independence") or {}
        checks = [c for c in cert.get("checks") or [] if isinstance(c, Mapping)]
        shorter = ", ".join(f"{k} {v}" for k, v in (traj.get("epochs_by_experiment") or {}).items()) or "none"
        items = [
            ("file", _esc(cert.get("path"))), ("created", _esc(cert.get("created"))),
            ("certifies the Keras engine's code", f"<code>{_esc(str(cert.get('code_digest'))[:16])}</code>"),
            ("Keras references", _esc(f"{len(cert.get('seeds') or [])} full-length seeds per configuration")),
            ("trajectory check", _esc(f"seeds {traj.get('seeds')}, epochs 1-{traj.get('epochs')} (shorter: "
                                      f"{shorter}), every History key, relative tolerance {traj.get('rtol')} "
                                      "(accuracy: one sample)")),
            ("distribution checks", _esc(
                f"{plan.get('tests')} tests at alpha {_fmt_value(plan.get('check_alpha'))} each (family alpha "
                f"{plan.get('family_alpha')}, Bonferroni); with {plan.get('keras_seeds')} Keras vs "
                f"{plan.get('batched_seeds')} batched seeds a Mann-Whitney check detects (80% power) "
                f"P(superiority) >= {_fmt_value(plan.get('detectable_superiority'))}, a Fisher check a rate "
                f"difference >= {_fmt_value(plan.get('detectable_rate_difference'))}; smallest possible p "
                f"{_fmt_value(plan.get('smallest_mann_whitney_p'))}")),
            ("at certification", _esc(f"{sum(bool(c.get('passed')) for c in checks)}/{len(checks)} checks "
                                      "of the batched engine passed")),
            ("seed independence", _esc(_independence_text(indep))),
            ("cost", _esc(f"{(cost.get('keras_core_seconds') or 0) / 60:.0f} core-minutes of Keras training, "
                          f"paid once; certify took {(cost.get('certify_wall_seconds') or 0) / 60:.0f} min")),
        ]
        parts.append("<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items) + "</dl>")
        return "\n".join(parts) + self.mutants()

    def mutants(self) -> str:
        data = self.results.get("mutants")
        if not isinstance(data, Mapping):
            return ('\n<h3 id="mutants">Mutants</h3><p class="muted">No mutants table for this environment: '
                    "<code>python -m harness mutants</code> writes one.</p>")
        rows_in = [m for m in data.get("mutants") or [] if isinstance(m, Mapping)]
        killed = sum(bool(m.get("killed")) for m in rows_in)
        rows = [[_esc(m.get("mutant")), _esc(m.get("description")),
                 "killed" if m.get("killed") else '<strong>SURVIVED</strong>',
                 _esc(m.get("check") or "—"), _esc(m.get("configuration") or "—"),
                 _esc(m.get("epoch") if m.get("epoch") is not None else "—"), _esc(m.get("detail"))]
                for m in rows_in]
        return ("\n".join(['\n<h3 id="mutants">Mutants</h3>',
                           "<p>Each mutant gets one thing of Keras' semantics wrong; the checks above must kill "
                           f"it. killed: {killed}, survived: {len(rows_in) - killed}.</p>",
                           _table(["mutant", "what it gets wrong", "killed", "check", "configuration", "epoch",
                                   "detail"], rows)]))

    def drift(self) -> str:
        rows_in = [d for d in self.results.get("drift") or [] if isinstance(d, Mapping)]
        if not rows_in:
            return ""  # no --baseline in this run
        parts = ['<h2 id="drift">Regression check against the baseline</h2>',
                 "<p>Per claim and experiment: the deciding metric now against the baseline's (two-sided "
                 "Mann-Whitney). It fails on a changed verdict, or on p &lt; 0.01 with P(now &gt; baseline) "
                 "outside [0.29, 0.71].</p>"]
        rows = [[_esc(d.get("claim", "—")), _esc(d.get("experiment") or "—"),
                 _pass_badge(not d.get("drifted")), _esc(d.get("message", ""))] for d in rows_in]
        parts.append(_table(["claim", "experiment", "check", "detail"], rows))
        return "\n".join(parts)

    def environment(self) -> str:
        env = self.results.get("environment") or {}
        parts = ['<h2 id="environment">Environment</h2>']
        items = [("schema", _esc(self.results.get("schema", "—"))),
                 ("suite version", _esc(self.results.get("suite_version", "—")))]
        if isinstance(env, Mapping):
            items += [(str(k), _esc(_fmt_value(v))) for k, v in env.items()]
        parts.append(_kv_table(items))
        return "\n".join(parts)

    def wall_time(self) -> str:
        exps = self.results.get("experiments") or {}
        parts = ['<h2 id="wall-time">Wall time per experiment</h2>']
        if not isinstance(exps, Mapping) or not exps:
            parts.append('<p class="muted">No experiments in this results file.</p>')
            return "\n".join(parts)
        rows, total = [], 0.0
        for name, info in exps.items():
            info = info if isinstance(info, Mapping) else {}
            wall = info.get("wall_seconds")
            if isinstance(wall, (int, float)) and not isinstance(wall, bool) and math.isfinite(wall):
                total += float(wall)
            rows.append([_esc(name), _esc(info.get("section", "—")), _esc(info.get("description", "—")),
                         _esc(info.get("engine", "—")), _esc(_fmt_seeds(info.get("seeds"))),
                         f'<span class="num">{_esc(fmt_num(wall))}</span>',
                         f"<code>{_esc(info.get('fingerprint', '—'))}</code>"])
        rows.append(["<b>total</b>", "", "", "", "", f'<span class="num"><b>{_esc(fmt_num(total))}</b></span>', ""])
        parts.append(_table(["experiment", "section", "description", "engine", "seeds",
                             "wall seconds", "fingerprint"], rows))
        return "\n".join(parts)

    def notes(self) -> str:
        notes = self.results.get("notes") or []
        if not isinstance(notes, list):
            notes = [notes]
        parts = ['<h2 id="notes">Notes</h2>']
        if notes:
            parts.append("<ul>" + "".join(f"<li>{_esc(_fmt_value(n) if not isinstance(n, str) else n)}</li>"
                                          for n in notes) + "</ul>")
        else:
            parts.append('<p class="muted">None.</p>')
        return "\n".join(parts)

    def page(self) -> str:
        claims = self.claims()
        counts: dict[str, int] = {}
        for _, c in claims:
            v = str(c.get("verdict", "—")).upper()
            counts[v] = counts.get(v, 0) + 1
        count_text = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no claims"
        body = [
            "<h1>lesson-claims evidence report</h1>",
            "<h2 id=\"how-to-read\">How to read this</h2>",
            f"<p>{_esc(_HOW_TO_READ)}</p>",
            "<h2 id=\"summary\">Summary</h2>",
            f"<p>{len(claims)} claims ({_esc(count_text)}).</p>",
            self.summary_table(claims),
            "<h2 id=\"claims\">Claims</h2>",
        ]
        body += [self.claim_section(anchor, c) for anchor, c in claims]
        body += [self.lesson_figures(claims), self.certificate(), self.equivalence(), self.drift(), self.environment(),
                 self.wall_time(), self.notes()]
        return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<title>lesson-claims evidence report</title>\n"
                f"<style>{_CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")


def _render(results: Mapping, out_dir: Path) -> Path:
    renderer = _Renderer(results)
    page = renderer.page()
    fig_dir = out_dir / FIGURES_DIR
    for name, png in renderer.figures.items():
        atomic_write_bytes(fig_dir / name, png)
    if fig_dir.is_dir():  # figures of claims no longer in the results would mislead
        for old in sorted(fig_dir.iterdir()):
            if old.is_file() and _ours(old.name) and old.name not in renderer.figures:
                old.unlink()
    index = out_dir / INDEX_NAME
    atomic_write_text(index, page)
    return index


# ------------------------------------------------------------------ public API


def write_report(results: dict, out_dir: Path) -> Path:
    """Write results.json, figures/*.png and index.html into ``out_dir``; return the index path."""
    out_dir = Path(out_dir)
    text = records.dumps(results, indent=1) + "\n"
    atomic_write_text(out_dir / RESULTS_NAME, text)
    # Render what was written, so a later render_from_json gives the same bytes.
    return _render(records.loads(text), out_dir)


def load_results(path: Path) -> dict:
    """Read a results file, or raise ValueError naming it if it is not one."""
    path = Path(path)
    results = records.read_schema_file(path)
    if results["schema"] != RESULTS_SCHEMA:
        raise ValueError(f"{path}: results schema {results['schema']!r} is not {RESULTS_SCHEMA!r}")
    return results


def _independence_text(indep: Mapping) -> str:
    """One sentence: does a seed's run depend on the other seeds of its batch, and does it matter."""
    if not indep:
        return "not measured"
    rows = indep.get("by_experiment") or {}
    sizes = " or ".join(str(n) for n in indep.get("batch_sizes") or [])
    if indep.get("bit_identical_everywhere"):
        text = f"every seed's run is bit-identical whether trained among 30 seeds or among {sizes}"
    else:
        worst = max(((r.get("max_rel_diff") or 0, n) for n, row in rows.items() for r in row.values()),
                    default=(0, "-"))
        same = [n for n, row in rows.items() if all(r.get("bit_identical") for r in row.values())]
        text = (f"bit-identical among 30 and among {sizes} seeds on {len(same)} of {len(rows)} configurations; "
                f"elsewhere the largest relative difference of any value is {worst[0]:.2g} ({worst[1]}), "
                "the ulps batched kernels of other sizes give, which chaotic training can amplify over 500 epochs")
    verdicts = indep.get("verdicts_on_seeds_0_29") or {}
    if verdicts:
        changed = [c for c, v in verdicts.items() if not v.get("same")]
        text += (f"; the verdicts of {len(verdicts)} claims on seeds 0-29 are "
                 + ("the same in both batches" if not changed else f"DIFFERENT for {', '.join(changed)}"))
    return text


def render_from_json(path: Path) -> Path:
    """Re-render index.html and figures/ next to a results.json; return the index path."""
    from .merge import load_mutants

    path = Path(path)
    results = load_results(path)
    # a mutants table written since the run (python -m harness mutants) joins the page
    fingerprint = (results.get("environment") or {}).get("fingerprint")
    results["mutants"] = load_mutants(path.parent / "mutants.json", fingerprint) or results.get("mutants")
    return _render(results, path.parent)
