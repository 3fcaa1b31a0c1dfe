"""The evidence report: one HTML page (and its figures) rendered from the typed results model."""
from harness.report.claim import claim_outcomes, claim_samples, effect_threshold
from harness.report.figure_files import FIGURES_DIR
from harness.report.format import P_FLOOR, fmt_num, fmt_p, fmt_seconds
from harness.report.labels import (TAGS, belongs, counts_text, direction, error_bound_text, expected_of, lesson_claims,
                                   lesson_label, old_label, readings_text, reader_label, robustness_counts)
from harness.report.page import INDEX_NAME, RESULTS_NAME, RUNS_NAME, render_from_json, write_report, write_run

__all__ = ["FIGURES_DIR", "INDEX_NAME", "P_FLOOR", "RESULTS_NAME", "RUNS_NAME", "TAGS", "belongs", "claim_outcomes",
           "claim_samples", "counts_text", "direction", "effect_threshold", "error_bound_text", "expected_of",
           "fmt_num", "fmt_p", "fmt_seconds", "lesson_claims", "lesson_label", "old_label", "readings_text",
           "reader_label", "render_from_json", "robustness_counts", "write_report", "write_run"]
