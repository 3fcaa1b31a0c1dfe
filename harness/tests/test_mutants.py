"""The window check against semantic mutants, end to end on one cheap
configuration.  The certificate here is the batched engine against itself
(:mod:`harness.tests.selfcert`; a real one holds Keras', see test_certificate.py):
the unmutated engine must pass every window, and each mutant must be killed by
the window in which it starts to act, naming seed, checkpoint, key and epoch."""
from __future__ import annotations

import pytest

from harness.certification import mutant_check, windows
from harness.training import mutants
from harness.tests import selfcert

NAME = selfcert.CHEAP  # reg_target_standard: 100 epochs, one hidden layer: seconds to train


@pytest.fixture(scope="module")
def cert():
    from harness.training import devices

    devices.configure()
    return selfcert.certificate_for((NAME,))


def _by_name():
    return {m.name: m for m in mutants.all_mutants()}


def test_the_unmutated_engine_passes_every_window(cert):
    from harness.training.engines.batched import Program

    result = windows.check(cert, NAME)
    assert result["passed"] and result["level"] == "window", result["detail"]
    assert result["windows"] == 3 * 10 + 3 * 4 and result["max_rel_diff"] < windows.RTOL
    row = mutant_check.run_mutant(mutants.Mutant("none", "the engine as it is", Program), cert)
    assert not row["killed"] and row["check"] is None, row["detail"]


# (mutant, the checkpoint of the first window it breaks: where it starts to act)
KILLS = [("learning_rate_x1.01", 0), ("other_seeds_initial_weights", 0),
         ("late_learning_rate_x1.01", 20), ("late_momentum_0.89", 40), ("late_stale_batch_order", 30)]


@pytest.mark.parametrize("name, checkpoint", KILLS, ids=[k[0] for k in KILLS])
def test_mutants_are_killed_where_they_act(cert, name, checkpoint):
    mutant = _by_name()[name]
    row = mutant_check.run_mutant(mutant, cert)
    assert row["killed"] and row["check"] == "window" and row["configuration"] == NAME, row
    assert set(row) >= {"mutant", "description", "late", "killed", "check", "configuration", "seed", "checkpoint",
                        "epoch", "key", "detail", "seconds"}
    # the windows before it acts restart from the right states and pass: the first failure is
    # in the window where it starts, on the first trajectory seed
    assert row["seed"] == 0 and row["checkpoint"] == checkpoint, row
    assert row["late"] == name.startswith("late_")
    if row["epoch"] is not None:
        assert checkpoint < row["epoch"] <= checkpoint + windows.window_epochs(NAME)
    if mutant.late:
        assert row["checkpoint"] >= 20 and row["epoch"] is not None and row["epoch"] > 20
    assert "keras" in row["detail"] and "batched" in row["detail"] and f"checkpoint epoch {checkpoint}" in row["detail"]


def test_an_early_mutant_fails_every_trajectory_seeds_first_window(cert):
    result = windows.check(cert, NAME, program=_by_name()["learning_rate_x1.01"].program)
    assert not result["passed"] and result["checkpoint"] == 0 and result["epoch"] == 1, result["detail"]
    # one failed window per (seed, checkpoint): a 1% learning rate breaks every window
    assert result["failed_windows"] == result["windows"] == 42


def test_the_mutant_list_covers_the_required_semantics():
    by_name = _by_name()
    assert len(by_name) == 15
    assert {"momentum_dropped", "momentum_dropped_after_20", "clipnorm_global", "clipvalue_ignored",
            "last_partial_batch_dropped", "other_seeds_batch_order", "other_seeds_initial_weights",
            "learning_rate_x1.01", "accuracy_threshold_0.51"} <= set(by_name)
    late = {n for n, m in by_name.items() if m.late}
    assert late == {n for n in by_name if n.startswith("late_")} and len(late) == 6


def test_a_mutant_that_counts_epochs_per_call_escapes_the_windows_and_dies_by_continuity(cert):
    """Windows restart the program, so they see only its first epochs of a call: a learning rate
    that changes from 20% of the epochs counted per call never acts in them.  The continuity check
    (one long call against its own restarts) kills it, in the window where it starts to act."""
    mutant = _by_name()["late_learning_rate_by_call_epoch"]
    assert windows.check(cert, NAME, program=mutant.program)["passed"]
    row = mutant_check.run_mutant(mutant, cert)
    assert row["killed"] and row["check"] == "continuity" and row["checkpoint"] == 20 and row["epoch"] == 21, row
    assert windows.continuity(cert, NAME)["passed"] and windows.continuity(cert, NAME)["ran"]


def test_continuity_is_not_run_where_training_is_chaotic(cert):
    import copy

    chaotic = copy.copy(cert)
    chaotic.data = {**cert.data, "checks": [{"experiment": NAME, "level": "window", "max_rel_diff": 1e-2}]}
    result = windows.continuity(chaotic, NAME)
    assert result["passed"] and not result["ran"] and "not run: chaotic" in result["detail"]


def test_table_ends_with_the_counts_and_names_seed_and_checkpoint():
    rows = [{"mutant": "a", "killed": True, "check": "window", "configuration": "c", "seed": 0, "checkpoint": 20,
             "epoch": 21, "key": "loss", "detail": "d"},
            {"mutant": "b", "killed": False, "check": None, "configuration": None, "seed": None, "checkpoint": None,
             "epoch": None, "key": None, "detail": "x"}]
    table = mutant_check.format_table(rows)
    header, first = table.splitlines()[:2]
    assert "seed" in header and "checkpoint" in header
    assert first.split() == ["a", "killed", "window", "c", "0", "20", "21", "loss"]
    assert table.splitlines()[-1] == "killed: 1, survived: 1" and "SURVIVED" in table

