"""Deciding claims without pytest.

``check_claims()`` is to this suite what scikit-learn's ``check_estimator``
is to ``parametrize_with_checks``: it trains (or reads from the run store)
what each claim needs, checks the batched engine against its certificate,
decides every claim over the sequential looks, and returns typed
:class:`~harness.results.Results`.  The pytest plugin is a thin adapter over
:class:`ClaimRunner`: one ``decide`` per test, the outcome carried on the
test report, the same merge at the end.

Nothing here imports TensorFlow until something trains.
"""
from __future__ import annotations

import dataclasses
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from harness.certification import certificate as certlib
from harness.certification import provenance, sweep_check, windows
from harness.certification.windows import WindowError
from harness.results import drift, summaries
from harness.statistics import familywise as fwlib
from harness.statistics import power as powerlib
from harness.statistics import sequential
from harness.statistics.sequential import DESIGN_AMENDMENT
from . import spec as claimlib
from . import collect
from .training import catalog, devices, engines, environment, inside, orders, probes, records, sweeps
from . import results as res
from .run_notes import MULTIPLICITY, notes
from .storage.store import RunStore
from .version import __version__

# A profile bundles settings (as Hypothesis' profiles do); explicit options override it.
# The committed summaries of earlier runs: where the seeds a claim needed come from when this machine has
# no history of its own (seed_plan).
BASELINES = Path(__file__).resolve().parents[1] / "reports" / "baselines"

PROFILES: dict[str, dict] = {
    # 30 seeds (the lesson's n_repeats); undecided claims looked at again up to 1000 seeds.
    "default": {},
    # One look at 30 seeds: no sequential looks (a smoke run; claims may stay INCONCLUSIVE).
    "quick": {"max_seeds": 30},
    # The first look at 100 seeds, then 300 and 1000.
    "thorough": {"seeds": 100},
}


@dataclass(frozen=True)
class Settings:
    seeds: int = 30
    max_seeds: int | None = None  # None: 1000 with the batched engine, ``seeds`` with keras
    engine: str = "batched"
    batch_order: str = "lesson"  # harness.training.orders: the lesson's fresh order per epoch, or seeded Keras 3's replayed one
    store_dir: str = ".store"
    certificate_dir: str = "reports/certificates"
    fresh: bool = False
    profile: str = "default"
    # --claims-familywise: the claims also labelled under Holm's correction across the run at this level
    familywise: float | None = None

    @classmethod
    def from_profile(cls, name: str = "default", **overrides) -> "Settings":
        if name not in PROFILES:
            raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
        values = {**PROFILES[name], **{k: v for k, v in overrides.items() if v is not None}}
        return cls(profile=name, **values)

    def design(self):
        last = self.max_seeds or (max(self.seeds, sequential.LOOKS[-1]) if self.engine == "batched" else self.seeds)
        return sequential.design(self.seeds, max(last, self.seeds))


@dataclass
class ClaimOutcome:
    """One claim decided: its result, what the report needs beside it, and how the test ends."""

    result: res.ClaimResult
    # experiment -> {"info": {...}}: the histories stay in the run store, where the controller reads them
    # (:func:`stored_runs`); "runs" travels inline only where the store could not keep them.
    runs: dict[str, dict] = field(default_factory=dict)
    equivalence: list[res.EquivalenceCheck] = field(default_factory=list)
    drift: list[res.DriftResult] = field(default_factory=list)
    failure: AssertionError | None = None  # None: SUPPORTED and every check passed

    def encode(self) -> str:
        """What travels on the test report: the typed result, the runs' whereabouts and the checks."""
        return res.encode({"result": self.result, "runs": self.runs, "equivalence": self.equivalence,
                           "drift": self.drift})

    @classmethod
    def decode(cls, text: str) -> "ClaimOutcome":
        d = records.loads(text)
        return cls(res.as_type(res.ClaimResult, d["result"], "outcome"), d["runs"],
                   [res.as_type(res.EquivalenceCheck, e, "outcome equivalence") for e in d["equivalence"]],
                   [res.as_type(res.DriftResult, x, "outcome drift") for x in d["drift"]])


def estimate_seconds(engine: str, name: str, seeds: int, bench: Path | None = None) -> float | None:
    """What training ``seeds`` seeds of ``name`` should take, from the committed benchmark
    (reports/bench.json): linear between the seed counts it timed; None where it has no row."""
    path = bench or Path(__file__).resolve().parents[1] / "reports" / "bench.json"
    try:
        rows = {r["configuration"]: r for r in json.loads(path.read_text(encoding="utf-8"))["rows"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    row = rows.get(name)
    if row is None:
        return None
    if engine == "keras":
        return row.get("keras_seconds_per_seed") and row["keras_seconds_per_seed"] * seeds
    points = sorted((int(n), float(s)) for n, s in (row.get("batched_seconds_by_seeds") or {}).items())
    if not points:
        return None
    if seeds <= points[0][0]:
        return points[0][1]
    for (n0, s0), (n1, s1) in zip(points, points[1:]):
        if seeds <= n1:
            return s0 + (s1 - s0) * (seeds - n0) / (n1 - n0)
    (n0, s0), (n1, s1) = points[-2:] if len(points) > 1 else (points[0], points[0])
    return s1 * seeds / n1


def decided_in(claim, settings: Settings) -> bool:
    """Whether this run decides ``claim``: a claim of the thorough profile (a sweep) only there."""
    return claim.profile == "default" or settings.profile == claim.profile


def claim_design(claim, design):
    """The run's design, its last look capped at the claim's ``max_seeds`` (a sweep's many experiments)."""
    if not claim.max_seeds or design.looks[-1] <= claim.max_seeds:
        return design
    return sequential.design(design.looks[0], max(design.looks[0], claim.max_seeds))


def seed_plan(fingerprint: str, directories: Sequence[Path]) -> dict[str, int]:
    """experiment -> the most seeds any claim on it needed in the last decided run of this environment: its
    summary ``<fingerprint>.json`` in the first of ``directories`` that has one (this machine's history, then
    the committed baselines); {} where none has.  Only what to schedule first (the plugin): what is trained,
    and on which seeds each look decides, does not depend on it."""
    for directory in directories:
        path = Path(directory) / f"{fingerprint}.json"
        if not path.is_file():
            continue
        try:
            summary = summaries.load(path)
        except (summaries.SummaryError, OSError, ValueError):
            continue  # a plan is a guess: an unreadable one is no plan
        plan: dict[str, int] = {}
        for c in summary.claims:
            for e in c.experiments:
                plan[e] = max(plan.get(e, 0), int(c.seeds))
        return plan
    return {}


def expected_seconds(claim, plan: dict[str, int], first: int, engine: str = "batched") -> float:
    """What deciding ``claim`` should cost by ``plan`` (its experiments to the seeds they needed last time) and
    reports/bench.json: the longest claims start first (the plugin's schedule)."""
    return sum(estimate_seconds(engine, e, max(first, plan.get(e, first))) or 0.0 for e in claim.experiments)


_PAIRING = ("paired by seed: seed s of each experiment has the same data split and batch order (and the same "
            "initial weights where the architectures match)")


class ClaimRunner:
    """Runs for the claims, from the store or trained now, and each claim decided on them."""

    def __init__(self, settings: Settings, session: str | None = None, certificate=None,
                 baseline: tuple[str, res.Results] | None = None, on_train: Callable[[str], None] | None = None):
        self.settings = settings
        self.seeds = list(range(settings.seeds))
        self.engine = settings.engine
        self.environment = environment.describe()
        self.store = RunStore(settings.store_dir, self.environment["fingerprint"], session=session or uuid.uuid4().hex,
                              fresh=settings.fresh)
        self.design = settings.design()
        # (path, summary) of --claims-baseline
        self.baseline_path, self.baseline = baseline if baseline is not None else (None, None)
        self.on_train = on_train
        self._checked: set[str] = set()
        self._sent: set[str] = set()
        self.certificate = None
        self.batch_order = orders.check(settings.batch_order)
        # The store keeps each batch order's runs apart: the default under the engine's name.
        self.store_engine = self.engine if self.batch_order == orders.DEFAULT else f"{self.engine}+{self.batch_order}"
        if self.engine == "batched":
            self.certificate = certificate or certlib.find(Path(settings.certificate_dir), self.environment)

    # -- runs ---------------------------------------------------------------
    def train(self, exp, seeds):
        def compute(missing):
            start = time.perf_counter()
            if self.on_train:
                eta = estimate_seconds(self.engine, exp.name, len(missing))
                self.on_train(f"training {exp.name}: {len(missing)} seeds ({self.engine} engine"
                              + (f", about {eta:.0f} s by reports/bench.json)" if eta else ")"))
            # the batched engine's runs carry the probes inside training (harness.training.inside)
            runs = (inside.train(exp, missing, batch_order=self.batch_order) if self.engine == "batched"
                    else engines.train(self.engine, exp, missing, batch_order=self.batch_order))
            if self.on_train:
                self.on_train(f"trained {exp.name}: {len(missing)} seeds in {time.perf_counter() - start:.0f} s")
            return runs

        return self.store.get_or_compute(self.store_engine, exp.fingerprint, seeds, compute)

    def all_runs(self, name: str, checks: list | None = None):
        """The runs of ``name`` for the first look; before the batched engine's runs of a
        configuration are first used, its program is restarted from every window of the
        certificate and checked against Keras (:func:`harness.certification.windows.check`)."""
        runs = self.train(catalog.get(name), self.seeds)
        if self.engine == "batched" and name not in self._checked:
            certified = sweeps.same_as_suite(name) if catalog.is_sweep_point(name) else name
            if certified is None:  # a sweep point of its own: the reduced certificate
                result = res.as_type(res.EquivalenceCheck, res.to_data(self.sweep_result(name)), name)
                if checks is not None:
                    checks.append(result)
                if not result.passed:
                    raise windows.WindowError(result.detail)
            for check in (windows.check, windows.continuity) if certified else ():
                result = res.as_type(res.EquivalenceCheck, res.to_data(check(self.certificate, certified)), name)
                if checks is not None:
                    checks.append(result)
                if not result.passed:
                    raise windows.WindowError(self.window_blame(certified, result))
            self._checked.add(name)
        return runs

    def sweep_result(self, name: str) -> dict:
        """Sweep point ``name``'s row of the reduced certificate (harness.certification.sweep_check)."""
        directory = Path(self.settings.certificate_dir)
        try:
            doc = sweep_check.load(directory, self.environment["fingerprint"])
        except sweep_check.SweepCertificateError as exc:
            return {"experiment": name, "level": "sweep", "passed": False, "detail": str(exc)}
        return sweep_check.result(doc, name, str(sweep_check.path_for(directory, self.environment["fingerprint"])))

    def window_blame(self, name: str, result) -> str:
        """A window check that failed at run time, said with the certificate's file and which of the two the
        evidence points to: the certificate records whether the same window passed when it was made, with the
        same engine code (its digest is part of its validity), and on which machine."""
        cert = self.certificate.for_results()
        made = next((c for c in cert.get("checks") or [] if c.get("experiment") == name
                     and c.get("level") == result.level), None)
        theirs, ours = cert.get("machine") or {}, self.environment.get("machine") or {}
        text = (f"{name}: the batched engine does not reproduce the Keras references of the certificate "
                f"{cert['path']} ({result.detail})")
        if made is not None and made.get("passed"):
            if (theirs.get("cpu"), theirs.get("cpu_flags")) == (ours.get("cpu"), ours.get("cpu_flags")):
                text += ("; that check passed when the certificate was made, with this engine code on a machine like "
                         "this one, so the evidence points to the certificate (its references changed after it "
                         "was made), not to the engine")
            else:
                text += (f"; that check passed when the certificate was made on another machine ({theirs.get('cpu')}, "
                         f"here {ours.get('cpu')}): the evidence points to this machine's numerics, not to the engine")
        else:
            text += "; the certificate itself records this check as failed: the engine does not reproduce Keras"
        return text + (f". Remake the certificate here: rm {cert['path']} && python -m harness certify "
                       "(about 12-18 min on 2 cores)")

    def runs_upto(self, name: str, n: int):
        """Seeds 0..n-1 of ``name`` (a later look of the sequential design).  Trained look by look, never ahead:
        a seed's run depends, in its last float32 bits, on its position in the batch that trains it
        (docs/findings.md, 2026-12-01), so every run batches the seeds as the looks do (0-29, 30-99, 100-299,
        300-999) and gives the same numbers whichever worker trains them."""
        return self.train(catalog.get(name), list(range(n)))

    # -- one claim ----------------------------------------------------------
    def decide(self, claim) -> ClaimOutcome:
        out = ClaimOutcome(result=None)  # type: ignore[arg-type]
        trajectories: list[dict] = []
        first_runs = {}
        for e in claim.experiments:
            start = time.perf_counter()
            try:
                full = self.all_runs(e, trajectories)
            except WindowError:
                out.equivalence = trajectories
                raise
            first_runs[e] = full[:len(self.seeds)]
            if e not in self._sent:  # each experiment's runs travel once per runner
                self._sent.add(e)
                out.runs[e] = self._runs_entry(e, first_runs[e], time.perf_counter() - start)
        out.equivalence.extend(trajectories)
        first = claimlib.Evidence(first_runs)
        rule = claim.decide if self.engine == "batched" or not claim.inside else NotRecorded(claim.decide, claim.inside)
        design = claim_design(claim, self.design)
        looks = sequential.decide(
            rule, lambda n: first if n == len(self.seeds) else claimlib.Evidence(
                {e: self.runs_upto(e, n) for e in claim.experiments}), design)
        decision, final = looks[-1].decision, looks[-1].seeds
        evidence = first if final == len(self.seeds) else claimlib.Evidence(
            {e: self.runs_upto(e, final) for e in claim.experiments})
        samples = {e: evidence.values(e, claim.metric_fn).tolist() for e in claim.experiments}
        missed = (claim.expect.check(self.environment["fingerprint"], {"effect": decision.effect, "seeds": final})
                  + claim.expect.check_label(decision.label))
        probed = self.probe(claim, first)
        readings = self.read(claim, evidence, design.alpha)
        power = powerlib.detectable(claim.decide, decision, final)
        out.result = claim_result(claim, decision, looks, samples, design, missed, probed, readings,
                                  res.Power(**power) if power else None)
        out.failure = self._failure(claim, decision, out, missed, samples)
        return out

    def _failure(self, claim, decision, out: ClaimOutcome, missed, samples) -> AssertionError | Exception | None:
        failed = [c for c in out.equivalence if not c.passed]
        if failed:
            return WindowError(" | ".join(c.detail for c in failed) + f" ({claim.id}, window check)")
        if missed:
            return claimlib.ExpectationMissed(f"{claim.id}: " + "; ".join(missed)
                                              + f" (decided {decision.verdict.value}: {decision.detail})")
        drift_error = self.check_drift(claim, decision, samples, out)
        if drift_error:
            return drift_error
        try:
            claimlib.assert_supported(claim, decision)
        except AssertionError as exc:
            return exc
        return None

    def probe(self, claim, evidence) -> list[res.Probe]:
        """The claim's clipping probes on the first look's seeds (batched engine only: the probe is its program)."""
        if self.engine != "batched" or not claim.probes:
            return []
        return [res.Probe(**probes.clipping_engagement(e, list(range(len(self.seeds))), evidence.runs[e],
                                                        self.batch_order))
                for e in claim.probes]

    def read(self, claim, evidence, alpha: float | None = None) -> list[res.ReadingResult]:
        """Each alternative reading of the claim decided on the deciding look's runs (the primary's own), with
        the probes a reading reads attached to those runs (batched engine only: the probe is its program)."""
        out, alpha = [], alpha or self.design.alpha
        for reading in claim.readings:
            if reading.probes and self.engine != "batched":
                d = claimlib.Decision(verdict=claimlib.Verdict.INCONCLUSIVE, test="", p_value=None,
                                      alpha=alpha, effect_name="", effect=None,
                                      untestable=f"its probe ({', '.join(reading.probes)}) runs on the batched "
                                                 "engine only", detail="not testable here")
            elif reading.inside and self.engine != "batched":
                d = NotRecorded(reading.decide, reading.inside)(evidence, alpha=alpha)
            else:
                ev = evidence
                for name in reading.probes:
                    ev = claimlib.Evidence({e: self._with_probe(e, name, runs) for e, runs in ev.runs.items()})
                d = reading.decide(ev, alpha=alpha)
            out.append(res.ReadingResult(
                name=reading.name, words=reading.words, verdict=d.verdict, at_threshold=d.at_threshold,
                untestable=d.untestable, test=d.test, p_value=d.p_value, detail=d.detail, seeds=evidence.seeds,
                effect=effect_of(d)))
        return out

    def _with_probe(self, exp: str, name: str, runs):
        if name != "initial_gradient":
            raise ValueError(f"unknown probe {name!r}")
        rows = probes.initial_gradient(exp, [r.seed for r in runs], runs, self.batch_order)
        moved = [row["seed"] for row in rows if not row["same_as_suite_runs"]]
        if moved:
            raise RuntimeError(f"probe {name} on {exp}: the largest gradient differs from the runs' recorded "
                               f"init_grad_max_abs on seeds {moved[:5]}: the probe does not measure the suite's runs")
        return [dataclasses.replace(r, extra={**r.extra, name: row}) for r, row in zip(runs, rows)]

    def check_drift(self, claim, decision, samples, out: ClaimOutcome) -> AssertionError | None:
        """Against the baseline: a changed verdict or a metric moved beyond tolerance fails the claim."""
        if self.baseline is None:
            return None
        base, path = self.baseline, self.baseline_path
        entry = next((c for c in base.claims if c.id == claim.id), None)
        if entry is None:
            out.drift.append(drift.DriftResult(claim=claim.id, drifted=False, baseline=path,
                                               message=f"{claim.id}: not in baseline {path}"))
            return None
        same_rules = base.rules == claimlib.RULES
        results = []
        for e in claim.experiments:
            if e not in entry.metric_samples:
                continue
            r = drift.check(claim.id, e, claim.metric, entry.metric_samples[e], samples[e],
                            entry.verdict.value if same_rules else None, decision.verdict.value)
            message = r.message if same_rules else (
                r.message + f"; verdicts not compared: the baseline was decided under rules of "
                f"{base.rules or 'before ' + claimlib.RULES} ({entry.verdict.value} then)")
            results.append(dataclasses.replace(r, baseline=path, message=message))
        out.drift.extend(results)
        moved = [r.message for r in results if r.drifted]
        return drift.DriftError(f"regression against baseline {path}: " + " | ".join(moved)) if moved else None

    def _runs_entry(self, name: str, runs, seconds: float) -> dict:
        exp = catalog.get(name)
        entry = {"info": {"section": exp.section, "description": exp.description, "fingerprint": exp.fingerprint,
                          "engine": self.engine, "store": self.store_engine, "seeds": len(runs),
                          "wall_seconds": sum(r.wall_seconds for r in runs), "lookup_seconds": seconds,
                          "device": runs[0].device}}
        if any(self.store.read(self.store_engine, exp.fingerprint, r.seed) is None for r in runs):
            entry["runs"] = [r.to_dict() for r in runs]  # the store could not keep them: they travel
        return entry


@dataclass(frozen=True)
class NotRecorded:
    """A rule that reads probes recorded inside training, on an engine that records none: not testable here."""

    rule: Callable
    uses: tuple

    @property
    def threshold(self):
        return self.rule.threshold

    @property
    def zone(self):
        return self.rule.zone

    def __call__(self, ev, alpha: float, explain: bool = True):
        from harness.statistics.decisions import untestable

        probes = ", ".join(dict.fromkeys(u.quantity for u in self.uses))
        return untestable("", alpha, "", f"it reads probes inside training ({probes}), which the batched "
                          "engine records and this engine does not", settled=True, threshold=self.threshold,
                          zone=self.zone)


def stored_runs(store: RunStore, info: dict) -> list[dict]:
    """The first look's runs of one experiment, read back from the run store the workers wrote."""
    got = [store.read(info["store"], info["fingerprint"], seed) for seed in range(info["seeds"])]
    lost = [seed for seed, r in enumerate(got) if r is None]
    if lost:
        raise RuntimeError(f"run store {store.root}: the runs of {info['fingerprint']} (seeds {lost[:5]}...) that "
                           "this run's workers wrote are gone")
    return [r.to_dict() for r in got]


def effect_of(d) -> res.Effect:
    """A decision's effect with its interval (at 1 - 2 alpha), threshold and zone, as results carry it."""
    return res.Effect(name=d.effect_name, value=d.effect, ci_low=d.ci_low, ci_high=d.ci_high,
                      confidence=1 - 2 * d.alpha, threshold=d.threshold, zone=tuple(d.zone) if d.zone else None,
                      absolute=d.absolute)


def claim_result(claim, d, looks, samples: dict, design, missed: list[str], probed: list[res.Probe],
                 readings: Sequence[res.ReadingResult] = (), power: res.Power | None = None) -> res.ClaimResult:
    findings = list(d.findings) + [p.sentence + ("" if p.identical_to_suite_runs else
                                                 " (the probe's runs differ from the suite's!)") for p in probed]
    return res.ClaimResult(
        id=claim.id, section=claim.section, quote=claim.quote, interpretation=claim.interpretation, rule=claim.rule,
        verdict=d.verdict, expectation=claim.expect, expectation_missed=tuple(missed),
        test=d.test, statistic=d.statistic, p_value=d.p_value, alpha=d.alpha,
        effect=effect_of(d),
        at_threshold=d.at_threshold, untestable=d.untestable, zone_factor=d.zone_factor, counts=claim.counts,
        sentence=claim.sentence or claim.id, seeds=looks[-1].seeds, experiments=tuple(claim.experiments),
        metric=claim.metric, metric_threshold=claim.metric_threshold, metric_samples=samples,
        outcomes={e: list(v) for e, v in d.outcomes.items()} if d.outcomes else None,
        detail=d.detail, seeds_needed=d.seeds_needed, seeds_needed_for=d.seeds_needed_for, comparison=d.comparison,
        pairing=_PAIRING if d.comparison == "paired" else None, findings=tuple(findings), probes=tuple(probed),
        # each look's per-seed outcomes are the final ones' prefixes: kept once, on the result
        looks=tuple(dataclasses.replace(lk, decision=dataclasses.replace(lk.decision, outcomes=None))
                    for lk in looks),
        plan=design, amendments=tuple(claim.amendments), p_supported=d.p_supported, p_refuted=d.p_refuted,
        readings=tuple(readings), uncontested=claim.uncontested, power=power,
    )


# -- many claims ----------------------------------------------------------------

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


VARIANTS_DIR = Path(__file__).resolve().parents[1] / "reports" / "variants"


def variant_verdicts(fingerprint: str, batch_order: str, code_digest: str | None,
                     directory: Path = VARIANTS_DIR) -> dict[str, res.Variant]:
    """The committed verdicts of the same claims under the other batch order, in this environment
    (``reports/variants/replayed/<fingerprint>.json``, the summary of a ``--claims-batch-order=replayed``
    run), for the report's per-claim comparison; empty where there is none."""
    if batch_order != orders.DEFAULT:
        return {}
    path = Path(directory) / "replayed" / f"{fingerprint}.json"
    if not path.exists():
        return {}
    try:
        summary = summaries.load(path)
        theirs = summary.environment.code_digest
        if theirs != code_digest:  # a stored verdict never outlives the code that decided it
            raise summaries.SummaryError(
                f"{path}: decided by other engine code ({str(theirs)[:16]}, here {str(code_digest)[:16]}); "
                "re-run `pytest -n auto --claims-batch-order=replayed --claims-history-dir=reports/variants/replayed`")
    except summaries.SummaryError as exc:
        return {"replayed": res.Variant(path=str(path), error=str(exc))}
    try:
        shown = str(path.resolve().relative_to(VARIANTS_DIR.parents[1]))
    except ValueError:
        shown = str(path)
    return {"replayed": res.Variant(
        path=shown, rules=summary.rules, batch_order=summary.environment.batch_order,
        claims={c.id: res.VariantClaim(verdict=c.verdict, effect=c.effect, seeds=c.seeds, at_threshold=c.at_threshold,
                                       untestable=c.untestable) for c in summary.claims})}


def check_claims(claims=None, settings: Settings | None = None, progress: Callable[[str], None] | None = None,
                 baseline: tuple[str, res.Results] | None = None) -> tuple[res.Results, list]:
    """Decide ``claims`` (default: every claim of the suite) in this process and return the results
    and the per-epoch runs; nothing is asserted and nothing is written but the run store."""
    settings = settings or Settings()
    dev = devices.configure()
    claims = [c for c in (collect.all_claims() if claims is None else claims) if decided_in(c, settings)]
    start = time.time()
    runner = ClaimRunner(settings, baseline=baseline, on_train=progress)
    outcomes = []
    for i, claim in enumerate(claims, 1):
        outcome = runner.decide(claim)
        outcomes.append(outcome)
        if progress:
            r = outcome.result
            progress(f"[{i}/{len(claims)}] {r.label:<12} {r.id} ({r.seeds} seeds, {time.time() - start:.0f} s)")
    cert = runner.certificate.for_results() if runner.certificate else None
    return merge(outcomes, settings, certificate=cert, wall_seconds=time.time() - start, workers=1, devices=dev,
                 baseline_path=baseline[0] if baseline else None, mutants=None, session=runner.store.session)
