"""The evidence report: results.json, its runs sidecar, PNG figures and one self-contained HTML page.

``write_report(results, runs, out_dir)`` writes

* ``out_dir/runs.json.gz`` and ``out_dir/results.json``: the results through their one codec
  (:func:`harness.results.write`), the per-epoch histories in the sidecar;
* ``out_dir/figures/*.png``: the forest plot of every claim's effect, per claim
  the deciding metric's per-seed values and the learning curves, and the
  lesson's own figures, under deterministic names;
* ``out_dir/index.html``: one file with every figure embedded as a base64 data
  URI, inline CSS, no script and no external resource.

``render_from_json(path)`` re-renders the figures and index.html from a results.json and its sidecar,
read through the same codec (which refuses a file it cannot read as results, naming the file and the
field, before anything is written).  The page renders only the typed model
(:mod:`harness.results.model`), one section per part of it, and the same results always give
byte-identical files (no timestamps anywhere).  Every file goes through a temporary file and an atomic
rename, so a killed run leaves the previous file or the new one, never a torn one.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from harness.report import figures
from harness.report.readings import error_bound_section, readings_section
from harness.report.about_run import (design_section, drift_section, environment_section, notes_section,
                                      wall_time_section)
from harness.report.claim import ClaimContext, claim_section
from harness.report.engine import certificate_section, equivalence_section, mutants_section
from harness.report.figure_files import FIGURES_DIR, Drawn, ours, write_figures
from harness.report.format import BADGE_CLASSES, badge, esc
from harness.report.histories import LearningCurves
from harness.report.labels import counts_text, error_bound_text, lesson_claims, robustness_counts
from harness.report.lesson_figures import lesson_figures_section
from harness.report.mechanisms import inside_section
from harness.report.overview import (amendment_moves, anchors, findings, forest, replayed_order, summary_table,
                                     zone_sensitivity)
from harness.results import RESULTS_NAME, RUNS_NAME, Results, read, write
from harness.run_notes import load_mutants
from harness.storage import unit
from harness.storage.store import atomic_write_text

__all__ = ["CSS", "FIGURES_DIR", "INDEX_NAME", "RESULTS_NAME", "RUNS_NAME", "render_from_json", "render_page",
           "write_report"]

INDEX_NAME = "index.html"

CSS = """
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
.badge.warn{color:#111}
.badge.amend{background:#6a1b9a}
.tag{display:inline-block;padding:0 .35em;border:1px solid #999;border-radius:.3em;font-size:.8em;color:#444;
 background:#fafafa;max-width:100%}
.mismatch{color:#c62828;font-weight:bold}
.muted{color:#666}
.small{font-size:.85em}
.amendment{border-left:4px solid #6a1b9a;background:#f6f0fa;padding:.3em .7em;margin:.3em 0}
code{background:#f2f2f2;padding:0 .2em;overflow-wrap:anywhere}
dd{overflow-wrap:anywhere}
""" + "".join(f".badge.{cls}{{background:{figures.VERDICT_COLORS[lab]}}}" for lab, cls in BADGE_CLASSES.items())

HOW_TO_READ = (
    "Each claim is one sentence of the lesson, turned into a number that can be measured and a decision "
    "rule fixed before the runs, then checked over many random seeds; a sentence with two parts, or one "
    "decided under several settings, has a test per part. Each test's label is SUPPORTED when the effect's "
    "interval clears the claim's indifference zone on the claim's side, REFUTED when it clears it on the other "
    "side, ON THE LINE when it lies inside the zone (more seeds would not decide it), NOT TESTABLE HERE when "
    "the rule's test cannot run on this evidence (the section says why, e.g. a treatment that never changed a "
    "run), and INCONCLUSIVE when the seeds run so far cannot tell (the section then says roughly how many "
    "seeds would). The count at the top is of the lesson's claims: a claim's tests count once, REFUTED if any "
    "is, SUPPORTED if every testable one is; derived predictions, duplicates and findings (the lesson's literal "
    "code on today's Keras, where the sentence is decided on the author's) are tested and shown but counted "
    "apart. The figure above shows each test's effect with its interval against the number the rule "
    "compares it with; every row has its own scale, since the effects are rates, probabilities, ratios, "
    "decades or accuracies, and a claim about the size of a difference (|effect|) has its zone on both sides "
    "of 0. p-values are per test, each compared with the test's own alpha: the sequential design (below) "
    "splits each test's 1% error budget over both directions and every look; across tests, the error bound "
    "states the chance that any verdict is wrong, and --claims-familywise labels every test again under Holm's "
    "correction. Each test shows its alternative readings (robust when all agree with it) and its rule's power. "
    "A diverged run (NaN or infinite loss) is never dropped: it is counted, or ranked as the worst "
    "possible value, and the figures say how many seeds were non-finite. The expected label is what the "
    "suite's authors predicted; a mismatch is marked in red. A rule changed after its data were seen is "
    "marked as amended, with the old rule, its verdict and which way the label moved."
)


def render_page(results: Results, runs: list[dict], runs_note: str | None = None) -> tuple[str, Drawn]:
    """index.html's text and the figures it shows.  ``runs``: the per-epoch histories (``runs_note``: why
    there are none)."""
    drawn = Drawn()
    claims = anchors(results.claims)
    tests = list(results.claims)
    env = results.environment
    where = ", ".join(x for x in (env.fingerprint, env.engine and f"{env.engine} engine") if x)
    ctx = ClaimContext(sentences=lesson_claims(tests), fingerprint=env.fingerprint, experiments=results.experiments,
                       replayed=results.variants["replayed"] if "replayed" in results.variants else None,
                       curves=LearningCurves(runs, results.experiments, env.engine, runs_note), drawn=drawn)
    body = [
        "<h1>lesson-claims evidence report</h1>",
        (f'<p id="interrupted" class="mismatch">{esc(results.interrupted.upper())}: this report holds only the '
         "tests that finished" + (f"; {esc(results.replaced)}" if results.replaced else "") + ".</p>")
        if results.interrupted else "",
        f'<p id="verdicts">{counts_text(tests, badge)}'
        + (f' <span class="muted small">({esc(where)})</span>' if where else "") + "</p>",
        f'<p class="small">{esc(robustness_counts(tests))} (<a href="#readings">readings</a>); '
        f'{esc(error_bound_text(tests, results.familywise))} (<a href="#error-bound">error bound</a>)</p>',
        '<h2 id="summary">Every test at a glance</h2>',
        forest(claims, drawn),
        summary_table(claims),
        error_bound_section(tests, results.familywise),
        readings_section(claims),
        zone_sensitivity(claims),
        amendment_moves(claims),
        findings(claims),
        replayed_order(claims, ctx.replayed),
        '<h2 id="how-to-read">How to read this</h2>',
        f"<p>{esc(HOW_TO_READ)}</p>",
        design_section(results.design),
        '<h2 id="claims">Claims</h2>',
        *(claim_section(anchor, c, ctx) for anchor, c in claims),
        lesson_figures_section(results.claims, drawn),
        inside_section(runs, drawn),
        certificate_section(results.certificate, env.machine),
        mutants_section(results.mutants),
        equivalence_section(results.equivalence),
        drift_section(results.drift),
        environment_section(results.schema, results.suite_version, env),
        wall_time_section(results.experiments),
        notes_section(results.notes),
    ]
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>lesson-claims evidence report</title>\n"
            f"<style>{CSS}</style>\n</head>\n<body>\n" + "\n".join(b for b in body if b) + "\n</body>\n</html>\n")
    return page, drawn


def _stage_page(results: Results, runs: list[dict], runs_note: str | None, out_dir: Path, stage: Path
                ) -> list[tuple[Path, Path]]:
    """index.html and figures/ rendered into ``stage``; the moves that put them in ``out_dir`` (figures/ first,
    with any files of the user's own already there; index.html last)."""
    page, drawn = render_page(results, runs, runs_note)
    write_figures(drawn, stage)
    old = out_dir / FIGURES_DIR
    if old.is_dir() and not old.is_symlink():
        for f in old.iterdir():  # not the report's: kept
            if f.is_file() and not f.is_symlink() and not ours(f.name):
                shutil.copy2(f, stage / FIGURES_DIR / f.name)
    atomic_write_text(stage / INDEX_NAME, page)
    moves = [(stage / FIGURES_DIR, out_dir / FIGURES_DIR)] if (stage / FIGURES_DIR).is_dir() else []
    return moves + [(stage / INDEX_NAME, out_dir / INDEX_NAME)]


def write_report(results: Results, runs: list, out_dir: Path) -> Path:
    """:func:`write_run` without a summary: the index path."""
    return write_run(results, runs, out_dir)[0]


def write_run(results: Results, runs: list, out_dir: Path, history_dir: Path | None = None,
              run: str = "") -> tuple[Path, Path | None]:
    """Write runs.json.gz, results.json, figures/*.png, index.html into ``out_dir`` and the summary into
    ``history_dir``, as one unit (:mod:`harness.storage.unit`): all staged, then moved into place under the
    folder's lock, so the folder never mixes two runs and a failed write leaves the report there untouched.
    Returns (index path, summary path).

    The page is rendered from ``results`` as they are, not from the file just written: the codec's round
    trip gives the same model, so :func:`render_from_json` of that file gives the same bytes."""
    from harness.results import summaries  # local: the summary is written only with a history folder

    out_dir = Path(out_dir)
    with unit.locked(out_dir, run):
        stage, staged_summary, summary_path = unit.staging(out_dir), None, None
        try:
            write(results, runs, stage)
            moves = [(stage / RUNS_NAME, out_dir / RUNS_NAME), (stage / RESULTS_NAME, out_dir / RESULTS_NAME)]
            if history_dir is not None:
                staged_summary, summary_path = summaries.stage_summary(results, Path(history_dir))
                moves.append((staged_summary, summary_path))
            moves += _stage_page(results, runs, None, out_dir, stage)
        except BaseException:
            unit.discard(stage)
            if staged_summary is not None:
                staged_summary.unlink(missing_ok=True)
            raise
        unit.commit(out_dir, stage, moves)
    return out_dir / INDEX_NAME, summary_path


def render_from_json(path: Path) -> Path:
    """Re-render index.html and figures/ next to a results.json (and its runs sidecar); return the index path.

    A results file the codec cannot read raises :class:`harness.results.ResultsError` and writes nothing."""
    path = Path(path)
    results, runs, note = read(path)
    # a mutants table written since the run (python -m harness mutants) joins the page
    mutants = load_mutants(path.parent / "mutants.json", results.environment.fingerprint)
    if mutants is not None:
        results = dataclasses.replace(results, mutants=mutants)
    out_dir = path.parent
    with unit.locked(out_dir):
        stage = unit.staging(out_dir)
        try:
            moves = _stage_page(results, runs, note, out_dir, stage)
        except BaseException:
            unit.discard(stage)
            raise
        unit.commit(out_dir, stage, moves)
    return out_dir / INDEX_NAME
