"""Are two runs of the same seed the same run?  Bit for bit: what the probes check of their own runs
against the suite's, and what a claim's spec (:func:`harness.spec.identical_runs`) counts between two
configurations.  NumPy only: the claims import it without TensorFlow."""
from __future__ import annotations

import math

import numpy as np

from .records import RunRecord


def identical_runs(a: list[RunRecord], b: list[RunRecord]) -> int:
    """Seeds whose two runs are bit-identical: every History value of every epoch and every final metric."""
    def same(x, y) -> bool:
        if x.history.keys() != y.history.keys() or x.metrics.keys() != y.metrics.keys():
            return False
        for k in x.history:
            if not np.array_equal(np.asarray(x.history[k], float), np.asarray(y.history[k], float), equal_nan=True):
                return False
        return all(x.metrics[k] == y.metrics[k] or (isinstance(x.metrics[k], float) and isinstance(y.metrics[k], float)
                                                    and math.isnan(x.metrics[k]) and math.isnan(y.metrics[k]))
                   for k in x.metrics)

    return sum(same(x, y) for x, y in zip(a, b))
