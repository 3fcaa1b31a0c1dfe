"""The clipping probe: counts engagements without changing the run."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def tf_ready():
    from harness.training import devices

    devices.configure()


def test_probe_counts_clipping_and_leaves_the_runs_unchanged(tf_ready):
    from harness.training import experiments, probes
    from harness.training.engines import batched

    seeds = [0, 1, 2]
    value = experiments.get("reg_scaled_clipvalue").with_epochs(5)
    norm = experiments.get("reg_scaled_clipnorm").with_epochs(5)
    experiments.EXPERIMENTS["_probe_value"] = value
    experiments.EXPERIMENTS["_probe_norm"] = norm
    try:
        never = probes.clipping_engagement("_probe_value", seeds, batched.train(value, seeds))
        often = probes.clipping_engagement("_probe_norm", seeds, batched.train(norm, seeds))
    finally:
        experiments.EXPERIMENTS.pop("_probe_value")
        experiments.EXPERIMENTS.pop("_probe_norm")
    steps = 3 * 5 * 16  # seeds x epochs x steps per epoch (500 training samples: 15 batches of 32 + 1 partial)
    assert never["seed_steps"] == steps and never["steps_changed"] == 0
    assert never["identical_to_suite_runs"] is True
    assert often["steps_changed"] > 0 and often["identical_to_suite_runs"] is True  # it can say yes
    with pytest.raises(ValueError, match="does not clip"):
        probes.clipping_engagement("reg_target_standard", seeds)
