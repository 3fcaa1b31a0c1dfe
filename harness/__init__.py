"""lesson-claims harness: datasets, models, engines, run store, statistics and report."""

from .version import RESULTS_SCHEMA, __version__

__all__ = ["RESULTS_SCHEMA", "__version__", "all_claims", "check_claims"]


def __getattr__(name: str):
    # ``from harness import check_claims, all_claims``: resolved on first use, so importing the package
    # stays cheap (no scipy, statsmodels or TensorFlow until a claim is collected or decided).
    if name == "all_claims":
        from .claimset import all_claims

        return all_claims
    if name == "check_claims":
        from .runner import check_claims

        return check_claims
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
