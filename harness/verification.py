"""The batched engine checked against a certificate: the plan of checks, and running them.

Used by every run (the pytest plugin), by ``python -m harness certify`` (which
records the results in the certificate) and by ``python -m harness mutants``
(which must see every mutant fail them).
"""
from __future__ import annotations

from . import equivalence
from .claims import Evidence


def accuracy_samples(name: str) -> dict[str, int]:
    """How many samples each accuracy key averages over (its one-sample tolerance)."""
    from . import experiments
    from .engines.common import split_for

    split = split_for(experiments.get(name))
    return {"accuracy": len(split.train_x), "val_accuracy": len(split.test_x)}


def plan(claims, cert, batched_seeds: int) -> dict:
    """Every distribution-level check the claims make, with the Bonferroni alpha
    each runs at and the smallest difference each can detect with these seeds."""
    checks = []
    for claim in claims:
        keras_ev = Evidence({e: cert.runs(e) for e in claim.experiments})
        outcomes = claim.decide(keras_ev).outcomes or {}
        for e in claim.experiments:
            checks.append({"claim": claim.id, "experiment": e, "metric": claim.metric, "outcome": e in outcomes,
                           "keras_values": keras_ev.values(e, claim.metric_fn).tolist(),
                           "keras_outcomes": [bool(x) for x in outcomes[e]] if e in outcomes else None})
    n_tests = sum(1 + c["outcome"] for c in checks)
    alpha = equivalence.check_alpha(n_tests)
    k = len(cert.seeds)
    return {
        "family_alpha": equivalence.FAMILY_ALPHA, "tests": n_tests, "check_alpha": alpha,
        "keras_seeds": k, "batched_seeds": batched_seeds, "power": equivalence.POWER,
        "detectable_superiority": equivalence.detectable_superiority(k, batched_seeds, alpha),
        "detectable_rate_difference": equivalence.detectable_rate_difference(k, batched_seeds, alpha),
        "smallest_mann_whitney_p": equivalence.smallest_p_mann_whitney(k, batched_seeds),
        "trajectory": {"seeds": list(equivalence.TRAJECTORY_SEEDS), "epochs": equivalence.TRAJECTORY_EPOCHS,
                       "epochs_by_experiment": dict(equivalence.TRAJECTORY_EPOCHS_BY_EXPERIMENT),
                       "rtol": equivalence.RTOL, "accuracy_tolerance": "one sample"},
        "checks": checks,
    }


def trajectory(cert, name: str, batched_runs) -> dict:
    """The trajectory seeds of a run (any epochs >= the window) against the certificate's references."""
    by_seed = {r.seed: r for r in batched_runs}
    seeds = list(equivalence.TRAJECTORY_SEEDS)
    missing = [s for s in seeds if s not in by_seed]
    if missing:
        raise ValueError(f"{name}: the run lacks trajectory seeds {missing}")
    keras = {r.seed: r for r in cert.runs(name)}
    return equivalence.trajectory(name, [keras[s] for s in seeds], [by_seed[s] for s in seeds],
                                  samples=accuracy_samples(name))


def distribution(cert, claim, batched: Evidence, alpha: float, keras_outcomes: dict | None = None,
                 batched_outcomes: dict | None = None) -> list[dict]:
    """The claim's metric (and per-seed outcomes, where its rule counts them) from the
    certificate's Keras runs against every batched seed of the run.  Outcomes already
    computed (the plan's Keras ones, the first look's batched ones) are passed in, so
    the rule is not run again for them."""
    keras_ev = Evidence({e: cert.runs(e) for e in claim.experiments})
    kd = keras_outcomes if keras_outcomes is not None else (claim.decide(keras_ev).outcomes or {})
    bd = batched_outcomes if batched_outcomes is not None else (claim.decide(batched).outcomes or {})
    return [equivalence.distribution(claim.id, e, claim.metric, keras_ev.values(e, claim.metric_fn),
                                     batched.values(e, claim.metric_fn), kd.get(e), bd.get(e), alpha=alpha)
            for e in claim.experiments]


def failure_message(result: dict) -> str:
    where = result.get("claim") or result["experiment"]
    return f"batched engine does not reproduce keras ({where}, {result['level']} check): {result['detail']}"
