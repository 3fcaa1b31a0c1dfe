"""Deciding claims without pytest.

``check_claims()`` is to this suite what scikit-learn's ``check_estimator``
is to ``parametrize_with_checks``: it trains (or reads from the run store)
what each claim needs, checks the batched engine against its certificate,
decides every claim over the sequential looks, and returns typed
:class:`~harness.results.Results`.  The pytest plugin is a thin adapter over
:class:`ClaimRunner`: one ``decide`` per test, the outcome carried on the
test report, the same merge at the end (:mod:`harness.merge`).

Nothing here imports TensorFlow until something trains.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
import time
import uuid
from pathlib import Path
from typing import Callable, Sequence

from harness.certification import certificate as certlib
from harness.certification import sweep_check, windows
from harness.certification.windows import WindowError
from harness.results import drift
from harness.statistics import power as powerlib
from harness.statistics import sequential
from . import spec as claimlib
from . import collect
from .merge import merge
from .outcome import ClaimOutcome
from .schedule import estimate_seconds
from .settings import Settings, claim_design, decided_in
from .training import catalog, devices, engines, environment, inside, orders, probes, sweeps
from . import results as res
from .storage.store import RunStore


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
                       "(its cost: docs/costs.md)")

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

