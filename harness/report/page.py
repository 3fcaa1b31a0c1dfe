"""The evidence report: results.json, its runs sidecar, PNG figures and one self-contained HTML page.

``write_report(results, runs, out_dir)`` writes

* ``out_dir/runs.json.gz`` and ``out_dir/results.json``: the results through their one codec
  (:func:`harness.results.write`), the per-epoch histories in the sidecar;
* ``out_dir/figures/*.png``: the forest plot of every claim's effect, per claim
  the deciding metric's per-seed values and the learning curves, and the
  lesson's own figures, under deterministic names;
* ``out_dir/index.html``: one file with every figure embedded as a base64 data
  URI, inline CSS, no script and no external resource, laid out by the templates of
  ``harness/report/templates/`` (:mod:`harness.report.render`: every value escaped).

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

from harness.report import render
from harness.report.readings import error_bound_section, readings_section
from harness.report.about_run import (design_section, drift_section, environment_section, notes_section,
                                      wall_time_section)
from harness.report.claim import ClaimContext, claim_section
from harness.report.engine import certificate_section, equivalence_section, mutants_section
from harness.report.figure_files import FIGURES_DIR, Drawn, ours, write_figures
from harness.report.histories import LearningCurves
from harness.report.labels import claim_counts, lesson_claims, robustness_counts
from harness.report.lesson_figures import lesson_figures_section
from harness.report.mechanisms import inside_section
from harness.report.overview import (amendment_moves, anchors, findings, forest, replayed_order, summary_table,
                                     zone_sensitivity)
from harness.results import RESULTS_NAME, RUNS_NAME, Results, read, write
from harness.run_notes import load_mutants
from harness.storage import unit
from harness.storage.store import atomic_write_text

__all__ = ["FIGURES_DIR", "INDEX_NAME", "RESULTS_NAME", "RUNS_NAME", "render_from_json", "render_page",
           "write_report"]

INDEX_NAME = "index.html"


def render_page(results: Results, runs: list[dict], runs_note: str | None = None) -> tuple[str, Drawn]:
    """index.html's text (``templates/index.html``) and the figures it shows.  ``runs``: the per-epoch
    histories (``runs_note``: why there are none)."""
    drawn = Drawn()
    claims = anchors(results.claims)
    tests = list(results.claims)
    env = results.environment
    ctx = ClaimContext(sentences=lesson_claims(tests), fingerprint=env.fingerprint, experiments=results.experiments,
                       replayed=results.variants["replayed"] if "replayed" in results.variants else None,
                       curves=LearningCurves(runs, results.experiments, env.engine, runs_note), drawn=drawn)
    # in the page's order: a figure is drawn (and kept in ``drawn``) where its section is computed
    values = dict(
        interrupted=results.interrupted, replaced=results.replaced, counts=claim_counts(tests),
        where=", ".join(x for x in (env.fingerprint, env.engine and f"{env.engine} engine") if x),
        robustness=robustness_counts(tests), forest=forest(claims, drawn), summary=summary_table(claims),
        error_bound=error_bound_section(tests, results.familywise), readings_table=readings_section(claims),
        zone_sensitivity=zone_sensitivity(claims), amendment_moves=amendment_moves(claims),
        findings=findings(claims), replayed_order=replayed_order(claims, ctx.replayed),
        design=design_section(results.design), claims=[claim_section(anchor, c, ctx) for anchor, c in claims],
        lesson_figures_section=lesson_figures_section(results.claims, drawn), inside=inside_section(runs, drawn),
        certificate=certificate_section(results.certificate, env.machine), mutants=mutants_section(results.mutants),
        equivalence=equivalence_section(results.equivalence), drift=drift_section(results.drift),
        environment=environment_section(results.schema, results.suite_version, env),
        wall_time=wall_time_section(results.experiments), notes=notes_section(results.notes))
    return render.page(**values), drawn


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
