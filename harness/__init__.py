"""lesson-claims harness: datasets, models, engines, run store, statistics and report."""

__version__ = "0.3.0"
# Results files carry this; `harness compare` refuses files of another schema.
RESULTS_SCHEMA = "lesson-claims/results/2"  # harness.results: the typed model and its codec
