"""lesson-claims harness: datasets, models, engines, run store, statistics and report."""

from .collect import all_claims
from .version import RESULTS_SCHEMA, __version__

__all__ = ["RESULTS_SCHEMA", "__version__", "all_claims", "check_claims"]


def __getattr__(name: str):
    # ``from harness import check_claims``: resolved on first use, so importing the package stays cheap
    # (no numpy, scipy or TensorFlow until a claim is collected or decided).
    if name == "check_claims":
        # local: keeps `import harness` standard-library only (.ci/run imports it with a bare system python)
        from .runner import check_claims

        return check_claims
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
