"""The results model: what a run of the claims produces, typed from end to end.

Every part is a frozen dataclass (or one the statistics layer already defines:
:class:`~harness.spec.Decision`, :class:`~harness.spec.Amendment`,
:class:`~harness.spec.Expectation`, :class:`~harness.statistics.sequential.Look`
and ``Design``), so a thing has one class wherever it travels.  The runner builds
these objects; :mod:`harness.results.codec` writes and reads them; the report,
compare, the summaries and the README tables read only them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from harness.spec import Amendment, Expectation, Verdict, label
from harness.results.drift import DriftResult
from harness.statistics.sequential import Design, Look
from harness.version import RESULTS_SCHEMA

SCHEMA = RESULTS_SCHEMA
VERDICTS = tuple(v.value for v in Verdict)

__all__ = [
    "SCHEMA", "VERDICTS", "Amendment", "CertificateSummary", "CertificatePlan", "CertificationCost", "ClaimResult",
    "Design", "Determinism", "Devices", "DriftResult", "Effect", "Envelope", "Environment", "EquivalenceCheck",
    "Expectation", "ExperimentRun", "IndependenceRow", "Look", "Machine", "MutantResult", "MutantsRun", "Probe",
    "Results", "RunsFile", "ReadingResult", "Power", "Familywise", "SeedIndependence", "SuiteDesign", "Variant", "VariantClaim", "Verdict", "WindowFailure",
    "WindowPlan", "sentence_label", "Cell", "CELL_SCHEMA", "Difference", "Neighbours",
]


@dataclass(frozen=True)
class Effect:
    """The quantity a claim's rule tests, with its interval at ``confidence`` and the zone around ``threshold``."""

    name: str | None = None
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None
    threshold: float | None = None
    zone: tuple[float, float] | None = None
    absolute: bool = False  # threshold and zone apply to |value|


@dataclass(frozen=True)
class Probe:
    """How often a clipping setting changed a gradient (:mod:`harness.training.probes`)."""

    experiment: str
    clip: str
    seeds: int
    seed_steps: int
    steps_changed: int
    steps_changed_share: float
    gradients: int
    gradients_changed: int
    identical_to_suite_runs: bool
    sentence: str


@dataclass(frozen=True)
class ReadingResult:
    """One alternative reading of a claim (harness.spec.Reading), decided on the primary's runs."""

    name: str
    words: str
    verdict: Verdict
    at_threshold: bool = False
    untestable: str | None = None
    test: str = ""
    p_value: float | None = None
    effect: Effect = field(default_factory=Effect)
    detail: str = ""
    seeds: int | None = None

    @property
    def label(self) -> str:
        return label(self.verdict.value, self.at_threshold, self.untestable)


@dataclass(frozen=True)
class Power:
    """What the claim's rule could detect at the seeds it used (harness.statistics.power): the true effect at
    which it would say REFUTED (``refute_at``) or SUPPORTED (``support_at``) with probability ``power``, at
    the alpha of one test of the design; None where it cannot at these seeds."""

    seeds: int
    alpha: float
    power: float
    refute_at: float | None
    support_at: float | None
    scale: str  # the effect's name
    method: str  # "exact binomial" | "normal approximation with the observed spread"
    note: str = ""


@dataclass(frozen=True)
class ClaimResult:
    """One claim decided: the spec's words, the deciding look's decision, and the per-seed evidence."""

    id: str
    verdict: Verdict
    section: str = ""
    quote: str = ""
    interpretation: str = ""
    rule: str = ""
    expectation: Expectation = field(default_factory=Expectation)
    expectation_missed: tuple[str, ...] = ()  # the pins or label this run missed (empty: as expected)
    test: str = ""
    statistic: float | None = None
    p_value: float | None = None
    alpha: float | None = None
    effect: Effect = field(default_factory=Effect)
    at_threshold: bool = False
    untestable: str | None = None  # why the rule's test could not run ("not testable here")
    zone_factor: float | None = None  # harness.spec.Decision.zone_factor
    # What the test counts as: "claim" (a sentence of the lesson, or a part or variant of one), "derived" (a
    # prediction the suite derives from the lesson, not a result it reports) or "duplicate" (the same
    # measurement as ``sentence`` on another scale); ``sentence``: the id of the lesson claim it belongs to.
    counts: str = "claim"
    sentence: str | None = None
    seeds: int | None = None
    experiments: tuple[str, ...] = ()
    metric: str = ""
    metric_threshold: float | None = None
    metric_samples: dict[str, list[float]] = field(default_factory=dict)
    outcomes: dict[str, list[bool]] | None = None
    detail: str = ""
    seeds_needed: int | None = None
    seeds_needed_for: str | None = None
    comparison: str | None = None  # "one sample" | "paired" | "unpaired" (Decision.comparison)
    pairing: str | None = None
    findings: tuple[str, ...] = ()
    probes: tuple[Probe, ...] = ()
    looks: tuple[Look, ...] = ()
    plan: Design | None = None  # the sequential looks this claim could take
    amendments: tuple[Amendment, ...] = ()
    # The two one-sided p-values of the deciding look (harness.spec.Decision.p_supported / p_refuted).
    p_supported: float | None = None
    p_refuted: float | None = None
    readings: tuple[ReadingResult, ...] = ()
    uncontested: str = ""  # why the claim's words leave nothing to read otherwise (no readings)
    power: Power | None = None

    @property
    def label(self) -> str:
        return label(self.verdict.value, self.at_threshold, self.untestable)

    @property
    def robust(self) -> bool | None:
        """Every alternative reading gives the primary's label (None: the claim has no readings)."""
        return None if not self.readings else all(r.label == self.label for r in self.readings)

    @property
    def differing_readings(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.readings if r.label != self.label)

    @property
    def expected_verdict(self) -> Verdict:
        return self.expectation.verdict

    @property
    def expected_label(self) -> str:
        return self.expectation.expected_label

    @property
    def as_expected(self) -> bool:
        return not self.expectation_missed


def sentence_label(tests: list[ClaimResult]) -> str:
    """One lesson claim's label from its tests (parts of one sentence, or variants of one setting): REFUTED
    if any test is; SUPPORTED if every testable one is; not testable if none is testable; otherwise the
    first undecided test's label."""
    labels = [t.label for t in tests]
    testable = [lab for lab in labels if lab != "NOT TESTABLE HERE"]
    if "REFUTED" in labels:
        return "REFUTED"
    if not testable:
        return "NOT TESTABLE HERE"
    if all(lab == "SUPPORTED" for lab in testable):
        return "SUPPORTED"
    return next(lab for lab in testable if lab != "SUPPORTED")


# ------------------------------------------------------------------ where it ran


@dataclass(frozen=True)
class Determinism:
    op_determinism: bool = True
    seeding: str = ""


@dataclass(frozen=True)
class Devices:
    """What this worker was pinned to (:func:`harness.training.devices.configure`)."""

    worker: str | None = None
    worker_index: int | None = None
    worker_count: int | None = None
    cuda_visible_devices: str | None = None
    gpus: int | None = None
    intra_op_threads: int | None = None
    inter_op_threads: int | None = None
    omp_num_threads: str | None = None
    threading_applied: bool | None = None
    memory_growth: bool | None = None
    threads: int | None = None
    tensorflow_imported: bool | None = None


@dataclass(frozen=True)
class Machine:
    """The hardware numerics depend on (:mod:`harness.training.machine`): recorded, never in the
    fingerprint.  Results, certificates and cells from before it have none (None where it would be)."""

    cpu: str = ""  # the CPU's model name
    cpu_flags: tuple[str, ...] = ()  # its float-math instruction sets (sse4_2, avx2, fma, avx512f, amx_tile, ...)
    cores: int | None = None  # the cores this process may run on
    workers: int | None = None  # processes that trained side by side; the threads below are each one's
    intra_op_threads: int | None = None  # 0: TensorFlow's default, every core
    inter_op_threads: int | None = None
    omp_num_threads: str | None = None
    cuda: str | None = None  # on a GPU: the CUDA and cuDNN TensorFlow was built with, and the driver
    cudnn: str | None = None
    gpu_driver: str | None = None


@dataclass(frozen=True)
class Environment:
    """The packages and settings of a run; ``fingerprint`` keys the run store and the certificate."""

    fingerprint: str
    python: str = ""
    implementation: str = ""
    platform: str = ""
    tensorflow: str = ""
    keras: str = ""
    keras_major: int | None = None
    legacy_keras: bool = False
    numpy: str = ""
    scipy: str = ""
    scikit_learn: str = ""
    matplotlib: str = ""
    device: str = ""
    determinism: Determinism = field(default_factory=Determinism)
    engine: str | None = None
    batch_order: str | None = None
    seeds: int | None = None
    max_seeds: int | None = None
    profile: str | None = None
    certificate: str | None = None
    fresh: bool = False
    baseline: str | None = None
    wall_seconds: float | None = None
    workers: int | None = None
    devices: Devices | None = None
    suite_version: str | None = None
    code_digest: str | None = None
    machine: Machine | None = None


@dataclass(frozen=True)
class ExperimentRun:
    """One configuration as this run trained or read it."""

    section: str
    description: str
    fingerprint: str
    engine: str
    store: str
    seeds: int
    wall_seconds: float
    lookup_seconds: float
    device: str | None = None


# ------------------------------------------------------------------ the engine proof


@dataclass(frozen=True)
class WindowFailure:
    seed: int
    checkpoint: int | None
    key: str
    epoch: int | None
    keras: float | str | None = None
    batched: float | str | None = None


@dataclass(frozen=True)
class EquivalenceCheck:
    """A window or continuity check of the batched engine against Keras (:mod:`harness.certification.windows`)."""

    experiment: str
    level: str  # "window" | "continuity"
    passed: bool
    detail: str = ""
    ran: bool = True
    seeds: tuple[int, ...] = ()
    window_epochs: int | None = None
    windows: int = 0
    epochs: int | None = None
    max_rel_diff: float | None = None
    tolerance: float | None = None
    checkpoint: int | None = None
    epoch: int | None = None
    failures: tuple[WindowFailure, ...] = ()
    failed_windows: int = 0
    covered: str | None = None
    # Windows that parted from Keras after their first epoch, settled by their refined windows.
    refined: tuple[WindowFailure, ...] = ()
    refined_windows: int = 0
    to_refine: tuple[tuple[int, int], ...] = ()  # failed after their first epoch, not refined (yet)


@dataclass(frozen=True)
class Envelope:
    perturbations: int
    relative_nudge: float
    factor: float


@dataclass(frozen=True)
class WindowPlan:
    trajectory_seeds: tuple[int, ...] = ()
    later_seeds: tuple[int, ...] = ()
    later_fractions: tuple[float, ...] = ()
    window_epochs: dict[str, int] = field(default_factory=dict)
    rtol: float | None = None
    accuracy_tolerance: str = ""
    envelope: Envelope | None = None
    refinement: str = ""


@dataclass(frozen=True)
class CertificatePlan:
    windows: WindowPlan = field(default_factory=WindowPlan)
    distribution: str = ""


@dataclass(frozen=True)
class IndependenceRow:
    seeds_compared: int
    bit_identical: bool
    max_abs_diff: float
    max_rel_diff: float


@dataclass(frozen=True)
class SeedIndependence:
    """Whether a seed's run depends on how many seeds train beside it."""

    compared_with: str
    batch_sizes: tuple[int, ...]
    bit_identical_everywhere: bool
    by_experiment: dict[str, dict[str, IndependenceRow]]  # configuration -> seeds trained together -> row
    verdicts_on_seeds_0_29: dict[str, dict[str, str | bool]] = field(default_factory=dict)
    same_verdicts: bool | None = None
    # bit-identical in batches of other sizes at the same positions; None: measured before the shifted row was
    same_positions_bit_identical: bool | None = None


@dataclass(frozen=True)
class CertificationCost:
    keras_core_seconds: float | None = None
    keras_core_seconds_by_experiment: dict[str, float] = field(default_factory=dict)
    workers: int | None = None
    references_trained_now: int = 0
    references_wall_seconds_now: float = 0.0
    certify_wall_seconds: float | None = None


@dataclass(frozen=True)
class CertificateTransfer:
    """A certificate carried here from another environment of its Keras line (harness.certification.transfer)."""

    source: str  # the source certificate's environment fingerprint
    source_sha256: str
    windows: int  # Keras windows re-run here, all of which agreed
    max_rel_diff: float
    seconds: float
    draw_seed: int


@dataclass(frozen=True)
class CertificateSummary:
    """What the results say about the environment's engine certificate (no per-epoch data)."""

    path: str
    fingerprint: str
    created: str
    code_digest: str
    plan: CertificatePlan = field(default_factory=CertificatePlan)
    checks: tuple[EquivalenceCheck, ...] = ()
    seed_independence: SeedIndependence | None = None
    cost: CertificationCost | None = None
    digest_scheme: str | None = None
    batch_order: str | None = None
    seeds: tuple[int, ...] = ()
    later_seeds: tuple[int, ...] = ()
    window_epochs: dict[str, int] = field(default_factory=dict)
    machine: Machine | None = None  # where it was made; None: not recorded (made before machines were)
    transfer: CertificateTransfer | None = None  # None: certified here in full
    transfer_refused: str | None = None  # why a transfer was refused before certifying in full


@dataclass(frozen=True)
class MutantResult:
    mutant: str
    description: str
    killed: bool
    late: bool = False
    check: str | None = None
    configuration: str | None = None
    seed: int | None = None
    checkpoint: int | None = None
    epoch: int | None = None
    key: str | None = None
    detail: str = ""
    seconds: float | None = None


@dataclass(frozen=True)
class MutantsRun:
    """``python -m harness mutants``: each semantic mutant of the batched engine, killed or not."""

    environment: str
    certificate: str
    mutants: tuple[MutantResult, ...]


# ------------------------------------------------------------------ the run as a whole


@dataclass(frozen=True)
class SuiteDesign:
    """The error budget the suite decides under (docs/design.md)."""

    sequential: Design
    multiplicity: str
    amendments: tuple[Amendment, ...] = ()


@dataclass(frozen=True)
class Familywise:
    """The claims decided again with a family-wise correction across the suite (harness.statistics.familywise):
    ``alpha`` the chance that any of the suite's decided verdicts is wrong; ``labels`` each test's label under
    it, beside its own; ``p_values`` each test's design-adjusted p (its one-sided p times the design's tests)."""

    alpha: float
    method: str
    tests: int
    labels: dict[str, str] = field(default_factory=dict)
    p_values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class VariantClaim:
    verdict: Verdict
    effect: Effect = field(default_factory=Effect)
    seeds: int | None = None
    at_threshold: bool = False
    untestable: str | None = None

    @property
    def label(self) -> str:
        return label(self.verdict.value, self.at_threshold, self.untestable)


@dataclass(frozen=True)
class Variant:
    """The committed verdicts of the same claims under another batch order, in this environment."""

    path: str
    claims: dict[str, VariantClaim] = field(default_factory=dict)
    rules: str | None = None
    batch_order: str | None = None
    error: str | None = None  # why they could not be used (stale code, unreadable file)


@dataclass(frozen=True)
class RunsFile:
    """The per-epoch histories' sidecar next to results.json."""

    path: str
    runs: int
    sha256: str


@dataclass(frozen=True)
class Results:
    claims: tuple[ClaimResult, ...]
    environment: Environment
    schema: str = SCHEMA
    suite_version: str | None = None
    rules: str | None = None  # harness.spec.RULES of the run
    certificate: CertificateSummary | None = None
    mutants: MutantsRun | None = None
    experiments: dict[str, ExperimentRun] = field(default_factory=dict)
    equivalence: tuple[EquivalenceCheck, ...] = ()
    drift: tuple[DriftResult, ...] = ()
    notes: tuple[str, ...] = ()
    design: SuiteDesign | None = None
    variants: dict[str, Variant] = field(default_factory=dict)
    runs_file: RunsFile | None = None
    familywise: Familywise | None = None
    # "interrupted: 3 of 7 tests": a partial run (Ctrl-C, a stopped session), said on its page and summary; a
    # baseline is never taken from it.  ``replaced``: the complete report of more tests it replaced.
    interrupted: str | None = None
    replaced: str | None = None

    def sentences(self) -> dict[str, list[ClaimResult]]:
        """The lesson's claims (counts == "claim"), each with the tests that decide it, in order."""
        out: dict[str, list[ClaimResult]] = {}
        for c in self.claims:
            if c.counts == "claim":
                out.setdefault(c.sentence or c.id, []).append(c)
        return out

    def claim(self, claim_id: str) -> ClaimResult:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(claim_id)


# ------------------------------------------------------------------ across environments

CELL_SCHEMA = "lesson-claims/cell/1"
CELL_STATUSES = ("decided", "not run", "certification failed")


@dataclass(frozen=True)
class Cell:
    """One environment of the TensorFlow matrix (a tox environment): its summary, or why it has none."""

    env: str  # the tox environment, e.g. py311-tf216-k3-cpu
    status: str  # one of CELL_STATUSES
    reason: str = ""  # why not decided: the installer's or the certification's own last words
    schema: str = CELL_SCHEMA
    tensorflow: str = ""
    keras: str = ""
    fingerprint: str | None = None
    certificate: str | None = None  # the committed certificate, relative to the repository
    install_seconds: float | None = None
    certify_seconds: float | None = None  # None: a valid certificate was on file
    claims_seconds: float | None = None
    pytest_exit: int | None = None  # 1 where a claim ended other than expected: still decided, and shown
    cores: int | None = None  # of the machine that measured the seconds
    machine: Machine | None = None  # the cell's hardware, as its environment saw it (None in older records)
    summary: Results | None = None

    def __post_init__(self):
        if self.status not in CELL_STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(CELL_STATUSES)}")


@dataclass(frozen=True)
class Difference:
    """Why a claim's label or deciding metric differs between two neighbouring cells, with the evidence: the
    two environments' Keras references (seeds of their certificates) compared epoch by epoch."""

    claim: str
    left: str  # tox environments
    right: str
    what: str  # "label SUPPORTED -> INCONCLUSIVE", "metric moved (Mann-Whitney p=..., A=...)"
    kind: str  # "behaviour" (from the first epoch or the initial weights), "numerics" (later), "reporting" (the
    # training state bit-identical at every checkpoint, only the History differs), "chance", "unknown"
    evidence: tuple[str, ...] = ()  # one sentence per configuration the claim trains


@dataclass(frozen=True)
class Neighbours:
    """Two neighbouring cells' Keras references compared configuration by configuration, whether or not a
    claim differs: which train bit-identically, which part later (numerics), which from the start."""

    left: str  # tox environments
    right: str
    identical: tuple[str, ...] = ()  # configurations
    numerics: tuple[str, ...] = ()
    behaviour: tuple[str, ...] = ()
    first_parting: tuple[int, int] | None = None  # earliest and latest epoch where a seed's losses part
    unknown: str = ""  # why they could not be compared
    reporting: tuple[str, ...] = ()  # bit-identical training state at every checkpoint, yet the History differs
