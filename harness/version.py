"""The suite's version and the results schema it writes: a leaf module, so nothing imports the package
itself to learn them (no import circle through ``harness/__init__``)."""

__version__ = "0.3.0"
# Results files carry this; `harness compare` refuses files of another schema.
RESULTS_SCHEMA = "lesson-claims/results/3"  # harness.results: the typed model and its codec
