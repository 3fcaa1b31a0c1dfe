"""Custom claim rules on constructed evidence: the sign of the effect and of its interval."""
from __future__ import annotations

import numpy as np
import pytest

from claims import test_gradient_clipping as clipping
from harness.claims import Evidence
from harness.records import RunRecord


def _runs(name, log10_mse):
    return [RunRecord(name, "fp", s, "batched", 1, {"loss": [1.0]}, {"test_loss": float(10 ** v)})
            for s, v in enumerate(log10_mse)]


@pytest.mark.parametrize("shift", [-0.3, 0.0, 0.3])
def test_no_improvement_effect_lies_inside_its_interval_with_the_right_sign(shift):
    rng = np.random.default_rng(1)
    base = rng.normal(-2.0, 0.2, 30)
    clip = base - shift + rng.normal(0, 0.05, 30)  # shift > 0: clipping lowers the MSE (an improvement)
    d = clipping._no_improvement("reg_scaled_clipnorm")(Evidence({"reg_target_standard": _runs("b", base),
                                                                  "reg_scaled_clipnorm": _runs("c", clip)}))
    assert d.ci_low <= d.effect <= d.ci_high
    assert np.sign(d.effect) == np.sign(shift) or shift == 0.0
    if shift > 0:
        assert d.ci_low > 0 and d.verdict.value == "REFUTED"  # a real improvement beyond the margin
    if shift < 0:
        assert d.ci_high < 0 and d.verdict.value == "SUPPORTED"  # clipping is worse: no improvement
