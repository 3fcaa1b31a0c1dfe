"""The lesson's own figures, redrawn from its code (and its 2.1.2.3 box plot from this run's seeds); laid out by
``templates/lesson_figures.html``."""
from __future__ import annotations

from harness.report import figures
from harness.report.figure_files import LESSON_FIGURES, Drawn
from harness.results.model import ClaimResult

# The claims whose per-seed test MSE the lesson's 2.1.2.3 box plot shows (the first one found is drawn).
INPUT_SCALING_CLAIMS = ("input_scaling_normalized_better", "input_scaling_normalized_tighter")


def lesson_figures_section(claims: tuple[ClaimResult, ...], drawn: Drawn) -> dict:
    """The lesson's histograms and scatter, and its box plot where a claim holds the per-seed test MSE."""
    histograms, scatter, boxplot = LESSON_FIGURES
    out = {"histograms": drawn.show(histograms, figures.regression_histograms(), "histograms of feature 0, "
                                                                               "feature 1 and the target"),
           "scatter": drawn.show(scatter, figures.circles_scatter(), "scatter of make_circles colored by class"),
           "wanted": INPUT_SCALING_CLAIMS, "source": None, "boxplot": None}
    by_id = {c.id: c for c in claims}
    source = next((by_id[cid] for cid in INPUT_SCALING_CLAIMS
                   if cid in by_id and set(by_id[cid].metric_samples) & set(figures.INPUT_SCALING_LABELS)), None)
    if source is not None:
        samples = {k: v for k, v in source.metric_samples.items() if k in figures.INPUT_SCALING_LABELS}
        out["source"] = source.id
        out["boxplot"] = drawn.show(boxplot, figures.png(figures.input_scaling_figure(samples)),
                                    "box plot of test MSE by input scaling")
    return out
