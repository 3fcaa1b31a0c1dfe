"""The evidence report: results.json, its runs sidecar, PNG figures and one self-contained HTML page.

``write_report(results, out_dir)`` writes

* ``out_dir/runs.json.gz``: every run's per-epoch history (``results["runs"]``),
  gzip-compressed strict JSON, the sidecar that keeps results.json small;
* ``out_dir/results.json``: the results in strict JSON (:mod:`harness.training.records`,
  so NaN and inf survive as the strings "NaN" / "Infinity"), without the runs
  but with ``runs_file`` naming the sidecar and its digest;
* ``out_dir/figures/*.png``: the forest plot of every claim's effect, per claim
  the deciding metric's per-seed values and the learning curves, and the
  lesson's own figures, under deterministic names;
* ``out_dir/index.html``: one file with every figure embedded as a base64 data
  URI, inline CSS, no script and no external resource.

``render_from_json(path)`` re-renders the figures and index.html from an
existing results.json and its sidecar (an older results.json that still holds
its runs inline works too).  The page is rendered from the JSON round trip of
the results in both cases, so the two give the same bytes, and the same input
always gives byte-identical files (no timestamps anywhere).

Every file goes through a temporary file and an atomic rename, so a killed run
leaves the previous file or the new one, never a torn one.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import html
import math
import os
import re
import tempfile
import types
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from harness.report import figures
from harness.training import records
from harness.version import RESULTS_SCHEMA
from harness.claims import LABELS, NOT_TESTABLE, ON_THE_LINE, label
from harness.results import sentence_label
from harness.storage.store import atomic_write_text

RESULTS_NAME = "results.json"
RUNS_NAME = "runs.json.gz"
INDEX_NAME = "index.html"
FIGURES_DIR = "figures"
FOREST_FIGURE = "summary__forest.png"
# The claims whose per-seed test MSE the lesson's 2.1.2.3 box plot shows (the first one found is drawn).
INPUT_SCALING_CLAIMS = ("input_scaling_normalized_better", "input_scaling_normalized_tighter")

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
                                      or name in LESSON_FIGURES or name == FOREST_FIGURE)


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


# Below this a p-value is shown as a bound: every alpha of the design is far above it, and the far tail of
# a t (or normal) approximation at a few dozen seeds is not accurate to such digits.
P_FLOOR = 1e-6


def fmt_p(p: Any) -> str:
    """p-values like 3.2e-05, 0.041 or 0.5; below 1e-6 "< 1e-6"."""
    if p is None or isinstance(p, bool) or not isinstance(p, (int, float)):
        return fmt_num(p)
    v = float(p)
    if not math.isfinite(v) or v == 0:
        return fmt_num(v)
    if v < P_FLOOR:
        return "< 1e-6"
    if abs(v) < 1e-3:
        return f"{v:.1e}"
    return f"{v:.3g}"


def fmt_seconds(s: Any) -> str:
    if not isinstance(s, (int, float)) or isinstance(s, bool) or not math.isfinite(s):
        return "—"
    if s < 1:
        return "<1 s"
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def _fmt_value(v: Any) -> str:
    if isinstance(v, (dict, list, tuple)):
        return records.dumps(v)
    return fmt_num(v)


def _fmt_seeds(seeds: Any) -> str:
    if isinstance(seeds, (list, tuple)):
        return str(len(seeds))
    return fmt_num(seeds)


def _fmt_effect(effect: Any, digits: int = 3, absolute: bool = False) -> str:
    """``name = value [low, high] vs threshold t (zone [a, b])`` from whatever the effect holds;
    ``absolute``: the threshold and zone apply to |effect| (:func:`zone_on_abs`)."""
    if not isinstance(effect, Mapping):
        return fmt_num(effect) if effect is not None else "—"
    name = effect.get("name")
    text = (f"{name} = " if name else "") + fmt_num(effect.get("value"), digits)
    if effect.get("ci_low") is not None or effect.get("ci_high") is not None:
        text += f" [{fmt_num(effect.get('ci_low'), digits)}, {fmt_num(effect.get('ci_high'), digits)}]"
    if effect.get("threshold") is not None:
        text += f" vs {'±' if absolute else ''}{fmt_num(effect.get('threshold'), digits)}"
    if _zone(effect):
        text += f" ({_zone_text(effect, digits, absolute)})"
    return text


def _zone(effect: Any) -> tuple[Any, Any] | None:
    zone = effect.get("zone") if isinstance(effect, Mapping) else None
    return tuple(zone) if isinstance(zone, (list, tuple)) and len(zone) == 2 else None


def _zone_text(effect: Mapping, digits: int = 3, absolute: bool = False) -> str:
    zone = _zone(effect)
    if zone is None:
        return "no zone"
    return f"zone{' on |effect|' if absolute else ''} [{fmt_num(zone[0], digits)}, {fmt_num(zone[1], digits)}]"


def zone_on_abs(c: Mapping) -> bool:
    """The claim's threshold and zone apply to |effect|: the rules decided by TOST (two one-sided tests,
    equivalence and mean in a band) test a signed effect's distance from 0 (``effect.absolute``)."""
    effect = c.get("effect") if isinstance(c.get("effect"), Mapping) else {}
    if "absolute" in effect:
        return bool(effect["absolute"]) and _zone(effect) is not None
    # Files from before the flag: the rules decided by TOST were the ones on |effect|.
    return "TOST" in str(c.get("test") or "") and _zone(effect) is not None


# Badge classes per label; their colours are the figures' (figures.VERDICT_COLORS).
_BADGE_CLASSES = {"SUPPORTED": "ok", "REFUTED": "bad", ON_THE_LINE: "line", NOT_TESTABLE: "untestable",
                  "INCONCLUSIVE": "warn"}


def _badge(verdict: Any) -> str:
    """A verdict or label (harness.claims.LABELS) as a coloured badge."""
    v = str(verdict).upper() if verdict is not None else "—"
    cls = _BADGE_CLASSES.get(v, "none")
    return f'<span class="badge {cls}">{_esc(v)}</span>'


def _pass_badge(passed: Any) -> str:
    if passed is True:
        return '<span class="badge ok">PASS</span>'
    if passed is False:
        return '<span class="badge bad">FAIL</span>'
    return '<span class="badge none">—</span>'


def _img(png: bytes, alt: str, name: str = "") -> str:
    data = base64.b64encode(png).decode("ascii")
    attr = f' data-figure="{_esc(name)}"' if name else ""
    return f'<figure><img alt="{_esc(alt)}"{attr} src="data:image/png;base64,{data}"></figure>'


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


def claim_samples(claim: Mapping) -> dict[str, list[float]]:
    """The deciding metric's real per-seed values: ``metric_samples``, never the
    rule's 0/1 hits (``metric_values`` of older results files held those)."""
    samples = claim.get("metric_samples")
    if isinstance(samples, Mapping):
        return {str(k): _floats(v) for k, v in samples.items()}
    return {}


def claim_outcomes(claim: Mapping) -> dict[str, list[bool]] | None:
    """Per experiment, did each seed meet the rule's per-seed condition (None: the rule counts none).

    Older results files carry no ``outcomes``; there a rate rule's ``metric_values``
    were exactly those 0/1 hits, so they are read as outcomes (and only as that)."""
    outcomes = claim.get("outcomes")
    if isinstance(outcomes, Mapping):
        return {str(k): [bool(x) for x in v] for k, v in outcomes.items() if isinstance(v, list)} or None
    legacy = claim.get("metric_values")
    if "outcomes" not in claim and claim.get("test") == "exact binomial" and isinstance(legacy, Mapping):
        if all(isinstance(v, list) and all(x in (0, 1) for x in v) for v in legacy.values()):
            return {str(k): [bool(x) for x in v] for k, v in legacy.items()}
    return None


def effect_threshold(claim: Mapping) -> float | None:
    """What the effect is compared with: ``effect.threshold``; for an older results
    file, the p0 of a rate rule's detail or 0.5 for P(superiority)."""
    effect = claim.get("effect") if isinstance(claim.get("effect"), Mapping) else {}
    if "threshold" in effect:
        t = effect.get("threshold")
        return float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) else None
    name = str(effect.get("name") or "")
    if name.startswith("P("):
        return 0.5
    m = re.search(r"claimed rate [<>] ([0-9.]+)", str(claim.get("detail") or ""))
    return float(m.group(1)) if m else None


def _runs_for(runs: list, results: Mapping, experiment: str) -> tuple[list[dict], str | None]:
    """One engine's runs of one experiment, by seed (mixing engines would blur the curves)."""
    mine = [r for r in runs if isinstance(r, Mapping) and r.get("experiment") == experiment]
    engines = list(dict.fromkeys(r.get("engine") for r in mine))
    chosen = engines[0] if engines else None
    if len(engines) > 1:
        exp_info = (results.get("experiments") or {}).get(experiment) or {}
        env = results.get("environment") or {}
        chosen = next((p for p in (exp_info.get("engine"), env.get("engine")) if p in engines),
                      sorted(engines, key=str)[0])
        mine = [r for r in mine if r.get("engine") == chosen]
    return sorted(mine, key=lambda r: (r.get("seed") is None, r.get("seed") or 0)), chosen


# ------------------------------------------------------------------ page

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 max-width:1200px;margin:1.2em auto;padding:0 1em;line-height:1.4;color:#222}
h1{border-bottom:2px solid #444;padding-bottom:.2em;margin-bottom:.3em}
h2{border-bottom:1px solid #bbb;margin-top:1.8em}
h3{margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0 1.2em 0;font-size:.9em;max-width:100%}
th,td{border:1px solid #999;padding:.25em .45em;vertical-align:top;text-align:left;overflow-wrap:anywhere}
thead th{background:#eee}
table.summary{table-layout:fixed;width:100%;font-size:.86em}
table.summary td{line-height:1.3}
table.kv{width:100%}
table.kv th{background:#f4f4f4;width:11em}
.num{white-space:nowrap;font-variant-numeric:tabular-nums}
blockquote{margin:.5em 0;padding:.4em .8em;border-left:4px solid #888;background:#f7f7f7}
figure{margin:.6em 0}
img{max-width:100%;height:auto;border:1px solid #ddd}
.badge{display:inline-block;padding:.1em .5em;border-radius:.6em;font-weight:bold;
 font-size:.85em;color:#fff;white-space:nowrap}
.badge.warn{color:#111}.badge.none{background:#888}
.badge.amend{background:#6a1b9a}
.tag{display:inline-block;padding:0 .35em;border:1px solid #999;border-radius:.3em;font-size:.8em;color:#444;
 background:#fafafa;max-width:100%}
.mismatch{color:#c62828;font-weight:bold}
.muted{color:#666}
.small{font-size:.85em}
.amendment{border-left:4px solid #6a1b9a;background:#f6f0fa;padding:.3em .7em;margin:.3em 0}
code{background:#f2f2f2;padding:0 .2em;overflow-wrap:anywhere}
dd{overflow-wrap:anywhere}
""" + "".join(f".badge.{cls}{{background:{figures.VERDICT_COLORS[lab]}}}" for lab, cls in _BADGE_CLASSES.items())

_HOW_TO_READ = (
    "Each claim is one sentence of the lesson, turned into a number that can be measured and a decision "
    "rule fixed before the runs, then checked over many random seeds; a sentence with two parts, or one "
    "decided under several settings, has a test per part. Each test's label is SUPPORTED when the effect's "
    "interval clears the claim's indifference zone on the claim's side, REFUTED when it clears it on the other "
    "side, ON THE LINE when it lies inside the zone (more seeds would not decide it), NOT TESTABLE HERE when "
    "the rule's test cannot run on this evidence (the section says why, e.g. a treatment that never changed a "
    "run), and INCONCLUSIVE when the seeds run so far cannot tell (the section then says roughly how many "
    "seeds would). The count at the top is of the lesson's claims: a claim's tests count once, REFUTED if any "
    "is, SUPPORTED if every testable one is; derived predictions and duplicates are tested and shown but "
    "counted apart. The figure above shows each test's effect with its interval against the number the rule "
    "compares it with; every row has its own scale, since the effects are rates, probabilities, ratios, "
    "decades or accuracies, and a claim about the size of a difference (|effect|) has its zone on both sides "
    "of 0. p-values are per test, each compared with the test's own alpha: the sequential design (below) "
    "splits each test's 1% error budget over both directions and every look; there is no adjustment across "
    "tests. A diverged run (NaN or infinite loss) is never dropped: it is counted, or ranked as the worst "
    "possible value, and the figures say how many seeds were non-finite. The expected label is what the "
    "suite's authors predicted; a mismatch is marked in red. A rule changed after its data were seen is "
    "marked as amended, with the old rule, its verdict and which way the label moved."
)


def _amendments(c: Mapping) -> list[Mapping]:
    return [a for a in c.get("amendments") or [] if isinstance(a, Mapping)]


def _looks(c: Mapping) -> list[Mapping]:
    return [lk for lk in c.get("looks") or [] if isinstance(lk, Mapping)]


def _findings(c: Mapping) -> list[str]:
    f = c.get("findings") or []
    return [str(x) for x in (f if isinstance(f, list) else [f]) if x]


def _seeds_cell(c: Mapping) -> str:
    looks = _looks(c)
    if len(looks) > 1:
        path = " → ".join(f'<span class="num">{_esc(fmt_num(lk.get("seeds")))}</span>' for lk in looks)
        cost = sum(float(lk["seconds"]) for lk in looks if isinstance(lk.get("seconds"), (int, float)))
        return f'{path}<br><span class="muted small">{_esc(fmt_seconds(cost))}</span>'
    return f'<span class="num">{_esc(_fmt_seeds(c.get("seeds")))}</span>'


# ------------------------------------------------------------------ labels and what counts


DECIDED = ("SUPPORTED", "REFUTED")


def reader_label(c: Mapping) -> str:
    """What the reader is told about a claim or a look (harness.claims.label); a file from before the
    labels carries no ``at_threshold``/``untestable`` and gets its verdict."""
    verdict = str(c.get("verdict")).upper() if c.get("verdict") is not None else "—"
    return label(verdict, bool(c.get("at_threshold")), c.get("untestable"))


def counts_as(c: Mapping) -> str:
    """"claim", "derived" or "duplicate" (harness.results.ClaimResult.counts; older files: "claim")."""
    return str(c.get("counts") or "claim")


def lesson_claims(claims: list[Mapping]) -> dict[str, list[Mapping]]:
    """harness.results.Results.sentences() on plain results: {lesson claim: its tests}, in order."""
    out: dict[str, list[Mapping]] = {}
    for c in claims:
        if counts_as(c) == "claim":
            out.setdefault(str(c.get("sentence") or c.get("id")), []).append(c)
    return out


def lesson_label(tests: list[Mapping]) -> str:
    # sentence_label reads nothing of a test but its label
    return sentence_label([types.SimpleNamespace(label=reader_label(t)) for t in tests])


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def counts_text(claims: list[Mapping], mark=str) -> str:
    """"17 claims of the lesson: 12 SUPPORTED, ..., 1 INCONCLUSIVE (short of seeds); 24 tests (1 derived
    prediction and 1 duplicate, counted apart)": the lesson's claims, each counted once with the label of
    its tests (:func:`lesson_label`), and the tests.  ``mark`` dresses each label (the page's badges)."""
    per_label = dict.fromkeys(LABELS, 0)
    sentences = lesson_claims(claims)
    for tests in sentences.values():
        lab = lesson_label(tests)
        per_label[lab] = per_label.get(lab, 0) + 1
    labels = ", ".join(f"{n} {mark(lab)}" + (" (short of seeds)" if lab == "INCONCLUSIVE" else "")
                       for lab, n in per_label.items())
    apart = [_plural(n, w) for n, w in ((sum(counts_as(c) == "derived" for c in claims), "derived prediction"),
                                         (sum(counts_as(c) == "duplicate" for c in claims), "duplicate")) if n]
    tests = _plural(len(claims), "test") + (f" ({' and '.join(apart)}, counted apart)" if apart else "")
    return f"{_plural(len(sentences), 'claim')} of the lesson: {labels}; {tests}"


def belongs(c: Mapping, sentences: Mapping[str, list[Mapping]]) -> tuple[str, str | None] | None:
    """How a test is counted when not as a lesson claim of its own: ("derived", None), ("duplicate", of),
    ("part", of: the lesson claim it is a part or variant of) or ("whole", label: the lesson claim it
    heads, decided with its parts); None for a claim that is its one test."""
    kind, cid, sentence = counts_as(c), str(c.get("id")), c.get("sentence")
    if kind == "derived":
        return "derived", None
    if kind == "duplicate":
        return "duplicate", str(sentence or "")
    if sentence and str(sentence) != cid:
        return "part", str(sentence)
    tests = sentences.get(cid) or []
    return ("whole", lesson_label(tests)) if len(tests) > 1 else None


# The tag of each way a test belongs (:func:`belongs`), ``{}`` the other claim or the lesson claim's label.
TAGS = {"derived": "derived prediction, counted apart", "duplicate": "duplicate of {}, counted apart",
        "part": "part of {}", "whole": "counted with its parts: {}"}


def expected_of(c: Mapping) -> tuple[str | None, bool]:
    """(the expected label, whether the claim's differs from it): ``expected_label`` where the results carry
    one, otherwise the expected verdict, compared with the verdict."""
    if c.get("expected_label"):
        return str(c["expected_label"]), reader_label(c) != str(c["expected_label"]).upper()
    expected = c.get("expected_verdict")
    if expected is None or c.get("verdict") is None:
        return (None if expected is None else str(expected)), False
    return str(expected), str(expected).upper() != str(c.get("verdict")).upper()


_OLD_WORD = re.compile(r"\s*(SUPPORTED|REFUTED|ON THE LINE|NOT TESTABLE HERE|INCONCLUSIVE)((?i: on the line))?")


def old_label(old_verdict: Any) -> str | None:
    """The label an amendment's ``old_verdict`` starts with ("INCONCLUSIVE on the line" is ON THE LINE);
    None where it names none (a sentence about many claims)."""
    m = _OLD_WORD.match(str(old_verdict or ""))
    if not m:
        return None
    return ON_THE_LINE if m.group(2) else m.group(1)


def direction(old: str, now: str) -> str:
    if old == now:
        return "unchanged"
    if now in DECIDED:
        return f"toward {now}"
    return "toward undecided" if old in DECIDED else "still undecided"


def _differs(ours: Mapping, theirs: Mapping) -> bool:
    """Labels where the other side carries what makes one; a summary without it, by verdict."""
    if "at_threshold" in theirs or "untestable" in theirs:
        return reader_label(ours) != reader_label(theirs)
    return str(ours.get("verdict")) != str(theirs.get("verdict"))


def _interval_text(effect: Mapping) -> str:
    text = fmt_num(effect.get("value"), 3)
    if effect.get("ci_low") is not None or effect.get("ci_high") is not None:
        text += f" [{fmt_num(effect.get('ci_low'), 3)}, {fmt_num(effect.get('ci_high'), 3)}]"
    return text


def _factor_words(lab: str, factor: Any) -> str:
    if not isinstance(factor, (int, float)):
        return "no zone factor in this results file"
    if lab == ON_THE_LINE:
        return f"stays on the line for zones at least {fmt_num(factor, 2)}x as wide"
    return f"holds for zones up to {fmt_num(factor, 2)}x as wide"


def _effect_cell(c: Mapping) -> str:
    """The summary's effect: a not-testable claim has none to show (a 0 there would read as a measurement)."""
    if reader_label(c) == NOT_TESTABLE:
        return f'<span class="muted">none: {_esc(c.get("untestable") or "not testable here")}</span>'
    return _esc(_fmt_effect(c.get("effect"), absolute=zone_on_abs(c)))


class _Renderer:
    def __init__(self, results: Mapping, runs: list | None = None, runs_note: str | None = None):
        self.results = results
        self.runs = list(runs if runs is not None else results.get("runs") or [])
        self.runs_note = runs_note
        self.figures: dict[str, bytes] = {}  # file name -> PNG, in render order
        self._curves_cache: dict[tuple, bytes] = {}

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

    def forest(self, claims) -> str:
        rows = []
        for anchor, c in claims:
            effect = c.get("effect") if isinstance(c.get("effect"), Mapping) else {}
            rows.append({"label": c.get("id", anchor), "verdict": reader_label(c), "name": effect.get("name"),
                         "value": effect.get("value"), "ci_low": effect.get("ci_low"),
                         "ci_high": effect.get("ci_high"), "threshold": effect_threshold(c),
                         "zone": effect.get("zone"), "absolute": zone_on_abs(c), "untestable": c.get("untestable")})
        if not rows:
            return ""
        fig = figures.forest_figure(rows, "Each test's effect (dot) and interval (bar) against its threshold "
                                          "(dashed) and indifference zone (grey); each row has its own scale")
        name = self.add_figure(FOREST_FIGURE, figures.png(fig))
        return _img(self.figures[name], "every test's effect with its interval against its threshold, "
                                        "coloured by its label", name)

    def tags(self, c: Mapping, sentences: Mapping[str, list[Mapping]]) -> str:
        """What a test counts as, when not as a lesson claim of its own (:func:`belongs`), as a small tag."""
        got = belongs(c, sentences)
        if got is None:
            return ""
        kind, other = got
        shown = f'<a href="#{_esc(other)}">{_esc(other)}</a>' if kind in ("duplicate", "part") else _esc(other)
        title = {"derived": "a prediction the suite derives from the lesson, not one of its claims",
                 "duplicate": "the same measurement on another scale",
                 "part": "counted once with that lesson claim: parts of one sentence, or variants of one setting",
                 "whole": "the lesson claim this test heads, counted once with its parts: REFUTED if any is, "
                          "SUPPORTED if every testable one is"}[kind]
        return f'<span class="tag" title="{_esc(title)}">{TAGS[kind].format(shown)}</span>'

    def summary_table(self, claims) -> str:
        header = ["claim", "label", "effect [interval] vs threshold", "p (alpha)", "seeds", "test"]
        sentences = lesson_claims([c for _, c in claims])
        rows = []
        for anchor, c in claims:
            cell = _badge(reader_label(c))
            expected, differs = expected_of(c)
            if differs:
                cell += (f'<br><span class="mismatch small" title="the label differs from the expected one">'
                         f"expected {_esc(expected)}</span>")
            expectation = c.get("expectation")
            if isinstance(expectation, Mapping) and expectation.get("passed") is False:
                cell += '<br><span class="mismatch small">expectation missed</span>'
            if _amendments(c):
                cell += (f' <a href="#{_esc(anchor)}-amendments" class="badge amend" '
                         f'title="the rule was changed after its data were seen">amended</a>')
            design = c.get("design")
            rows.append([
                f'<a href="#{_esc(anchor)}">{_esc(c.get("id", anchor))}</a>'
                f'<br><span class="muted small">{_esc(c.get("section", ""))}</span>'
                + (f"<br>{tag}" if (tag := self.tags(c, sentences)) else ""),
                cell,
                _effect_cell(c),
                f'<span class="num">{_esc(fmt_p(c.get("p_value")))}</span> '
                f'<span class="num muted">({_esc(fmt_num(c.get("alpha"), 2))})</span>',
                _seeds_cell(c),
                _esc(c.get("test", "—")) + (f'<br><span class="muted small">{_esc(design)}</span>' if design else ""),
            ])
        if not rows:
            return '<p class="muted">No claims in this results file.</p>'
        widths = (24, 15, 31, 11, 8, 11)
        cols = "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>"
        return _table(header, rows, "summary").replace("<thead>", cols + "<thead>", 1)

    def sensitivity(self, claims) -> str:
        """The tests decided close to their zone, and those on the line, with how wide a zone keeps them."""
        parts = ['<h2 id="zone-sensitivity">How close to the line: zone width</h2>',
                 "<p>A test's zone factor is how far its label is from its indifference zone: scaling the "
                 "zone's width about the threshold by any factor up to it keeps a SUPPORTED or REFUTED verdict, "
                 "and any factor from it up keeps an ON THE LINE test on the line (1 is the zone it was decided "
                 "with).</p>"]
        if not any(c.get("zone_factor") is not None for _, c in claims):
            parts.append('<p class="muted">This results file carries no zone factors (written before the '
                         "rules of 2026-11-30).</p>")
            return "\n".join(parts)
        rows = []
        for anchor, c in claims:
            lab, factor = reader_label(c), c.get("zone_factor")
            near = lab in DECIDED and isinstance(factor, (int, float)) and factor < 2
            if not (near or lab == ON_THE_LINE):
                continue
            effect = c.get("effect") if isinstance(c.get("effect"), Mapping) else {}
            rows.append([f'<a href="#{_esc(anchor)}">{_esc(c.get("id", anchor))}</a>', _badge(lab),
                         f'<span class="num">{_esc(_interval_text(effect))}</span>',
                         _esc(_zone_text(effect, absolute=zone_on_abs(c))), _esc(_factor_words(lab, factor))])
        if not rows:
            parts.append("<p>No test is decided within a factor 2 of its zone's width, and none is on the "
                         "line.</p>")
            return "\n".join(parts)
        parts.append(_table(["test", "label", "effect [interval]", "zone", "zone factor"], rows))
        return "\n".join(parts)

    def amendment_moves(self, claims) -> str:
        """Per test, the label before the latest amendment of the claims and now: which way it moved."""
        dates = [str(a.get("date")) for _, c in claims for a in _amendments(c) if a.get("date")]
        if not dates:
            return ""
        date = max(dates)
        rows, moves, new = [], {}, []
        for anchor, c in claims:
            mine = [a for a in _amendments(c) if str(a.get("date")) == date]
            if not mine:
                new.append(f'<a href="#{_esc(anchor)}">{_esc(c.get("id", anchor))}</a>')
                continue
            old_text = mine[-1].get("old_verdict", "")  # the last of that date: the rules in force just before
            old, now = old_label(old_text), reader_label(c)
            way = direction(old, now) if old else "—"
            moves[way] = moves.get(way, 0) + 1
            rows.append([f'<a href="#{_esc(anchor)}-amendments">{_esc(c.get("id", anchor))}</a>',
                         (f'<span title="{_esc(old_text)}">{_badge(old)}</span>' if old
                          else f'<span class="small">{_esc(old_text)}</span>'),
                         _badge(now), f"<strong>{_esc(way)}</strong>" if way != "unchanged" else _esc(way)])
        order = ["toward SUPPORTED", "toward REFUTED", "toward undecided", "still undecided", "unchanged", "—"]
        told = ", ".join(f"{moves[w]} {w}" for w in order if moves.get(w))
        parts = [f'<h2 id="amendment-moves">The amendment of {_esc(date)}: which way the verdicts moved</h2>',
                 f"<p>Each test's verdict under the rules before {_esc(date)} (the amendment's old verdict; hover "
                 f"it for its numbers) and its label now, of {len(rows)} tests: {_esc(told)}."
                 + (f" Tests without an amendment of that date (new since, or not amended): {', '.join(new)}."
                   if new else "") + "</p>",
                 _table(["test", "before", "now", "moved"], rows)]
        return "\n".join(parts)

    def variant(self, cid: str) -> Mapping | None:
        v = ((self.results.get("variants") or {}).get("replayed") or {})
        return (v.get("claims") or {}).get(cid) if isinstance(v, Mapping) else None

    def replayed_order(self, claims) -> str:
        """Per claim: the verdict under seeded Keras 3's replayed order beside this run's."""
        v = (self.results.get("variants") or {}).get("replayed")
        if not isinstance(v, Mapping):
            return ""
        parts = ['<h2 id="replayed-order">Under seeded Keras 3\'s replayed batch order</h2>']
        if v.get("error"):
            parts.append(f'<p class="muted">The replayed-order summary cannot be used: {_esc(v["error"])}</p>')
            return "\n".join(parts)
        rows, moved = [], 0
        for _, c in claims:
            r = self.variant(str(c.get("id")))
            if not isinstance(r, Mapping):
                continue
            differs = _differs(c, r)
            moved += differs
            eff = r.get("effect") if isinstance(r.get("effect"), Mapping) else {}
            rows.append([f'<a href="#{_esc(c.get("id"))}">{_esc(c.get("id"))}</a>', _badge(reader_label(c)),
                         _effect_cell(c), _seeds_cell(c), _badge(reader_label(r)),
                         _esc(_fmt_effect(eff, absolute=zone_on_abs(c))),
                         f'<span class="num">{_esc(r.get("seeds"))}</span>',
                         '<strong class="num">differs</strong>' if differs else "same"])
        parts.append(f"<p>A finding about seeded Keras 3: with <code>keras.utils.set_random_seed</code>, "
                     "<code>fit(shuffle=True)</code> replays one permutation in every epoch, where the lesson's "
                     "unseeded code draws a fresh one. The same claims decided under that replayed order "
                     f"(<code>{_esc(v.get('path'))}</code>, rules {_esc(v.get('rules'))}): "
                     f"{moved} of {len(rows)} verdicts differ.</p>")
        parts.append(_table(["claim", "lesson's order", "effect", "seeds", "replayed order", "effect", "seeds",
                             "verdict"], rows))
        return "\n".join(parts)

    def all_findings(self, claims) -> str:
        items = [f'<li><a href="#{_esc(anchor)}">{_esc(c.get("id", anchor))}</a>: {_esc(f)}</li>'
                 for anchor, c in claims for f in _findings(c)]
        return ("<h2 id=\"findings\">Findings</h2><ul>" + "".join(items) + "</ul>") if items else ""

    def curves(self, experiment: str, outcomes: list[bool] | None, metric: str,
               seeds: int | None) -> tuple[bytes | None, int]:
        """The claim's seeds of one experiment (seed s is ``outcomes[s]``), coloured by outcome."""
        runs, engine = _runs_for(self.runs, self.results, experiment)
        limit = len(outcomes) if outcomes is not None else seeds
        if isinstance(limit, int) and not isinstance(limit, bool):
            runs = [r for r in runs if not isinstance(r.get("seed"), int) or r["seed"] < limit]
        if not runs:
            return None, 0
        oc = None
        if outcomes is not None and all(isinstance(r.get("seed"), int) and r["seed"] >= 0 for r in runs):
            oc = [bool(outcomes[r["seed"]]) for r in runs]
        keys = figures.curve_keys(runs, metric)
        key = (experiment, tuple(oc) if oc is not None else None, tuple(keys), len(runs))
        if key not in self._curves_cache:
            title = f"{experiment}" + (f" ({engine} engine)" if engine else "") + f", {len(runs)} seeds"
            self._curves_cache[key] = figures.png(figures.curves_figure(runs, keys, title, oc))
        return self._curves_cache[key], len(runs)

    def claim_section(self, anchor: str, c: Mapping, sentences: Mapping[str, list[Mapping]]) -> str:
        cid = str(c.get("id", anchor))
        amendments = _amendments(c)
        now = reader_label(c)
        head = f"<h3>{_esc(cid)}{(': ' + _esc(c['title'])) if c.get('title') else ''} {_badge(now)}"
        if amendments:
            head += f' <a href="#{_esc(anchor)}-amendments" class="badge amend">amended</a>'
        parts = [f'<section id="{_esc(anchor)}" class="claim">', head + "</h3>"]
        if tag := self.tags(c, sentences):
            parts.append(f"<p>{tag}</p>")
        if c.get("quote"):
            parts.append(f"<blockquote>{_esc(c['quote'])}"
                         f'<br><span class="muted small">lesson section {_esc(c.get("section", "—"))}</span>'
                         "</blockquote>")
        verdict = _badge(now)
        expected, differs = expected_of(c)
        if expected is not None:
            verdict += f' <span class="muted">expected {_esc(expected)}</span>'
            if differs:
                verdict += ' <span class="mismatch">≠</span>'
        if now == ON_THE_LINE:
            verdict += (' <span class="muted">(the interval lies inside the indifference zone: more seeds would '
                        "not decide it)</span>")
        replayed = self.variant(cid)
        if isinstance(replayed, Mapping):
            verdict += (f'<div class="muted">Under seeded Keras 3\'s replayed batch order: '
                        f'{_badge(reader_label(replayed))} '
                        f'({_esc(_fmt_effect(replayed.get("effect"), absolute=zone_on_abs(c)))}; '
                        f'{_esc(replayed.get("seeds"))} seeds): '
                        + ("<strong>a different verdict</strong>" if _differs(c, replayed) else "the same verdict")
                        + ' (<a href="#replayed-order">all claims</a>)</div>')
        for i, a in enumerate(amendments):
            then = old_label(a.get("old_verdict"))
            moved = (f"<br>then {_badge(then)} → now {_badge(now)}"
                     f' <span class="muted">({_esc(direction(then, now))})</span>' if then else "")
            target = f' id="{_esc(anchor)}-amendments"' if i == 0 else ""  # the first is where links land
            verdict += (f'<div class="amendment"{target}><b>amended {_esc(a.get("date", ""))}'
                        f"</b>: {_esc(a.get('reason', ''))}{moved}<br>old rule: {_esc(a.get('old_rule', '—'))}"
                        f"<br>old verdict: {_esc(a.get('old_verdict', '—'))}"
                        f"<br>new rule: {_esc(a.get('new_rule', '—'))}</div>")
        effect = c.get("effect") if isinstance(c.get("effect"), Mapping) else {}
        conf = effect.get("confidence")
        items = [
            ("interpretation", _esc(c.get("interpretation", "—"))),
            ("decision rule", _esc(c.get("rule", "—"))),
            ("label", verdict),
        ]
        if now == NOT_TESTABLE:
            items.append(("not testable here", _esc(c.get("untestable"))
                          + ' <span class="muted">(the rule\'s test could not run on this evidence: no '
                            "effect and no p-value)</span>"))
        expectation = c.get("expectation")
        if isinstance(expectation, Mapping):
            text = _pass_badge(expectation.get("passed"))
            ranges = expectation.get("ranges") or {}
            if ranges:
                text += " " + _esc("; ".join(f"{q} in [{fmt_num(r[0])}, {fmt_num(r[1])}]"
                                             for q, r in ranges.items() if isinstance(r, (list, tuple))
                                             and len(r) == 2))
            for key in ("message", "why"):
                if expectation.get(key):
                    text += f'<br><span class="small">{_esc(expectation[key])}</span>'
            items.append(("expectation", text))
        if c.get("design"):
            items.append(("design", _esc(c["design"]) + (f' <span class="muted">— {_esc(c["pairing"])}</span>'
                                                          if c.get("pairing") else "")))
        items += [
            ("test", _esc(c.get("test", "—")) + (f' <span class="muted">(statistic {_esc(fmt_num(c.get("statistic")))})'
                                                  "</span>" if c.get("statistic") is not None else "")),
            ("p-value", _esc(fmt_p(c.get("p_value")))
             + f' <span class="muted">(alpha = {_esc(fmt_num(c.get("alpha")))} for each one-sided test)</span>'),
            ("effect [interval]", (_effect_cell(c) if now == NOT_TESTABLE else _esc(_fmt_effect(
                effect, 4, zone_on_abs(c))) + (f' <span class="muted">({_esc(fmt_num(conf))} interval)</span>'
                                               if conf is not None else ""))),
            ("seeds", _seeds_cell(c)),
            ("detail", _esc(c.get("detail", "—"))),
        ]
        if now == "INCONCLUSIVE":  # short of seeds: how many more would decide it
            needed = c.get("seeds_needed")
            text = _esc(fmt_num(needed)) if needed is not None else '<span class="muted">not estimated</span>'
            if c.get("seeds_needed_for"):
                text += f' <span class="muted">{_esc(c["seeds_needed_for"])}</span>'
            items.append(("seeds needed", text))
        findings = _findings(c)
        if findings:
            items.append(("findings", "<ul>" + "".join(f"<li>{_esc(f)}</li>" for f in findings) + "</ul>"))
        parts.append(_kv_table(items))

        looks = _looks(c)
        if looks:
            seq = c.get("sequential") if isinstance(c.get("sequential"), Mapping) else {}
            plan = (f" of the planned {', '.join(str(x) for x in seq.get('looks') or [])}"
                    f" (each one-sided test at {fmt_p(seq.get('alpha_per_test'))})" if seq.get("looks") else "")
            parts.append(f"<h4>Looks{_esc(plan)}</h4>")
            rows = [[f'<span class="num">{_esc(fmt_num(lk.get("seeds")))}</span>', _badge(reader_label(lk)),
                     f'<span class="num">{_esc(fmt_p(lk.get("p_value")))}</span>',
                     f'<span class="num">{_esc(fmt_p(lk.get("alpha")))}</span>',
                     _esc(_fmt_effect({"value": lk.get("effect"), "ci_low": lk.get("ci_low"),
                                       "ci_high": lk.get("ci_high")}) if "effect" in lk else "—"),
                     f'<span class="num">{_esc(fmt_seconds(lk.get("seconds")))}</span>'] for lk in looks]
            parts.append(_table(["seeds", "label", "p-value", "alpha", "effect [interval]", "cost"], rows))

        metric = str(c.get("metric") or "metric")
        samples = claim_samples(c)
        outcomes = claim_outcomes(c)
        if samples:
            rows = []
            for exp, vals in samples.items():
                s = _metric_summary(vals)
                oc = (outcomes or {}).get(exp)
                met = f"{sum(oc)}/{len(oc)}" if oc else "—"
                rows.append([_esc(exp)] + [f'<span class="num">{_esc(fmt_num(v))}</span>' for v in (
                    s["n"], s["nan"] + s["inf"], s["median_finite"], s["min"], s["max"])]
                    + [f'<span class="num">{_esc(met)}</span>'])
            threshold = c.get("metric_threshold")
            parts.append(f"<h4>Deciding metric: <code>{_esc(metric)}</code>"
                         + (f' <span class="muted">(threshold {_esc(fmt_num(threshold))})</span>'
                            if threshold is not None else "") + "</h4>")
            parts.append(_table(["experiment", "seeds", "non-finite", "median (finite)", "min (finite)",
                                 "max (finite)", "met the per-seed condition"], rows))
            fig = figures.metric_figure(samples, metric, f"{cid}: {metric}, every seed", outcomes=outcomes,
                                        threshold=threshold, paired=c.get("design") == "paired")
            name = self.add_figure(f"{_safe(cid)}__metric.png", figures.png(fig))
            parts.append(_img(self.figures[name], f"{cid}: {metric} of every seed", name))
        elif c.get("metric_values"):
            parts.append('<p class="muted">This older results file has no per-seed metric values '
                         "(<code>metric_samples</code>); no metric figure.</p>")

        exps = c.get("experiments") or list(samples)
        for exp in exps or []:
            exp = str(exp)
            info = (self.results.get("experiments") or {}).get(exp) or {}
            desc = " — ".join(str(x) for x in (info.get("section"), info.get("description")) if x)
            parts.append(f"<h4>Learning curves: <code>{_esc(exp)}</code>"
                         + (f' <span class="muted">{_esc(desc)}</span>' if desc else "") + "</h4>")
            seeds = c.get("seeds")
            png, n = self.curves(exp, (outcomes or {}).get(exp), metric,
                                 len(seeds) if isinstance(seeds, list) else seeds)
            if png is None:
                parts.append('<p class="muted">No runs of this experiment in the results file'
                             + (f" ({_esc(self.runs_note)})" if self.runs_note else "") + ".</p>")
                continue
            name = self.add_figure(f"{_safe(cid)}__curves_{_safe(exp)}.png", png)
            parts.append(_img(png, f"{cid}: learning curves of {exp} over {n} seeds", name))
        parts.append("</section>")
        return "\n".join(parts)

    # -- the rest ----------------------------------------------------------
    def lesson_figures(self, claims) -> str:
        parts = ["<h2 id=\"lesson-figures\">The lesson's own figures</h2>",
                 "<p>Redrawn from the lesson's code, to compare with the figures it describes.</p>",
                 "<h3>2.1.2: histograms of the regression inputs and target</h3>"]
        png = self.add_figure(LESSON_FIGURES[0], figures.regression_histograms())
        parts.append(_img(self.figures[png], "histograms of feature 0, feature 1 and the target", png))
        parts.append("<h3>2.2.3: the circles dataset, colored by class</h3>")
        png = self.add_figure(LESSON_FIGURES[1], figures.circles_scatter())
        parts.append(_img(self.figures[png], "scatter of make_circles colored by class", png))
        parts.append('<h3 id="lesson-input-scaling">2.1.2.3: test MSE by input scaling</h3>')
        by_id = {str(c.get("id")): c for _, c in claims}
        source = next((cid for cid in INPUT_SCALING_CLAIMS
                       if cid in by_id and set(claim_samples(by_id[cid])) & set(figures.INPUT_SCALING_LABELS)), None)
        if source is None:
            parts.append('<p class="muted">No claim ' + " or ".join(f"<code>{_esc(c)}</code>" for c in INPUT_SCALING_CLAIMS)
                         + " with per-seed test MSE in this results file.</p>")
            return "\n".join(parts)
        samples = {k: v for k, v in claim_samples(by_id[source]).items() if k in figures.INPUT_SCALING_LABELS}
        parts.append(f'<p>Per-seed test MSE of <a href="#{_esc(source)}">{_esc(source)}</a>, 30 repeats per '
                     "scaling in the lesson.</p>")
        png = self.add_figure(LESSON_FIGURES[2], figures.png(figures.input_scaling_figure(samples)))
        parts.append(_img(self.figures[png], "box plot of test MSE by input scaling", png))
        return "\n".join(parts)

    def equivalence(self) -> str:
        parts = ['<h2 id="equivalence">Engine equivalence</h2>']
        rows_in = [e for e in self.results.get("equivalence") or [] if isinstance(e, Mapping)]
        if not rows_in:
            parts.append('<p class="muted">No engine equivalence checks in this results file.</p>')
            return "\n".join(parts)
        parts.append("<p>Before its runs are used, the batched engine of this run is restarted from every window "
                     "of the certificate (Keras' own training state at a checkpoint, at its true epoch) and each "
                     "window's History is compared with Keras', epoch by epoch, on every key; the last window also "
                     "compares the final metrics, the first starts from the engine's own initial weights. "
                     "Where training is calm, the continuity check also trains seeds 0-2 in one long program "
                     "call and restarts it from its own states: a window sees only the first epochs of a call, "
                     "this sees the rest.</p>")
        rows = [[_esc(e.get("experiment", "—")), _esc(e.get("level", "—")), _esc(e.get("windows", "—")),
                 _esc(e.get("window_epochs", "—")),
                 '<span class="muted">not run</span>' if e.get("ran") is False else _pass_badge(e.get("passed")),
                 _esc(e.get("detail", ""))]
                for e in rows_in]
        parts.append(_table(["configuration", "check", "windows", "epochs each", "result", "detail"], rows))
        parts.append("<p>Seeds no window covers: every seed of the looks other than 0, 1, 2 and the later-look "
                     "sample the certificate names. They run the same program as the checked seeds (at "
                     "certification each seed's run was bit-identical whether trained among 10, 30 or 1000 "
                     "seeds), and their initial weights are compared with Keras' initializers on 5 seeds of "
                     "every batch; no check compares their training with Keras.</p>")
        return "\n".join(parts)

    def certificate(self) -> str:
        cert = self.results.get("certificate")
        parts = ['<h2 id="certificate">Engine certificate</h2>']
        if not isinstance(cert, Mapping):
            parts.append('<p class="muted">No certificate in this results file (the literal Keras engine '
                         "needs none).</p>")
            return "\n".join(parts) + self.mutants()
        plan = (cert.get("plan") or {}).get("windows") or {}
        cost = cert.get("cost") or {}
        indep = cert.get("seed_independence") or {}
        checks = [c for c in cert.get("checks") or [] if isinstance(c, Mapping)]
        widths = cert.get("window_epochs") or plan.get("window_epochs") or {}
        shorter = ", ".join(f"{k} {v}" for k, v in widths.items() if v != 10) or "none"
        items = [
            ("file", _esc(cert.get("path"))), ("created", _esc(cert.get("created"))),
            ("certifies the Keras engine's code", f"<code>{_esc(str(cert.get('code_digest'))[:16])}</code> "
                                                  f"({_esc(cert.get('digest_scheme'))})"),
            ("batch order", _esc(cert.get("batch_order"))),
            ("Keras references", _esc(f"seeds {cert.get('seeds')}, full length, Keras' own fit, with their training "
                                      "state at every window's start")),
            ("windows", _esc(f"10 epochs each (other: {shorter}), tiling every epoch of seeds {cert.get('seeds')}; "
                             f"one window at each of {plan.get('later_fractions')} of the run for the later looks' "
                             f"seeds {cert.get('later_seeds')} (Keras restarted from the batched engine's state); "
                             f"every History key, within relative tolerance {plan.get('rtol')} (accuracy: one "
                             f"sample) or {(plan.get('envelope') or {}).get('factor')}x the window's chaos "
                             f"envelope (how far {(plan.get('envelope') or {}).get('perturbations')} nudges of "
                             "1-2 ulps of its start state carry)")),
            ("at certification", _esc(f"{sum(bool(c.get('passed')) for c in checks)}/{len(checks)} checks "
                                      "of the batched engine passed")),
            ("seed independence", _esc(_independence_text(indep))),
            ("cost", _esc(f"{(cost.get('keras_core_seconds') or 0) / 60:.0f} core-minutes of Keras training, "
                          f"paid once; certify took {(cost.get('certify_wall_seconds') or 0) / 60:.1f} min on "
                          f"{cost.get('workers')} workers")),
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
        def cell(v):
            return _esc("—" if v is None else v)

        every = any("killed_on" in m for m in rows_in)
        rows = [[_esc(m.get("mutant")), _esc(m.get("description")),
                 "killed" if m.get("killed") else '<strong>SURVIVED</strong>',
                 cell(m.get("check")), cell(m.get("configuration")), cell(m.get("seed")), cell(m.get("checkpoint")),
                 cell(m.get("epoch"))]
                + ([_esc(f"{len(m.get('killed_on') or [])}/{m.get('configurations_checked')}")] if every else [])
                + [_esc(m.get("detail"))]
                for m in rows_in]
        return ("\n".join(['\n<h3 id="mutants">Mutants</h3>',
                           "<p>Each mutant gets one thing of Keras' semantics wrong; the checks above must kill "
                           f"it. killed: {killed}, survived: {len(rows_in) - killed}.</p>",
                           _table(["mutant", "what it gets wrong", "killed", "check", "configuration", "seed",
                                   "checkpoint", "epoch"] + (["configurations that kill it"] if every else [])
                                  + ["detail"], rows)]))

    def drift(self) -> str:
        rows_in = [d for d in self.results.get("drift") or [] if isinstance(d, Mapping)]
        if not rows_in:
            return ""  # no --claims-baseline in this run
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

    def design(self) -> str:
        """The sequential design, the multiplicity statement, and amendments that apply to every claim."""
        design = self.results.get("design")
        if not isinstance(design, Mapping):
            return ""
        parts = ['<h2 id="design">Decision design</h2>']
        seq = design.get("sequential")
        if isinstance(seq, Mapping):
            looks = ", ".join(str(n) for n in seq.get("looks") or [])
            parts.append(f"<p>Sequential looks at {_esc(looks)} seeds: a claim still undecided is decided again "
                         f"on more seeds, until SUPPORTED, REFUTED, or its interval lies inside its indifference "
                         f"zone (the effect sits on the claim's line). Each one-sided test at alpha = "
                         f"{_esc(fmt_num(seq.get('alpha_per_test')))} ({_esc(seq.get('split', ''))}), so a claim's "
                         f"chance of a wrong decision is at most {_esc(fmt_num(seq.get('claim_alpha')))}.</p>")
        if design.get("multiplicity"):
            parts.append(f"<p>{_esc(design['multiplicity'])}</p>")
        for a in design.get("amendments") or []:
            if isinstance(a, Mapping):
                parts.append(f'<div class="amendment"><b>amended {_esc(a.get("date", ""))}, every claim</b>: '
                             f'{_esc(a.get("new_rule", ""))}<br><span class="small">was: {_esc(a.get("old_rule", ""))}'
                             f'<br>why: {_esc(a.get("reason", ""))}<br>verdicts under the old rule: '
                             f'{_esc(a.get("old_verdict", ""))}</span></div>')
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
        tests = [c for _, c in claims]
        env = self.results.get("environment") if isinstance(self.results.get("environment"), Mapping) else {}
        where = ", ".join(str(x) for x in (env.get("fingerprint"), env.get("engine") and f"{env.get('engine')} engine")
                          if x)
        body = [
            "<h1>lesson-claims evidence report</h1>",
            f'<p id="verdicts">{counts_text(tests, _badge) if tests else "no claims"}'
            + (f' <span class="muted small">({_esc(where)})</span>' if where else "") + "</p>",
            '<h2 id="summary">Every test at a glance</h2>',
            self.forest(claims),
            self.summary_table(claims),
            self.sensitivity(claims),
            self.amendment_moves(claims),
            self.all_findings(claims),
            self.replayed_order(claims),
            "<h2 id=\"how-to-read\">How to read this</h2>",
            f"<p>{_esc(_HOW_TO_READ)}</p>",
            self.design(),
            "<h2 id=\"claims\">Claims</h2>",
        ]
        sentences = lesson_claims(tests)
        body += [self.claim_section(anchor, c, sentences) for anchor, c in claims]
        body += [self.lesson_figures(claims), self.certificate(), self.equivalence(), self.drift(), self.environment(),
                 self.wall_time(), self.notes()]
        return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<title>lesson-claims evidence report</title>\n"
                f"<style>{_CSS}</style>\n</head>\n<body>\n" + "\n".join(b for b in body if b)
                + "\n</body>\n</html>\n")


def _render(results: Mapping, out_dir: Path, runs: list | None = None, runs_note: str | None = None) -> Path:
    renderer = _Renderer(results, runs, runs_note)
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


# ------------------------------------------------------------------ the runs sidecar


def _runs_bytes(runs: list) -> bytes:
    """The sidecar's bytes: gzip (no name, no time stamp, so deterministic) of strict JSON."""
    text = records.dumps({"schema": RESULTS_SCHEMA, "runs": runs}, separators=(",", ":")) + "\n"
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def load_runs(results_path: Path, results: Mapping) -> tuple[list, str | None]:
    """The per-epoch runs of a results file: inline (older files) or from its sidecar.

    Returns (runs, note); the note says why there are none (sidecar missing, or
    not the one this results.json was written with)."""
    if isinstance(results.get("runs"), list):
        return results["runs"], None
    ref = results.get("runs_file")
    if not isinstance(ref, Mapping):
        return [], "this results file names no runs sidecar"
    path = Path(results_path).parent / str(ref.get("path") or RUNS_NAME)
    try:
        data = path.read_bytes()
    except OSError:
        return [], f"sidecar {path.name} missing"
    if ref.get("sha256") and hashlib.sha256(data).hexdigest() != ref["sha256"]:
        return [], f"sidecar {path.name} is not the one written with this results.json"
    try:
        loaded = records.loads(gzip.decompress(data).decode("utf-8"))
    except (OSError, ValueError, EOFError) as exc:
        return [], f"sidecar {path.name} unreadable: {exc}"
    return list(loaded.get("runs") or []), None


# ------------------------------------------------------------------ public API


def write_report(results: dict, out_dir: Path) -> Path:
    """Write runs.json.gz, results.json, figures/*.png and index.html into ``out_dir``; return the index path.

    ``results["runs"]`` (every run's per-epoch history) goes to the sidecar, not
    into results.json; results.json names it (``runs_file``) with its digest."""
    out_dir = Path(out_dir)
    runs = results.get("runs") or []
    slim = {k: v for k, v in results.items() if k != "runs"}
    sidecar = _runs_bytes(runs)
    slim["runs_file"] = {"path": RUNS_NAME, "runs": len(runs), "sha256": hashlib.sha256(sidecar).hexdigest()}
    atomic_write_bytes(out_dir / RUNS_NAME, sidecar)  # first: results.json never names a sidecar not there
    text = records.dumps(slim, indent=1) + "\n"
    atomic_write_text(out_dir / RESULTS_NAME, text)
    # Render what was written, so a later render_from_json gives the same bytes.
    written = records.loads(text)
    return _render(written, out_dir, load_runs(out_dir / RESULTS_NAME, written)[0])


def load_results(path: Path) -> dict:
    """Read a results file, or raise ValueError naming it if it is not one."""
    path = Path(path)
    results = records.read_schema_file(path)
    from harness.results import from_dict

    from_dict(results, str(path))  # the typed model's checks: schema, claims, each claim's id and verdict
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
    """Re-render index.html and figures/ next to a results.json (and its runs sidecar); return the index path."""
    from harness.run_notes import load_mutants

    path = Path(path)
    results = load_results(path)
    # a mutants table written since the run (python -m harness mutants) joins the page
    fingerprint = (results.get("environment") or {}).get("fingerprint")
    results["mutants"] = load_mutants(path.parent / "mutants.json", fingerprint) or results.get("mutants")
    runs, note = load_runs(path, results)
    return _render(results, path.parent, runs, note)
