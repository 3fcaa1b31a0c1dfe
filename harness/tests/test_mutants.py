"""The certificate checks against semantic mutants, end to end on one cheap
configuration.  The references here are the batched engine's own runs (a real
certificate holds Keras', see test_certificate.py): the unmutated engine must
pass every check against them, and each mutant must be killed by the check
meant for it, at the epoch and with the values it names."""
from __future__ import annotations

import pytest

from harness import certificate, claimset, mutants, verification

NAME = "reg_target_standard"  # 100 epochs, one hidden layer: seconds to train


@pytest.fixture(scope="module")
def setting():
    from harness import devices

    devices.configure()
    from harness import experiments
    from harness.engines import batched

    refs = batched.train(experiments.get(NAME), list(certificate.SEEDS))
    cert = certificate.Certificate(None, {
        "seeds": list(certificate.SEEDS), "environment": {"device": "cpu"},
        "experiments": {NAME: {"fingerprint": experiments.get(NAME).fingerprint,
                               "runs": [certificate.encode_run(r) for r in refs]}}})
    claims = [c for c in claimset.all_claims() if set(c.experiments) == {NAME}]
    assert claims, "claims on the standardized-target configuration"
    return cert, claims, verification.plan(claims, cert, 20)


def _by_name():
    return {m.name: m for m in mutants._mutants()}


def test_the_unmutated_engine_passes_every_check(setting):
    from harness.engines.batched import Program

    cert, claims, plan = setting
    row = mutants.run_mutant(mutants.Mutant("none", "the engine as it is", Program), cert, claims, plan, 20)
    assert not row["killed"], row["detail"]


@pytest.mark.parametrize("name, check", [("learning_rate_x1.01", "trajectory"),
                                         ("last_partial_batch_dropped", "trajectory"),
                                         ("momentum_dropped_after_20", "distribution")])
def test_mutants_are_killed_by_their_check(setting, name, check):
    cert, claims, plan = setting
    row = mutants.run_mutant(_by_name()[name], cert, claims, plan, 20)
    assert row["killed"] and row["check"] == check and row["configuration"] == NAME, row
    if check == "trajectory":
        assert row["epoch"] is not None and "keras" in row["detail"] and "batched" in row["detail"]


def test_the_mutant_list_covers_the_required_semantics():
    names = set(_by_name())
    assert len(names) >= 8
    assert {"momentum_dropped", "momentum_dropped_after_20", "clipnorm_global", "clipvalue_ignored",
            "last_partial_batch_dropped", "other_seeds_batch_order", "learning_rate_x1.01",
            "accuracy_threshold_0.51"} <= names


def test_table_ends_with_the_counts():
    rows = [{"mutant": "a", "killed": True, "check": "trajectory", "configuration": "c", "epoch": 1, "detail": "d"},
            {"mutant": "b", "killed": False, "check": None, "configuration": None, "epoch": None, "detail": "x"}]
    table = mutants.format_table(rows)
    assert table.splitlines()[-1] == "killed: 1, survived: 1" and "SURVIVED" in table
