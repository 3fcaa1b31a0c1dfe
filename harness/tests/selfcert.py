"""A certificate of the batched engine against itself, for the harness's own tests.

A real certificate holds Keras' references (``python -m harness certify``, minutes
of Keras training).  These tests need the machinery, not Keras: the trajectory
seeds' "Keras" side here is the batched engine's own continuous run (its state at
every checkpoint and its History of the window after it), and the later looks'
windows are its states at 20-80% of the run with the History it went on with; the
chaos envelopes are measured as ``python -m harness certify`` measures them.
The unmutated engine, restarted from each window (:func:`harness.certification.windows.check`),
must reproduce them; a mutant must not.

Also a pytest plugin (``-p harness.tests.selfcert``) for subprocess runs of the
claims: with ``LESSON_CLAIMS_SELF_CERT=<configurations>`` in the environment it
makes the run use a self-certificate of those configurations instead of looking
up this environment's real one.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

CHEAP = "reg_target_standard"  # 100 epochs, one hidden layer: seconds to train
FINAL_KEYS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "test_rmse_original_units")


def engine_windows(exp, seeds, checkpoints, source: str) -> tuple[list, list[dict]]:
    """(the batched runs, their windows at ``checkpoints``): state and the History after it."""
    from harness.certification import certificate, windows
    from harness.training.engines import batched

    w = windows.window_epochs(exp.name)
    runs = batched.train(exp, list(seeds), checkpoints=tuple(checkpoints))
    rows = [(r.seed, c, r.extra["states"][c]) for r in runs for c in checkpoints]
    envelopes = windows.envelopes(exp, rows, w)  # as certify measures them
    out = []
    for (seed, c, state), envelope in zip(rows, envelopes):
        r = next(r for r in runs if r.seed == seed)
        last = c + w == exp.epochs
        final = {k: r.metrics[k] for k in FINAL_KEYS if k in r.metrics} if last else None
        grad0 = r.metrics["init_grad_max_abs"] if c == 0 and source == "keras" else None
        out.append(certificate.encode_window(seed, c, source, state, {k: v[c:c + w] for k, v in r.history.items()},
                                             final, grad0, envelope))
    return runs, out


@functools.lru_cache(maxsize=None)
def build(names: tuple[str, ...] = (CHEAP,), later: bool = True) -> dict:
    """The certificate's data (schema 2, checksummed), for this environment."""
    from harness.certification import certificate, windows
    from harness.training import environment, experiments

    refs, wins = {}, {}
    for name in names:
        exp = experiments.get(name)
        refs[name], wins[name] = engine_windows(exp, certificate.SEEDS, windows.checkpoints(exp), "keras")
        if later:
            wins[name] += engine_windows(exp, windows.LATER_SEEDS, windows.later_checkpoints(exp), "batched")[1]
    plan = {"windows": {"trajectory_seeds": list(certificate.SEEDS), "later_seeds": list(windows.LATER_SEEDS),
                        "later_fractions": list(windows.LATER_FRACTIONS),
                        "window_epochs": {n: windows.window_epochs(n) for n in names}, "rtol": windows.RTOL}}
    # The engine against itself is exact: a calm certificate, so the continuity check runs on it.
    checks = [{"experiment": n, "level": "window", "passed": True, "max_rel_diff": 0.0} for n in names]
    return certificate.build(environment.describe(), refs, wins, checks=checks, plan=plan, seed_independence={},
                             cost={"keras_core_seconds": 0.0}, created="2026-11-30T00:00:00+00:00")


def certificate_for(names: tuple[str, ...] = (CHEAP,), path: Path | None = None, later: bool = True):
    """A :class:`harness.certification.certificate.Certificate` of ``names`` (not verified by ``load``, which
    wants every configuration: the runner only reads the ones it checks)."""
    from harness.certification import certificate

    data = build(tuple(names), later)
    return certificate.Certificate(Path(path) if path else Path("self-certificate.json"), data)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    names = os.environ.get("LESSON_CLAIMS_SELF_CERT")
    if not names:
        return
    from harness.certification import certificate

    def find(directory, environment, experiment_names=None):  # built when the run looks it up
        from harness.training import devices

        devices.configure()
        return certificate_for(tuple(names.split(",")))

    certificate.find = find


def refined_windows(exp, seed: int, checkpoint: int) -> list[dict]:
    """The window of ``seed`` at ``checkpoint`` re-recorded as one-epoch windows, as
    :func:`harness.certification.references.refined_windows` records Keras', from the engine's own states."""
    from harness.certification import certificate, windows
    from harness.training.engines import batched

    w, r = windows.window_epochs(exp.name), windows.REFINED_EPOCHS
    epochs = tuple(range(checkpoint, checkpoint + w, r))
    run = batched.train(exp, [seed], checkpoints=epochs)[0]
    rows = [(seed, e, run.extra["states"][e]) for e in epochs]
    out = []
    for (s, e, state), envelope in zip(rows, windows.envelopes(exp, rows, r)):
        final = {k: run.metrics[k] for k in FINAL_KEYS if k in run.metrics} if e + r == exp.epochs else None
        out.append(certificate.encode_window(s, e, "keras", state, {k: v[e:e + r] for k, v in run.history.items()},
                                             final, None, envelope, parent=(seed, checkpoint)))
    return out
