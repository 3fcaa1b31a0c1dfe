"""A claim is data: the lesson's sentence, where it is, how its vague words
became numbers, which experiments it needs, its per-seed metric, the rule that
decides it, what each environment is expected to measure, and every change of
rule made after data were seen.  ``claims/`` lists them; the rules themselves
live in :mod:`harness.statistics` (by family: :mod:`harness.statistics.decisions`), the looks over more seeds in
:mod:`harness.statistics.sequential`.

A claim's test asserts SUPPORTED; a claim measured otherwise declares it in its
:class:`Expectation` (verdict plus pinned numeric ranges per environment) and
becomes ``xfail(strict=True, raises=...)``, so the suite turns red the day a
TensorFlow version changes the outcome, and a pinned number that moves fails
the claim outright.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from .training import inside_quantities as insidelib
from .training.identical import identical_runs
from .training.records import RunRecord

# The date of the decision rules in force: set anew by every amendment.  Summaries carry it,
# and a baseline decided under other rules has its verdicts shown, never compared.
RULES = "2026-11-30"

# The family-wise error of one claim: its chance of a wrong SUPPORTED or REFUTED,
# over both directions and every look of the sequential design, is at most this.
CLAIM_ALPHA = 0.01


class Verdict(str, enum.Enum):
    SUPPORTED = "SUPPORTED"
    REFUTED = "REFUTED"
    INCONCLUSIVE = "INCONCLUSIVE"


class ClaimRefuted(AssertionError):
    """The data contradict the lesson's claim."""


class ClaimInconclusive(AssertionError):
    """The data neither support nor refute the claim with the seeds it got."""


class ClaimNotTestable(ClaimInconclusive):
    """The rule's test cannot run on this evidence here (e.g. the treatment never changed a run)."""


class ExpectationMissed(AssertionError):
    """A number pinned for this environment moved out of its range (never an expected failure)."""


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What a rule concluded on one look at the evidence.

    ``p_value`` is None when the rule could not run its test (too few seeds, a
    diverged run where a mean is needed, ...): ``detail`` then names the reason.
    ``ci_low``/``ci_high`` is the interval at confidence 1 - 2 alpha (the one a
    pair of one-sided tests at alpha corresponds to) for ``effect``.
    ``at_threshold``: INCONCLUSIVE with that interval inside the indifference
    zone ``zone``: more seeds would not decide it, the effect sits on the line.
    """

    verdict: Verdict
    test: str
    p_value: float | None
    alpha: float
    effect_name: str
    effect: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    threshold: float | None = None
    zone: tuple[float, float] | None = None
    at_threshold: bool = False
    statistic: float | None = None
    detail: str = ""
    seeds_needed: int | None = None
    # Which verdict those seeds would show and under what assumed effect, e.g.
    # "to show rate < 0.1 (REFUTED) if the true rate is 0.13".
    seeds_needed_for: str | None = None
    comparison: str = "one sample"  # "one sample" | "paired" | "unpaired"
    # Per-seed yes/no of the rule's condition, for rules that count one (rate rules);
    # the engine-equivalence check compares them between engines.
    outcomes: Mapping[str, list[bool]] | None = None
    findings: tuple[str, ...] = ()
    # Why the rule's test could not run on this evidence (INCONCLUSIVE, p_value None): "not testable here".
    untestable: str | None = None
    # True when no later look can change an untestable verdict (a diverged run stays in every prefix).
    untestable_settled: bool = False
    # How far the verdict is from its zone: for a decided claim, the largest factor the zone's width could be
    # scaled by (about its threshold) with the same verdict; on the line, the smallest factor that keeps the
    # interval inside.  None where there is no interval.
    zone_factor: float | None = None
    # The threshold and zone apply to |effect| (equivalence, mean in a band): a signed effect's distance from 0.
    absolute: bool = False
    # The two one-sided tests' p-values, each against its edge of the zone (SUPPORTED side, REFUTED side;
    # Bonferroni-adjusted inside the rule where it tests several groups): what the verdict was read from,
    # kept so a summary can be re-decided and the suite corrected family-wise.  None: no test ran.
    p_supported: float | None = None
    p_refuted: float | None = None

    @property
    def label(self) -> str:
        return label(self.verdict.value, self.at_threshold, self.untestable)


class SpecError(ValueError):
    """A rule or claim spec that cannot decide anything as written (e.g. a zone without its threshold)."""


def check_zone(zone, threshold: float, what: str) -> tuple[float, float]:
    """A zone is part of the hypothesis: two increasing numbers around the threshold."""
    if zone is None:
        raise SpecError(f"{what}: no indifference zone (every rule needs one, on the quantity it tests)")
    lo, hi = (float(z) for z in zone)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise SpecError(f"{what}: zone {list(zone)} must be two increasing finite numbers")
    if not lo <= threshold <= hi:
        raise SpecError(f"{what}: zone {list(zone)} does not contain the threshold {threshold}")
    return lo, hi


ON_THE_LINE = "ON THE LINE"
NOT_TESTABLE = "NOT TESTABLE HERE"
LABELS = ("SUPPORTED", "REFUTED", ON_THE_LINE, NOT_TESTABLE, "INCONCLUSIVE")


def label(verdict: str, at_threshold: bool = False, untestable: str | None = None) -> str:
    """What a reader is told: the verdict, with INCONCLUSIVE split by why (on the claim's line, not testable
    here, or short of seeds at the last look)."""
    if verdict != "INCONCLUSIVE":
        return verdict
    if untestable:
        return NOT_TESTABLE
    return ON_THE_LINE if at_threshold else "INCONCLUSIVE"


@dataclass(frozen=True)
class Amendment:
    """A rule changed after its data were seen, recorded, never silently replaced."""

    date: str
    old_rule: str
    new_rule: str
    reason: str
    old_verdict: str  # the verdict the old rule gave, with its numbers


@dataclass(frozen=True)
class Expectation:
    """What a claim is expected to measure: a verdict everywhere, and numbers
    pinned per environment (keyed by the start of the environment fingerprint,
    e.g. "tf2.21.0-keras3.15.1-cpu"): {quantity: (low, high)}, checked on every
    run where the key matches.  Quantities: "effect" (the decision's effect at
    its last look) and "seeds" (the seeds of that look)."""

    verdict: Verdict = Verdict.SUPPORTED
    pins: Mapping[str, Mapping[str, tuple[float, float]]] = field(default_factory=dict)
    why: str = ""  # one sentence on what was measured; the numbers are the pins
    # The label expected where it says more than the verdict ("ON THE LINE", "NOT TESTABLE HERE").
    label: str | None = None

    def __post_init__(self):
        if self.label is not None and self.label not in LABELS:
            raise ValueError(f"expected label {self.label!r} is not one of {', '.join(LABELS)}")
        if self.label in (ON_THE_LINE, NOT_TESTABLE) and self.verdict is not Verdict.INCONCLUSIVE:
            raise ValueError(f"label {self.label!r} is an INCONCLUSIVE verdict, not {self.verdict.value}")

    @property
    def expected_label(self) -> str:
        return self.label or self.verdict.value

    def check_label(self, got: str) -> list[str]:
        """A message when the decision's label is not the one expected (an on-the-line claim that became
        not testable, say: the verdict alone would not tell)."""
        if self.verdict is Verdict.INCONCLUSIVE and self.label and got != self.label and got not in (
                "SUPPORTED", "REFUTED"):
            return [f"label {got} where {self.label} was expected"]
        return []

    def pins_for(self, fingerprint: str) -> dict[str, tuple[float, float]]:
        found = {}
        for prefix, ranges in self.pins.items():
            if fingerprint.startswith(prefix):
                found.update(ranges)
        return found

    def check(self, fingerprint: str, quantities: Mapping[str, float | None]) -> list[str]:
        """The pinned quantities that fall outside their ranges, as messages (empty: all hold)."""
        missed = []
        for name, (low, high) in sorted(self.pins_for(fingerprint).items()):
            value = quantities.get(name)
            if value is None or not (isinstance(value, (int, float)) and low <= value <= high):
                missed.append(f"{name} = {value} outside the range [{low}, {high}] pinned for {fingerprint}")
        return missed

    def describe(self) -> str:
        pins = "; ".join(f"{env}: " + ", ".join(f"{q} in [{lo:g}, {hi:g}]" for q, (lo, hi) in r.items())
                         for env, r in self.pins.items())
        return (self.expected_label + (f" (observed, pinned: {pins})" if pins else "")
                + (f": {self.why}" if self.why else ""))


COUNTS = ("claim", "derived", "duplicate", "finding")

# What a reading may read of a run (RunRecord.history / .metrics), by dataset; and the probes a runner can
# attach to each run (RunRecord.extra[name], computed by harness.training.probes on the same seeds).
HISTORY_KEYS = {"regression": ("loss", "val_loss"), "circles": ("loss", "accuracy", "val_loss", "val_accuracy")}
METRIC_KEYS = {"regression": ("train_loss", "test_loss", "first_nonfinite_epoch", "init_grad_max_abs",
                              "test_rmse_original_units"),
               "circles": ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "first_nonfinite_epoch",
                           "init_grad_max_abs")}
PROBE_KEYS = {"regression": ("initial_gradient",), "circles": ()}
# The attributes of a rule (harness.statistics) that name an experiment it reads.
_RULE_EXPERIMENTS = ("exp", "better", "worse", "a", "b", "base", "treated")


def rule_experiments(rule) -> tuple[str, ...]:
    """The experiments a rule reads: its named arms and the experiments of its groups."""
    names = [getattr(rule, f) for f in _RULE_EXPERIMENTS if isinstance(getattr(rule, f, None), str)]
    names += [e for _, e in getattr(rule, "groups", ())]
    return tuple(dict.fromkeys(names))


def check_inside(what: str, uses: Sequence[insidelib.Use], experiments: Sequence[str]) -> None:
    """Each probe a claim or reading reads exists on the experiments it reads it on (saturation on tanh
    layers, dead units on ReLU layers, a layer within the depth), or a SpecError naming ``what``."""
    from harness.training import catalog  # plain data

    for use in uses:
        foreign = [e for e in use.experiments if e not in experiments]
        if foreign:
            raise SpecError(f"{what} reads the probe {use.quantity!r} on {', '.join(foreign)}, which it does not "
                            f"train (it trains {', '.join(experiments)})")
        for name in use.experiments or experiments:
            try:
                problem = use.problem(catalog.get(name))
            except KeyError as exc:
                raise SpecError(f"{what}: {exc.args[0]}") from None
            if problem:
                raise SpecError(f"{what}: {problem}")


@dataclass(frozen=True)
class Reading:
    """Another way a careful reader could translate the claim's words, declared in the spec before the run
    that decides it, decided on the same runs as the primary and shown beside it: it never changes the
    primary's verdict.  ``uses``: what of a run it reads (History keys, final metrics, probes), checked
    against what the claim's experiments record."""

    name: str
    words: str  # the reading, in words, with the reasoning from the lesson's text
    decide: Callable[..., "Decision"]
    uses: tuple[str, ...] = ()
    declared: str = ""  # the date it was declared
    # What it reads of the probes recorded inside training (harness.training.inside), checked like ``uses``.
    inside: tuple[insidelib.Use, ...] = ()

    def check(self, claim_id: str, experiments: Sequence[str], datasets: Mapping[str, str]) -> None:
        what = f"claim {claim_id}: reading {self.name!r}"
        check_inside(what, self.inside, rule_experiments(self.decide) or tuple(experiments))
        used = rule_experiments(self.decide)
        if not used:
            raise SpecError(f"{what}: its rule names no experiment")
        foreign = [e for e in used if e not in experiments]
        if foreign:
            raise SpecError(f"{what} decides on {', '.join(foreign)}, which the claim does not train "
                            f"(it trains {', '.join(experiments)})")
        for key in self.uses:
            known = {k for e in used for k in (HISTORY_KEYS[datasets[e]] + METRIC_KEYS[datasets[e]]
                                               + PROBE_KEYS[datasets[e]])}
            if key not in known:
                raise SpecError(f"{what} reads {key!r}, which no run of {', '.join(used)} records "
                                f"(known: {', '.join(sorted(known))})")
        threshold = getattr(self.decide, "threshold", None)
        if threshold is None:
            raise SpecError(f"{what}: its rule has no threshold to put a zone around")
        check_zone(getattr(self.decide, "zone", None), threshold, what)

    @property
    def probes(self) -> tuple[str, ...]:
        return tuple(k for k in self.uses if any(k in v for v in PROBE_KEYS.values()))


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    quote: str
    interpretation: str  # how the lesson's vague words became numbers, written before any run
    rule: str  # the decision rule in words
    experiments: tuple[str, ...]
    metric: str  # name of the per-seed deciding metric
    metric_fn: Callable[[RunRecord], float]
    decide: Callable[..., Decision]  # decide(evidence, alpha=...) -> Decision (see harness.statistics.decisions)
    expect: Expectation = field(default_factory=Expectation)
    amendments: tuple[Amendment, ...] = ()
    # The value of the metric the rule compares each seed with, where there is one (for figures).
    metric_threshold: float | None = None
    # Clipped experiments whose clipping engagement is measured beside the decision (harness.training.probes).
    probes: tuple[str, ...] = ()
    # What the test counts as in the summary: "claim" (a sentence of the lesson; tests of parts of one
    # sentence, or of one sentence under several settings, share ``sentence``), "derived" (a prediction
    # the suite derives from the lesson's reasoning or a suggested experiment) or "duplicate" (the same
    # measurement as the claim ``sentence`` names, on another scale).  Counted apart from the claims.
    counts: str = "claim"
    sentence: str | None = None
    # Readings side by side: the other translations a careful reader could defend (harness.spec.Reading);
    # or, for a claim whose words leave nothing to read otherwise, one sentence saying why (``uncontested``).
    readings: tuple[Reading, ...] = ()
    uncontested: str = ""
    # What the claim reads of the probes recorded inside training (harness.training.inside): checked against
    # its experiments when it is collected; not testable on an engine that records none.
    inside: tuple[insidelib.Use, ...] = ()
    # A claim whose training does not fit the default run (the sweeps) is decided in the ``thorough`` profile
    # only (skipped elsewhere, saying so); ``max_seeds`` caps its looks (the sweep's many experiments).
    profile: str = "default"
    max_seeds: int | None = None

    def __post_init__(self):
        if self.profile not in ("default", "thorough"):
            raise SpecError(f"claim {self.id}: profile={self.profile!r} is not 'default' or 'thorough'")
        if self.counts not in COUNTS:
            raise SpecError(f"claim {self.id}: counts={self.counts!r} is not one of {', '.join(COUNTS)}")
        if self.counts in ("duplicate", "finding") and not self.sentence:
            raise SpecError(f"claim {self.id}: a {self.counts} names the claim it belongs to (sentence=...)")
        if self.readings and self.uncontested:
            raise SpecError(f"claim {self.id}: it has alternative readings, so it cannot also be uncontested")
        threshold = getattr(self.decide, "threshold", None)
        if threshold is None:
            raise SpecError(f"claim {self.id}: its rule has no threshold to put a zone around")
        try:
            check_zone(getattr(self.decide, "zone", None), threshold, f"claim {self.id}")
        except SpecError as exc:
            raise SpecError(str(exc)) from None
        check_inside(f"claim {self.id}", self.inside, self.experiments)
        names = [r.name for r in self.readings]
        if len(set(names)) != len(names):
            raise SpecError(f"claim {self.id}: reading names repeat ({', '.join(names)})")
        if self.readings:
            from harness.training import catalog  # plain data: the datasets a reading may read
            datasets = {}
            for e in self.experiments:
                try:
                    datasets[e] = catalog.get(e).dataset
                except KeyError as exc:
                    raise SpecError(f"claim {self.id}: {exc.args[0]}") from None
            for reading in self.readings:
                reading.check(self.id, self.experiments, datasets)

    @property
    def expected_verdict(self) -> Verdict:
        return self.expect.verdict

    def check_readings_given(self) -> None:
        """A claim of the suite shows its alternative readings, or says in one sentence why it has none."""
        if not (self.readings or self.uncontested):
            raise SpecError(f"claim {self.id}: give its alternative readings (readings=...) or say in one sentence "
                            "why its words leave nothing to read otherwise (uncontested=...)")


@dataclass
class Evidence:
    """The runs a claim is decided on: experiment name -> records in seed order."""

    runs: dict[str, list[RunRecord]]

    def values(self, exp: str, fn: Callable[[RunRecord], float]) -> np.ndarray:
        return np.array([fn(r) for r in self.runs[exp]], dtype=float)

    @property
    def seeds(self) -> int:
        return min(len(v) for v in self.runs.values())

    def first(self, n: int) -> "Evidence":
        return Evidence({e: v[:n] for e, v in self.runs.items()})

    def identical(self, a: str, b: str) -> np.ndarray:
        """Per seed (of those both have): are the runs of ``a`` and ``b`` bit-identical?"""
        n = min(len(self.runs[a]), len(self.runs[b]))
        return np.array([identical_runs([x], [y]) == 1 for x, y in zip(self.runs[a][:n], self.runs[b][:n])],
                        dtype=bool)


def assert_supported(claim: Claim, decision: Decision) -> None:
    p = "no test" if decision.p_value is None else f"p={decision.p_value:.3g}"
    msg = f"{claim.id}: {decision.verdict.value} ({decision.test}, {p}); {decision.detail}"
    if decision.verdict is Verdict.REFUTED:
        raise ClaimRefuted(msg)
    if decision.verdict is Verdict.INCONCLUSIVE:
        if decision.untestable:
            raise ClaimNotTestable(msg)
        if decision.at_threshold:
            msg += f"; the interval lies inside the indifference zone {decision.zone}: the effect sits on the line"
        elif decision.seeds_needed:
            msg += f"; about {decision.seeds_needed} seeds {decision.seeds_needed_for or ''}".rstrip()
        raise ClaimInconclusive(msg)


# -- metric helpers ----------------------------------------------------------
def worst_if_nonfinite(x: float) -> float:
    """For "lower is better" metrics: a diverged (NaN/inf) run ranks as the worst,
    never dropped."""
    return math.inf if not math.isfinite(x) else x


def window_mean(values: Sequence[float], first_epoch: int, last_epoch: int) -> float:
    """Mean over 1-based epochs first..last inclusive (NaN propagates)."""
    return float(np.mean(np.asarray(values[first_epoch - 1:last_epoch], dtype=float)))
