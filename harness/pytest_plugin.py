"""The suite's pytest plugin: a thin adapter over :mod:`harness.runner`.

Registered from the root ``conftest.py``.  Options (with a profile that
bundles them), the report header, one :class:`~harness.runner.ClaimRunner`
per process, each claim's outcome carried on its test report (under xdist the
reports travel to the controller), and at the end the merged results, the
evidence report, the summary and the terminal statistics.  State lives in
``config.stash``.  TensorFlow is imported only when something trains.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Sequence

import pytest

from harness.certification import certificate
from harness.certification.windows import EquivalenceError
from . import spec as claimlib
from . import bad_input, collect, options, runner, schedule
from . import settings as settingslib
from .merge import merge
from .outcome import ClaimOutcome
from .run_notes import load_mutants
from .training import devices, environment

PROGRESS_LOG = "progress.log"  # in the report dir: what each process trains, with estimates, as it goes
REPORT_ATTR = "lesson_claims_outcome"  # the call report's attribute that carries a claim's outcome

SETTINGS = pytest.StashKey["settingslib.Settings"]()  # resolved once from the options; never written back
DECIDES = pytest.StashKey[bool]()  # the session decides claims (else: only the harness's own tests)
SESSION = pytest.StashKey[str]()
STARTED = pytest.StashKey[float]()
CERTIFICATE = pytest.StashKey[object]()  # the verified certificate object (controller), or None
BASELINE = pytest.StashKey[object]()  # (path, summary) of --claims-baseline, read once, or None
DEVICES = pytest.StashKey[object]()
OUTCOME = pytest.StashKey[object]()  # a test item's decided claim (harness.outcome.ClaimOutcome)
OUTCOMES = pytest.StashKey[object]()  # the controller's _Outcomes
FINISHED = pytest.StashKey[tuple]()  # (index path, summary path, Results) once the controller merged them
COLLECTED = pytest.StashKey[int]()  # the claim tests this session collected (controller)
WRITE_FAILED = pytest.StashKey[str]()  # why the report could not be written (controller), said last


def pytest_addoption(parser):
    group = parser.getgroup("lesson-claims")
    for option in options.PYTEST:  # the table the command line shares (harness.options)
        option.add_to(group, prefix=options.PREFIX)


def _resolve(config) -> settingslib.Settings:
    """The options, resolved once into the run's settings (a UsageError naming the option otherwise)."""
    try:
        return settingslib.from_options({o.flag: config.getoption(o.dest(options.PREFIX)) for o in options.PYTEST})
    except bad_input.BadInput as exc:
        raise pytest.UsageError(str(exc)) from None


def _read_baseline(settings) -> tuple[str, object] | None:
    """--claims-baseline, read once and checked against this run, before any training."""
    if not settings.baseline:
        return None
    from harness.results import summaries  # local: numpy and SciPy only when a baseline is given

    try:
        summary = summaries.load(Path(settings.baseline))
        summaries.check_complete(settings.baseline, summary)
        summaries.check_batch_order(settings.baseline, summary, settings.batch_order)
    except summaries.SummaryError as exc:
        raise pytest.UsageError(f"--claims-baseline: {exc}") from None
    return str(settings.baseline), summary


def pytest_configure(config):
    config.addinivalue_line("markers", "claim: a lesson claim decided over many seeds")
    worker = getattr(config, "workerinput", None)
    if config.option.help or config.option.version:
        return  # nothing will run: no TensorFlow import, no checks
    settings = config.stash[SETTINGS] = _resolve(config)
    decides = config.stash[DECIDES] = _collects_claims(config)
    if decides and worker is None and getattr(config.option, "dist", "no") == "load" and not any(
            a == "-d" or a.startswith("--dist") for a in config.invocation_params.args):
        # -n without --dist: a worker that runs out of tests takes them from one still busy (xdist's worksteal)
        config.option.dist = "worksteal"
    if worker is None:
        _check_space_form(config)
        try:  # every option, before any work: a UsageError naming the option
            bad_input.validate(settings, outputs=decides)
        except bad_input.BadInput as exc:
            raise pytest.UsageError(str(exc)) from None
    config.stash[BASELINE] = _read_baseline(settings)
    # Pin this worker's GPU and size TF's thread pools before TensorFlow is imported; a session
    # without claims (the harness's own tests) sets the same as environment variables and imports
    # nothing: TensorFlow is imported only by what trains.
    config.stash[DEVICES] = devices.configure() if decides else devices.configure_environment()
    if worker is None:
        _start_controller(config, settings, decides)
    else:
        config.stash[SESSION] = worker["lc_session"]
    config.stash[CERTIFICATE] = None
    if worker is None and settings.engine == "batched" and decides:
        try:  # no, or a bad, certificate stops the run here, before any training
            config.stash[CERTIFICATE] = certificate.find(Path(settings.certificate_dir), environment.describe())
        except certificate.CertificateError as exc:
            raise pytest.UsageError(f"--claims-certificate-dir: {exc}") from None


def _start_controller(config, settings, decides: bool) -> None:
    """The controller's session: its id, the progress log's first line, dead runs' leftovers cleaned, and the
    plugins that collect the outcomes (and hand the id to xdist's workers)."""
    config.stash[SESSION] = uuid.uuid4().hex
    if decides:  # a session of the harness's own tests writes nothing into the report folder
        try:  # appended, never truncated: a second run's lines are told apart by their run id
            append_line(_progress_log(settings), f"{time.strftime('%H:%M:%S')} run {config.stash[SESSION][:8]} "
                                                 f"(pid {os.getpid()}) starts\n",
                        make_folder=False)  # made later: an existing folder would steer the workers' rootdir
        except OSError:
            pass
        config.pluginmanager.register(_CleanedHeader(bad_input.clean_dead_leftovers(settings)),
                                      "lesson-claims-cleaned")
    config.stash[STARTED] = time.time()
    config.stash[OUTCOMES] = _Outcomes()
    config.pluginmanager.register(config.stash[OUTCOMES], "lesson-claims-outcomes")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(), "lesson-claims-xdist")


class _CleanedHeader:
    def __init__(self, removed: list[Path]):
        self.removed = removed

    def pytest_report_header(self, config):
        removed = self.removed
        if removed:
            return f"lesson-claims: removed {len(removed)} leftover(s) of dead runs: " + ", ".join(
                str(p) for p in removed[:5]) + (" ..." if len(removed) > 5 else "")
        return None


_CHECKOUT = Path(__file__).resolve().parents[1]


def _check_space_form(config) -> None:
    """pytest finds its rootdir and configuration before any plugin's options are known, so the value of
    ``--claims-report-dir /elsewhere`` (space form) is taken for a test path there: an existing folder outside
    the checkout moves the rootdir away and loses the checkout's configuration (testpaths, warnings).  Say so,
    naming the option and the fix, before any work."""
    ours = _CHECKOUT / "pyproject.toml"
    if not ours.is_file() or config.inipath == ours:
        return
    args = list(config.invocation_params.args)
    for opt, value in zip(args, args[1:]):
        if opt.startswith("--claims-") and (opt.endswith("-dir") or opt == "--claims-baseline") and Path(value).exists():
            raise pytest.UsageError(
                f"{opt} {value}: written with a space, pytest took the existing path {value} for a test path before "
                f"it knew the option, and looked for its configuration there (rootdir {config.rootpath}, not "
                f"{_CHECKOUT}); write {opt}={value}")


def pytest_report_header(config):
    if SETTINGS not in config.stash:
        return None
    s = config.stash[SETTINGS]
    looks = ", ".join(str(n) for n in s.design().looks)
    line = (f"lesson-claims: profile {s.profile}, engine {s.engine}, batch order {s.batch_order}, looks at {looks} "
            f"seeds; training progress in {_progress_log(s)}")
    cert = config.stash.get(CERTIFICATE, None)
    if cert is not None:
        summary = cert.for_results()
        line += (f", certificate {summary['path']} (windows over every epoch of Keras seeds {summary['seeds']}, "
                 f"and at 20-80% of later-look seeds {summary['later_seeds']})")
    return line


def _collects_claims(config) -> bool:
    """False when the session only runs the harness's own tests, or has no claims/ at its root (they need no
    certificate)."""
    claims_dir = Path(str(config.rootpath), "claims").resolve()
    if not claims_dir.is_dir():
        return False
    args = [a for a in config.args if not a.startswith("-")] or list(config.getini("testpaths"))
    return any(Path(a.split("::")[0]).resolve().is_relative_to(claims_dir)
               or claims_dir.is_relative_to(Path(a.split("::")[0]).resolve()) for a in args)


class _XdistHooks:
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):
        node.workerinput["lc_session"] = node.config.stash[SESSION]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        node.config.stash[COLLECTED] = _planned(node.config, ids)


def _planned(config, ids) -> int:
    """The claim tests this run decides: those collected, less the ones of another profile (skipped)."""
    settings = config.stash.get(SETTINGS, None)
    elsewhere = {c.id for c in collect.all_claims() if settings and not settingslib.decided_in(c, settings)}
    return sum("test_claim[" in i and i.rsplit("[", 1)[-1].rstrip("]") not in elsewhere for i in ids)


def pytest_collection_finish(session):
    if not hasattr(session.config, "workerinput"):
        session.config.stash[COLLECTED] = _planned(session.config, [i.nodeid for i in session.items])


@pytest.hookimpl(optionalhook=True)  # an xdist hook: the plugin also works with -p no:xdist
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per GPU, or per what the cores and memory allow; xdist's own answer where the
    user set ``PYTEST_XDIST_AUTO_NUM_WORKERS`` (xdist reads it in its own hook, which runs after this one)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return devices.xdist_auto_num_workers()


@pytest.fixture(scope="session")
def claim_runner(request):
    config = request.config
    tr = config.pluginmanager.get_plugin("terminalreporter")
    worker = getattr(config, "workerinput", None)
    log = _progress_log(config.stash[SETTINGS])

    def on_train(message):
        # An xdist worker's output never reaches the terminal: every process also appends to the
        # progress log the header names (small appends, whole lines), and an in-process run prints.
        line = (f"{time.strftime('%H:%M:%S')} run {config.stash[SESSION][:8]} "
                f"{(worker or {}).get('workerid', 'main')}: {message}\n")
        try:
            append_line(log, line)
        except OSError:
            pass  # progress is a courtesy; it never fails a run
        if worker is None and tr is not None:
            tr.write_line(f"lesson-claims: {message}")

    return runner.ClaimRunner(config.stash[SETTINGS], session=config.stash[SESSION],
                              certificate=config.stash.get(CERTIFICATE, None), baseline=config.stash[BASELINE],
                              on_train=on_train)


def _plan_dirs(settings) -> list[Path]:
    """Where the seeds each claim needed last time come from: this machine's history, then the committed
    baselines (:func:`harness.schedule.seed_plan`)."""
    return [settings.history, schedule.BASELINES]


def pytest_collection_modifyitems(session, config, items):
    """The claims expected to cost most first (by the seeds they needed in this environment's last run and
    reports/bench.json), so the longest is not left to run alone at the end; under xdist the plugin also
    asks for ``--dist worksteal`` (:func:`pytest_configure`), so no test waits behind a long one."""
    claims = [i for i in items if "claim" in getattr(getattr(i, "callspec", None), "params", {})]
    if len(claims) < 2 or SETTINGS not in config.stash or config.stash[SETTINGS].engine != "batched":
        return
    from .training import environment as env  # local: TensorFlow, which a session that decides claims imports

    plan = schedule.seed_plan(env.describe()["fingerprint"], _plan_dirs(config.stash[SETTINGS]))
    if not plan:
        return
    first = config.stash[SETTINGS].seeds
    cost = {id(i): schedule.expected_seconds(i.callspec.params["claim"], plan, first) for i in claims}
    order = iter(sorted(claims, key=lambda i: -cost[id(i)]))  # stable: ties keep their order
    items[:] = [next(order) if id(i) in cost else i for i in items]


def append_line(path: Path, line: str, make_folder: bool = True) -> None:
    """Append one whole line, creating the file (and the folder, with ``make_folder``) as needed and never
    through a link (O_NOFOLLOW: a link planted at the log's name is refused, its target left alone)."""
    if make_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def _progress_log(settings) -> Path:
    return Path(settings.report_dir) / PROGRESS_LOG


@pytest.fixture
def decide_claim(claim_runner, request):
    """Decide a claim, carry its outcome on the test report, and fail the test unless it is SUPPORTED."""
    def run(claim):
        settings = request.config.stash[SETTINGS]
        if not settingslib.decided_in(claim, settings):
            pytest.skip(f"{claim.id} is decided in the thorough profile (--claims-profile=thorough): its sweep "
                        "does not fit the default run")
        refused = None
        try:
            outcome = claim_runner.decide(claim)
        except EquivalenceError as exc:
            # Stop the run: results from a batched engine that does not match keras are never used.  The message
            # names the certificate and says what the evidence points to; a traceback would add nothing.
            refused = str(exc)
        if refused is not None:
            request.session.shouldstop = refused
            pytest.fail(refused, pytrace=False)
        request.node.stash[OUTCOME] = outcome  # carried on the call report (pytest_runtest_makereport)
        # --junitxml: the verdict in the test's properties (xdist carries user_properties to the controller)
        request.node.user_properties.extend(junit_properties(outcome.result))
        if isinstance(outcome.failure, EquivalenceError):
            request.session.shouldstop = str(outcome.failure)
        if outcome.failure is not None:
            raise outcome.failure

    return run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Each claim's outcome rides on its call report as one small string (the way Hypothesis carries its
    statistics): xdist serialises a report's attributes to the controller; the histories stay in the run
    store, so ``--junitxml`` stays small."""
    report = yield
    if call.when == "call" and OUTCOME in item.stash:
        setattr(report, REPORT_ATTR, item.stash[OUTCOME].encode())
    return report


def junit_properties(result) -> list[tuple[str, str]]:
    """A decided claim (:class:`~harness.results.ClaimResult`) as a few short JUnit properties: its label,
    effect, interval, zone and seeds, so CI shows the verdict, not only pass or fail (about 300 bytes a test:
    the whole suite's XML stays small)."""
    e = result.effect

    def n(v) -> str:
        return "none" if v is None else f"{v:.4g}"

    interval = "none" if e.ci_low is None or e.ci_high is None else (
        f"[{n(e.ci_low)}, {n(e.ci_high)}]" + (f" at {e.confidence:.4g}" if e.confidence is not None else ""))
    zone = "none" if e.zone is None else (f"[{n(e.zone[0])}, {n(e.zone[1])}] around {n(e.threshold)}"
                                          + (" on |effect|" if e.absolute else ""))
    return [("label", result.label), ("effect", f"{n(e.value)} ({e.name or 'unnamed'})"), ("interval", interval),
            ("zone", zone), ("seeds", str(result.seeds))]


class _Outcomes:
    """The controller's outcomes of this session (registered on its config; no module-level state)."""

    def __init__(self):
        self.values: list[str] = []

    def pytest_runtest_logreport(self, report):
        value = getattr(report, REPORT_ATTR, None)
        if report.when == "call" and value is not None:
            self.values.append(value)


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    collected = config.stash.get(OUTCOMES, None)
    if hasattr(config, "workerinput") or collected is None or not collected.values or SETTINGS not in config.stash:
        return
    from .report import write_run  # local: matplotlib only in a session that decided claims

    settings = config.stash[SETTINGS]
    outcomes = [ClaimOutcome.decode(v) for v in collected.values]
    planned = config.stash.get(COLLECTED, None)
    interrupted = None
    if (exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldstop or session.shouldfail
            or (planned and len(outcomes) < planned)):
        interrupted = f"interrupted: {len(outcomes)} of {planned or '?'} tests"
    cert = config.stash.get(CERTIFICATE, None)
    report_dir = Path(settings.report_dir)
    results, runs = merge(
        outcomes, settings, certificate=cert.for_results() if cert is not None else None,
        wall_seconds=time.time() - config.stash[STARTED],
        workers=getattr(config.option, "numprocesses", None) or 1, devices=config.stash.get(DEVICES, None),
        baseline_path=settings.baseline,
        mutants=load_mutants(report_dir / "mutants.json", environment.describe()["fingerprint"]),
        session=config.stash[SESSION])
    if interrupted:
        results = dataclasses.replace(results, interrupted=interrupted,
                                      replaced=_replaced_complete(report_dir, len(outcomes)))
    try:
        index, summary = write_run(results, runs, report_dir, settings.history, run=config.stash[SESSION])
    except OSError as exc:  # a full disk, a read-only folder, another run holding it: after the verdicts
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        config.stash[WRITE_FAILED] = (f"lesson-claims: the report was not written{where}: {exc}; the previous "
                                      f"report in {report_dir} is untouched")
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
        index = summary = None
    config.stash[FINISHED] = (index, summary, results)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput") or FINISHED not in config.stash:
        return
    # local: matplotlib only in a session that decided claims
    from .report import counts_text, error_bound_text, robustness_counts

    index, summary, results = config.stash[FINISHED]
    tr = terminalreporter
    tr.write_sep("-", "lesson-claims")
    tests = list(results.claims)
    for line in summary_lines(tests, results.familywise):
        tr.write_line(line)
    trained = sum(lk.seconds or 0 for c in results.claims for lk in c.looks[1:])
    tr.write_line(f"{counts_text(tests)}; {robustness_counts(tests)}")
    tr.write_line(error_bound_text(tests, results.familywise))
    if results.interrupted:
        tr.write_line(f"{results.interrupted}: the report says so" + (f"; {results.replaced}" if results.replaced
                                                                         else ""))
    tr.write_line(f"later looks took {trained:.0f} s; " + (f"evidence report {index}; summary {summary}" if index
                                                          else "no report written (below)"))


def pytest_unconfigure(config):
    failed = config.stash.get(WRITE_FAILED, None) if not hasattr(config, "workerinput") else None
    if failed:  # after pytest's own summary line: the last thing the user reads
        sys.stderr.write(failed + "\n")


def _replaced_complete(report_dir: Path, tests: int) -> str | None:
    """What a partial report is about to replace: a complete report of more tests, said on the page."""
    try:
        import json

        old = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    n = len(old.get("claims") or [])
    if old.get("interrupted") or n <= tests:
        return None
    return f"it replaced a complete report of {n} tests written {time.ctime((report_dir / 'results.json').stat().st_mtime)}"


def summary_lines(tests: list, familywise=None) -> list[str]:
    """One line per test (:class:`~harness.results.ClaimResult`): its label, what it counts as where not a
    lesson claim of its own, a label other than the expected one, whether its readings agree, and its label
    under the family-wise correction where one was asked for."""
    # local: harness.report imports matplotlib; sessions without claims never load it
    from .report import TAGS, belongs, expected_of, lesson_claims, reader_label

    sentences = lesson_claims(tests)
    lines = []
    for c in tests:
        # below 1e-6 a bound, as in the report (harness.report.P_FLOOR)
        p = "no test" if c.p_value is None else "p < 1e-6" if c.p_value < 1e-6 else f"p={c.p_value:.3g}"
        seeds = " -> ".join(str(lk.seeds) for lk in c.looks) if len(c.looks) > 1 else str(c.seeds)
        kind = belongs(c, sentences)
        tag = f"  [{TAGS[kind[0]].format(kind[1])}]" if kind else ""
        expected, differs = expected_of(c)
        flag = f"  (expected {expected})" if differs else ""
        read = "" if c.robust is None else "  [robust]" if c.robust else \
            f"  [reading-dependent: {', '.join(c.differing_readings)}]"
        fw = f"  [Holm {familywise.alpha:g}: {familywise.labels.get(c.id, '?')}]" if familywise else ""
        lines.append(f"{reader_label(c):<17} {c.id}  ({p}, seeds {seeds}){tag}{flag}{read}{fw}")
    return lines


def parametrize_with_claims(claims: Sequence[claimlib.Claim]):
    """``@pytest.mark.parametrize`` over claims, ids = claim ids (``-k`` friendly);
    a claim expected to end other than SUPPORTED becomes a strict xfail that only
    that exact outcome satisfies (a missed pin raises ExpectationMissed, which no
    xfail accepts)."""
    params = []
    for c in claims:
        marks = ()
        if c.expect.verdict is not claimlib.Verdict.SUPPORTED:
            exc = (claimlib.ClaimRefuted if c.expect.verdict is claimlib.Verdict.REFUTED
                   else claimlib.ClaimNotTestable if c.expect.label == claimlib.NOT_TESTABLE
                   else claimlib.ClaimInconclusive)
            marks = (pytest.mark.xfail(strict=True, raises=exc, reason=c.expect.describe()),)
        params.append(pytest.param(c, id=c.id, marks=marks))
    return pytest.mark.parametrize("claim", params)
