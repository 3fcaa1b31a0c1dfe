"""Many claims' outcomes into one run: the typed :class:`~harness.results.Results` and the per-epoch runs
of the sidecar (read back from the run store the workers wrote), with the design, the notes, the variants'
verdicts and, where asked, the family-wise labels."""
from __future__ import annotations

import uuid
from typing import Sequence

from harness.training import provenance
from harness.statistics import familywise as fwlib
from harness.statistics.sequential import DESIGN_AMENDMENT
from . import results as res
from . import spec as claimlib
from .outcome import ClaimOutcome
from .run_notes import MULTIPLICITY, notes
from .settings import Settings
from .storage.store import RunStore
from .training import environment
from .variants import variant_verdicts
from .version import __version__


def stored_runs(store: RunStore, info: dict) -> list[dict]:
    """The first look's runs of one experiment, read back from the run store the workers wrote."""
    got = [store.read(info["store"], info["fingerprint"], seed) for seed in range(info["seeds"])]
    lost = [seed for seed, r in enumerate(got) if r is None]
    if lost:
        raise RuntimeError(f"run store {store.root}: the runs of {info['fingerprint']} (seeds {lost[:5]}...) that "
                           "this run's workers wrote are gone")
    return [r.to_dict() for r in got]


def merge(outcomes: Sequence[ClaimOutcome], settings: Settings, *, certificate: dict | None, wall_seconds: float,
          workers: int, devices: dict | None, baseline_path: str | None, mutants: res.MutantsRun | None,
          session: str = "") -> tuple[res.Results, list]:
    """One :class:`Results` (and the per-epoch runs for the sidecar, read from the run store) from the
    outcomes of a run; ``session``: the run's id (``--fresh`` reads only what this run wrote)."""
    # the machine, with the threads each xdist worker trained on (or, in one process, this one's)
    env = environment.describe(workers=workers if workers > 1 else None)
    store = RunStore(settings.store_dir, env["fingerprint"], session=session or uuid.uuid4().hex,
                     fresh=settings.fresh and bool(session))
    claims = sorted((o.result for o in outcomes), key=lambda c: (c.section, c.id))
    runs, experiments_info, equivalence, drift_checks, fingerprints = [], {}, [], [], set()
    for o in outcomes:
        for name, entry in o.runs.items():
            if name not in experiments_info:
                experiments_info[name] = entry["info"]
                # a sweep point at the lesson's own depth is the same training as the suite's configuration:
                # its runs (stored under their first name) go into the sidecar once
                if entry["info"]["fingerprint"] not in fingerprints:
                    fingerprints.add(entry["info"]["fingerprint"])
                    runs.extend(entry["runs"] if "runs" in entry else stored_runs(store, entry["info"]))
        equivalence.extend(o.equivalence)
        drift_checks.extend(o.drift)
    # Under xdist each worker checks the windows of the experiments it uses: one row per
    # experiment (a failed one wins).
    checked: dict[tuple, res.EquivalenceCheck] = {}
    for row in equivalence:
        key = (row.experiment, row.level)
        if key not in checked or not row.passed:
            checked[key] = row
    env.update({"engine": settings.engine, "batch_order": settings.batch_order, "seeds": settings.seeds,
                "max_seeds": settings.design().looks[-1], "profile": settings.profile,
                "certificate": (certificate or {}).get("path"), "fresh": settings.fresh, "baseline": baseline_path,
                "wall_seconds": wall_seconds, "workers": workers, "devices": devices, "suite_version": __version__,
                "code_digest": provenance.record_digest(settings.engine) if settings.engine in ("batched", "keras")
                else None})
    environment_ = res.as_type(res.Environment, res.to_data(env), "environment")
    if certificate:  # a certificate that did not measure something says so by leaving it out
        certificate = {k: v for k, v in certificate.items() if v not in ({}, None)}
    results = res.Results(
        claims=tuple(claims), environment=environment_, suite_version=__version__,
        certificate=res.as_type(res.CertificateSummary, res.to_data(certificate), "certificate") if certificate
        else None,
        mutants=mutants,
        experiments={k: res.ExperimentRun(**v) for k, v in sorted(experiments_info.items())},
        equivalence=tuple(checked[k] for k in sorted(checked, key=lambda k: (k[0], str(k[1])))),
        drift=tuple(drift_checks),
        notes=tuple(notes(claims, runs)),
        design=res.SuiteDesign(sequential=settings.design(), multiplicity=MULTIPLICITY,
                               amendments=(DESIGN_AMENDMENT,)),
        rules=claimlib.RULES, variants=variant_verdicts(environment_.fingerprint, settings.batch_order,
                                                        environment_.code_digest),
        familywise=familywise(claims, settings.familywise) if settings.familywise else None,
    )
    return results, sorted(runs, key=lambda r: (r["experiment"], r["seed"]))


def familywise(claims: Sequence[res.ClaimResult], alpha: float) -> res.Familywise:
    """The run's tests labelled again under Holm's correction at family-wise level ``alpha``: from each test's
    recorded looks (their two one-sided p's), nothing trained."""
    tests = {}
    for c in claims:
        planned = 2 * len(c.plan.looks) if c.plan else 2
        looks = [(lk.decision.p_supported, lk.decision.p_refuted) for lk in c.looks] or [(c.p_supported,
                                                                                          c.p_refuted)]
        p, side = fwlib.adjusted(looks, planned)
        tests[c.id] = (c.label, p, side)
    labels = fwlib.relabel(tests, fwlib.check_alpha(alpha))
    return res.Familywise(alpha=alpha, method=fwlib.METHOD, tests=len(tests), labels=labels,
                          p_values={t: v[1] for t, v in tests.items()})

