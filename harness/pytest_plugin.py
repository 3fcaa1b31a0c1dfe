"""The suite's pytest plugin: options, the run provider, and the report.

Registered from the root ``conftest.py``.  Options and markers live here and
nowhere else.  Under xdist each worker decides its claims and writes one part
file per claim, per experiment and per equivalence check into
``<report-dir>/.parts``; the controller merges them into ``results.json`` and
the HTML report at the end of the session.
"""
from __future__ import annotations

import argparse
import os
import shutil
import time
import uuid
from pathlib import Path

import pytest

from . import RESULTS_SCHEMA, __version__, claims as claimlib, devices, records
from .store import RunStore, atomic_write_text

PARTS = ".parts"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def pytest_addoption(parser):
    g = parser.getgroup("lesson-claims")
    g.addoption("--seeds", type=_positive_int, default=30, metavar="N",
                help="seeds per experiment (seeds 0..N-1; default 30, the lesson's n_repeats); at most what this "
                     "machine's memory holds at about 4 MiB per seed (the controller keeps every seed's learning "
                     "curves of all configurations to write results.json; see harness/options.py)")
    g.addoption("--max-seeds", type=_positive_int, default=None, metavar="N",
                help="the sequential design's last look: a claim still undecided at --seeds is decided again at "
                     "100, 300 and 1000 seeds (those <= N) until decided; default 1000 with the batched engine, "
                     "--seeds (no further looks) with --engine keras; --max-seeds equal to --seeds turns looks off")
    g.addoption("--report-dir", default="reports", metavar="DIR",
                help="where index.html, results.json and the figures go (default: reports)")
    g.addoption("--fresh", action="store_true", help="ignore the run store: retrain everything this run needs")
    g.addoption("--engine", choices=("batched", "keras"), default="batched",
                help="batched: all seeds as one TF program, checked in every run against this environment's "
                     "certificate of Keras references (default); keras: the lesson's literal Sequential + fit, "
                     "one model per seed (no certificate needed)")
    g.addoption("--store-dir", default=".store", metavar="DIR", help="the run store (default: .store)")
    g.addoption("--certificate-dir", default="reports/certificates", metavar="DIR",
                help="where engine certificates are looked up, <environment fingerprint>.json (default: "
                     "reports/certificates; make one with `python -m harness certify`)")
    g.addoption("--baseline", default=None, metavar="FILE",
                help="a summary or results.json of an earlier run (reports/baselines/*.json): each claim's "
                     "deciding metric is compared with it and a drift beyond tolerance, or a changed verdict, "
                     "fails the claim")
    g.addoption("--history-dir", default=None, metavar="DIR",
                help="where each run saves its summary as <environment fingerprint>.json (default: "
                     "<report-dir>/history), the input of `python -m harness compare`")


def pytest_configure(config):
    config.addinivalue_line("markers", "claim: a lesson claim decided over many seeds")
    worker = getattr(config, "workerinput", None)
    if config.option.help or config.option.version:
        return  # nothing will run: no TensorFlow import, no checks
    from . import options

    options.validate(config)  # every option, before any work: a UsageError naming the option
    # Pin this worker's GPU and size TF's thread pools before TensorFlow is imported.
    config._lc_devices = devices.configure()
    report_dir = Path(config.getoption("report_dir"))
    if worker is None:
        config._lc_session = uuid.uuid4().hex
        options.start_run(config)  # clean dead runs' leftovers; claim this session's parts folder
        config._lc_started = time.time()
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(_XdistHooks(), "lesson-claims-xdist")
    else:
        config._lc_session = worker["lc_session"]
    config._lc_baseline = None
    if config.getoption("baseline"):
        from . import baseline

        try:  # a bad baseline stops the run here, before any training
            config._lc_baseline = baseline.load(Path(config.getoption("baseline")))
        except baseline.SummaryError as exc:
            raise pytest.UsageError(f"--baseline: {exc}") from None
    config._lc_certificate = config._lc_certificate_obj = None
    if worker is None and config.getoption("engine") == "batched" and _collects_claims(config):
        from . import certificate, environment

        try:  # no, or a bad, certificate stops the run here, before any training
            cert = certificate.find(Path(config.getoption("certificate_dir")), environment.describe())
        except certificate.CertificateError as exc:
            raise pytest.UsageError(f"--certificate-dir: {exc}") from None
        config._lc_certificate, config._lc_certificate_obj = cert.summary(), cert


def pytest_report_header(config):
    cert = getattr(config, "_lc_certificate", None)
    line = f"lesson-claims: engine {config.getoption('engine')}, {config.getoption('seeds')} seeds"
    if cert:
        line += (f", certificate {cert['path']} ({len(cert['seeds'])} Keras seeds per configuration, "
                 f"{cert['plan']['tests']} distribution tests at alpha {cert['plan']['check_alpha']:.2g})")
    return line


def _collects_claims(config) -> bool:
    """False when the session only runs the harness's own tests (they need no certificate)."""
    args = [a for a in config.args if not a.startswith("-")] or list(config.getini("testpaths"))
    return any(Path(a.split("::")[0]).resolve().is_relative_to(Path(str(config.rootpath), "claims").resolve())
               or Path(str(config.rootpath), "claims").resolve().is_relative_to(Path(a.split("::")[0]).resolve())
               for a in args)


def _history_dir(config) -> Path:
    return Path(config.getoption("history_dir") or Path(config.getoption("report_dir")) / "history")


def _parts_dir(config) -> Path:
    # One folder per session, so a second pytest run (the harness tests, say)
    # never touches the parts of a claims run in progress.
    return Path(config.getoption("report_dir")) / PARTS / config._lc_session


class _XdistHooks:
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):
        node.workerinput["lc_session"] = node.config._lc_session


@pytest.hookimpl(optionalhook=True)  # an xdist hook: the plugin also works with -p no:xdist
def pytest_xdist_auto_num_workers(config):
    return devices.xdist_auto_num_workers()


class Suite:
    """Runs for the claims of this session, from the store or trained now."""

    def __init__(self, config):
        from . import environment

        self.config = config
        self.seeds = list(range(config.getoption("seeds")))
        self.engine = config.getoption("engine")
        self.report_dir = Path(config.getoption("report_dir"))
        self.environment = environment.describe()
        self.store = RunStore(config.getoption("store_dir"), self.environment["fingerprint"],
                              session=config._lc_session, fresh=config.getoption("fresh"))
        self._checked: set[str] = set()
        from . import sequential

        max_seeds = config.getoption("max_seeds") or (max(len(self.seeds), sequential.LOOKS[-1])
                                                      if self.engine == "batched" else len(self.seeds))
        self.design = sequential.design(len(self.seeds), max(max_seeds, len(self.seeds)))
        self.certificate = None
        self._plan = None
        if self.engine == "batched":
            from . import certificate

            # verified in pytest_configure when this process is the controller; an xdist worker verifies its own
            self.certificate = (getattr(config, "_lc_certificate_obj", None)
                                or certificate.find(Path(config.getoption("certificate_dir")), self.environment))
            # The certificate's seeds are trained too (they are the first ones): the distribution
            # checks compare every batched seed of the run with them.
            self.check_seeds = list(range(max(len(self.seeds), max(self.certificate.seeds) + 1)))

    @property
    def plan(self) -> dict:
        """Every distribution-level check of the suite and the alpha each runs at (computed once)."""
        if self._plan is None:
            from . import claimset, verification

            self._plan = verification.plan(claimset.all_claims(), self.certificate, len(self.check_seeds))
        return self._plan

    def part(self, name: str, payload) -> None:
        atomic_write_text(_parts_dir(self.config) / f"{name}.json", records.dumps(payload))

    def train(self, engine: str, exp, seeds):
        from .engines import train

        return self.store.get_or_compute(engine, exp.fingerprint, seeds, lambda missing: train(engine, exp, missing))

    def all_runs(self, name: str):
        """The runs of ``name`` this session decides on, plus (batched) the certificate's seeds;
        batched runs are checked against the certificate's trajectories before first use."""
        from . import experiments, verification
        from .equivalence import EquivalenceError

        exp = experiments.get(name)
        seeds = self.check_seeds if self.engine == "batched" else self.seeds
        runs = self.train(self.engine, exp, seeds)
        if self.engine == "batched" and name not in self._checked:
            result = verification.trajectory(self.certificate, name, runs)
            self.part(f"eq-trajectory-{name}", result)
            if not result["passed"]:
                raise EquivalenceError(verification.failure_message(result))
            self._checked.add(name)
        return runs

    def runs(self, name: str):
        from . import experiments

        exp = experiments.get(name)
        start = time.perf_counter()
        runs = self.all_runs(name)[:len(self.seeds)]
        self.part(f"runs-{name}", {
            "experiment": name, "engine": self.engine, "runs": [r.to_dict() for r in runs],
            "info": {"section": exp.section, "description": exp.description, "fingerprint": exp.fingerprint,
                     "engine": self.engine, "seeds": len(runs),
                     "wall_seconds": sum(r.wall_seconds for r in runs),
                     "lookup_seconds": time.perf_counter() - start,
                     "device": runs[0].device},
        })
        return runs

    def probe(self, claim, evidence) -> list[dict]:
        """The claim's clipping probes on the first look's seeds (batched engine only: the probe is its program)."""
        if self.engine != "batched" or not claim.probes:
            return []
        from . import probes

        return [probes.clipping_engagement(e, list(range(len(self.seeds))), evidence.runs[e]) for e in claim.probes]

    def runs_upto(self, name: str, n: int):
        """Seeds 0..n-1 of ``name`` (a later look of the sequential design): from the store or trained now."""
        from . import experiments

        return self.train(self.engine, experiments.get(name), list(range(n)))

    def decide(self, claim):
        from . import equivalence, sequential
        from .claims import ExpectationMissed

        first = claimlib.Evidence({e: self.runs(e) for e in claim.experiments})
        looks = sequential.decide(
            claim.decide,
            lambda n: first if n == len(self.seeds) else claimlib.Evidence(
                {e: self.runs_upto(e, n) for e in claim.experiments}),
            self.design)
        decision = looks[-1].decision
        final = looks[-1].seeds
        evidence = first if final == len(self.seeds) else claimlib.Evidence(
            {e: self.runs_upto(e, final) for e in claim.experiments})
        checks = []
        if self.engine == "batched":
            from . import verification

            batched_ev = claimlib.Evidence({e: self.all_runs(e) for e in claim.experiments})
            checks = verification.distribution(self.certificate, claim, batched_ev, self.plan["check_alpha"])
            self.part(f"eq-distribution-{claim.id}", checks)
        samples = {e: evidence.values(e, claim.metric_fn).tolist() for e in claim.experiments}
        missed = claim.expect.check(self.environment["fingerprint"], {"effect": decision.effect, "seeds": final})
        probed = self.probe(claim, first)
        self.part(f"claim-{claim.id}", _claim_dict(claim, decision, looks, samples, self.design, missed, probed))
        failed = [c for c in checks if not c["passed"]]
        if failed:
            raise equivalence.EquivalenceError(" | ".join(f"{c['experiment']}: {c['detail']}" for c in failed)
                                               + f" ({claim.id}, distribution check)")
        if missed:
            raise ExpectationMissed(f"{claim.id}: " + "; ".join(missed) + f" (decided {decision.verdict.value}: "
                                    f"{decision.detail})")
        self.check_drift(claim, decision, samples)
        claimlib.assert_supported(claim, decision)

    def check_drift(self, claim, decision, samples) -> None:
        """Against --baseline: a changed verdict or a metric moved beyond tolerance fails the claim."""
        from . import drift

        base = self.config._lc_baseline
        if base is None:
            return
        entry = next((c for c in base["claims"] if c["id"] == claim.id), None)
        if entry is None:
            self.part(f"drift-{claim.id}", [{"claim": claim.id, "drifted": False, "experiment": None,
                                             "message": f"{claim.id}: not in baseline {base['path']}"}])
            return
        results = [drift.check(claim.id, e, claim.metric, entry["metric_samples"][e], samples[e],
                               entry["verdict"], decision.verdict.value).to_dict()
                   for e in claim.experiments if e in entry["metric_samples"]]
        for r in results:
            r["baseline"] = base["path"]
        self.part(f"drift-{claim.id}", results)
        moved = [r["message"] for r in results if r["drifted"]]
        if moved:
            raise drift.DriftError(f"regression against baseline {base['path']}: " + " | ".join(moved))


def _claim_dict(claim, d, looks, samples: dict, design, missed: list[str], probed: list[dict]) -> dict:
    return {
        "id": claim.id, "section": claim.section, "quote": claim.quote, "interpretation": claim.interpretation,
        "rule": claim.rule, "verdict": d.verdict.value, "expected_verdict": claim.expected_verdict.value,
        "expectation": {"verdict": claim.expect.verdict.value, "why": claim.expect.why,
                        "ranges": {q: list(r) for q, r in claim.expect.pins_for(
                            records_fingerprint()).items()},
                        "passed": not missed, "message": "; ".join(missed) or None},
        "test": d.test, "statistic": d.statistic, "p_value": d.p_value, "alpha": d.alpha,
        "effect": {"name": d.effect_name, "value": d.effect, "ci_low": d.ci_low, "ci_high": d.ci_high,
                   "confidence": 1 - 2 * d.alpha, "threshold": d.threshold,
                   "zone": list(d.zone) if d.zone else None},
        "at_threshold": d.at_threshold,
        "seeds": looks[-1].seeds, "experiments": list(claim.experiments), "metric": claim.metric,
        "metric_threshold": claim.metric_threshold,
        "metric_samples": samples, "outcomes": {e: list(v) for e, v in d.outcomes.items()} if d.outcomes else None,
        "detail": d.detail, "seeds_needed": d.seeds_needed, "seeds_needed_for": d.seeds_needed_for,
        "design": d.design, "pairing": _PAIRING if d.design == "paired" else None,
        "findings": list(d.findings) + [p["sentence"] + ("" if p["identical_to_suite_runs"] else
                                                         " (the probe's runs differ from the suite's!)")
                                         for p in probed],
        "probes": probed, "looks": [lk.to_dict() for lk in looks], "sequential": design.to_dict(),
        "amendments": [a.to_dict() for a in claim.amendments],
    }


_PAIRING = ("paired by seed: seed s of each experiment has the same data split and batch order (and the same "
            "initial weights where the architectures match)")


def records_fingerprint() -> str:
    from . import environment

    return environment.describe()["fingerprint"]


@pytest.fixture(scope="session")
def suite(request):
    return Suite(request.config)


@pytest.fixture
def decide_claim(suite, request):
    """Decide a claim on this session's runs and assert it is SUPPORTED."""
    from .equivalence import EquivalenceError

    def run(claim):
        try:
            suite.decide(claim)
        except EquivalenceError as exc:
            # Stop the run: results from a batched engine that does not match keras are never used.
            request.session.shouldstop = str(exc)
            raise

    return run


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):
        return
    parts_dir = _parts_dir(config)
    if not parts_dir.is_dir() or not any(parts_dir.glob("claim-*.json")):
        return
    from .merge import merge_parts
    from .report import write_report

    results = merge_parts(parts_dir, config, wall_seconds=time.time() - config._lc_started,
                          schema=RESULTS_SCHEMA, version=__version__)
    index = write_report(results, Path(config.getoption("report_dir")))
    from .baseline import write_summary

    summary = write_summary(results, _history_dir(config))
    shutil.rmtree(parts_dir, ignore_errors=True)
    try:
        parts_dir.parent.rmdir()  # only if no other session is writing parts
    except OSError:
        pass
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_sep("-", f"evidence report: {index}; summary: {summary}")
        for c in results["claims"]:
            p = "no test" if c["p_value"] is None else f"p={c['p_value']:.3g}"
            looks = f", {c['seeds']} seeds" if c.get("looks") and len(c["looks"]) > 1 else ""
            tr.write_line(f"{c['verdict']:<12} {c['id']}  ({p}{looks}, expected {c['expected_verdict']})")
