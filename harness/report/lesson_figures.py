"""The lesson's own figures, redrawn from its code (and its 2.1.2.3 box plot from this run's seeds)."""
from __future__ import annotations

from harness.report import figures
from harness.report.figure_files import LESSON_FIGURES, Drawn
from harness.report.format import esc, link
from harness.results.model import ClaimResult

# The claims whose per-seed test MSE the lesson's 2.1.2.3 box plot shows (the first one found is drawn).
INPUT_SCALING_CLAIMS = ("input_scaling_normalized_better", "input_scaling_normalized_tighter")


def lesson_figures_section(claims: tuple[ClaimResult, ...], drawn: Drawn) -> str:
    histograms, scatter, boxplot = LESSON_FIGURES
    parts = ['<h2 id="lesson-figures">The lesson\'s own figures</h2>',
             "<p>Redrawn from the lesson's code, to compare with the figures it describes.</p>",
             "<h3>2.1.2: histograms of the regression inputs and target</h3>",
             drawn.show(histograms, figures.regression_histograms(), "histograms of feature 0, feature 1 and the "
                                                                      "target"),
             "<h3>2.2.3: the circles dataset, colored by class</h3>",
             drawn.show(scatter, figures.circles_scatter(), "scatter of make_circles colored by class"),
             '<h3 id="lesson-input-scaling">2.1.2.3: test MSE by input scaling</h3>']
    by_id = {c.id: c for c in claims}
    source = next((by_id[cid] for cid in INPUT_SCALING_CLAIMS
                   if cid in by_id and set(by_id[cid].metric_samples) & set(figures.INPUT_SCALING_LABELS)), None)
    if source is None:
        parts.append('<p class="muted">No claim ' + " or ".join(f"<code>{esc(c)}</code>" for c in INPUT_SCALING_CLAIMS)
                     + " with per-seed test MSE in this results file.</p>")
        return "\n".join(parts)
    samples = {k: v for k, v in source.metric_samples.items() if k in figures.INPUT_SCALING_LABELS}
    parts.append(f"<p>Per-seed test MSE of {link(source.id)}, 30 repeats per scaling in the lesson.</p>")
    parts.append(drawn.show(boxplot, figures.png(figures.input_scaling_figure(samples)),
                            "box plot of test MSE by input scaling"))
    return "\n".join(parts)
