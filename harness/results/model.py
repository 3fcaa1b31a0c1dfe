"""The results model: what a run of the claims produces, typed, with one JSON codec.

The runner builds these objects; ``results.json`` is their :func:`encode`;
everything that reads results (the report, summaries, compare, drift) reads
them through :func:`decode` / :func:`load`, which check the schema and name
the file and field at fault.  A claim's result keeps the per-seed values of
its deciding metric (``metric_samples``) and the per-seed outcomes its rule
counted (``outcomes``) as separate fields.

``SCHEMA`` 2 added the sequential looks, the design, pairing, expectations,
amendments, findings and probes; files of schema 1 still decode (those
fields empty).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from harness.training import records
from harness.version import RESULTS_SCHEMA

SCHEMA = RESULTS_SCHEMA
READABLE = ("lesson-claims/results/1", SCHEMA)
VERDICTS = ("SUPPORTED", "REFUTED", "INCONCLUSIVE")


class ResultsError(ValueError):
    """A results file or object that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Effect:
    name: str | None = None
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None
    threshold: float | None = None
    zone: list[float] | None = None
    absolute: bool = False  # threshold and zone apply to |value|


@dataclass(frozen=True)
class LookResult:
    seeds: int
    verdict: str
    p_value: float | None = None
    alpha: float | None = None
    effect: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    at_threshold: bool = False
    untestable: str | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class ExpectationResult:
    verdict: str
    why: str = ""
    ranges: dict[str, list[float]] = field(default_factory=dict)
    passed: bool = True
    message: str | None = None


@dataclass(frozen=True)
class AmendmentRecord:
    date: str
    old_rule: str
    new_rule: str
    reason: str
    old_verdict: str


@dataclass(frozen=True)
class ClaimResult:
    id: str
    verdict: str
    section: str = ""
    quote: str = ""
    interpretation: str = ""
    rule: str = ""
    expected_verdict: str | None = None
    expected_label: str | None = None  # where it says more than the verdict (ON THE LINE, NOT TESTABLE HERE)
    expectation: ExpectationResult | None = None
    test: str = ""
    statistic: float | None = None
    p_value: float | None = None
    alpha: float | None = None
    effect: Effect = field(default_factory=Effect)
    at_threshold: bool = False
    untestable: str | None = None  # why the rule's test could not run ("not testable here")
    zone_factor: float | None = None  # harness.claims.Decision.zone_factor
    # What the test counts as: "claim" (a sentence of the lesson, or a part or variant of one), "derived" (a
    # prediction the suite derives from the lesson, not a result it reports) or "duplicate" (the same
    # measurement as ``sentence`` on another scale); ``sentence``: the id of the lesson claim it belongs to.
    counts: str = "claim"
    sentence: str | None = None
    seeds: int | None = None
    experiments: list[str] = field(default_factory=list)
    metric: str = ""
    metric_threshold: float | None = None
    metric_samples: dict[str, list[float]] = field(default_factory=dict)
    outcomes: dict[str, list[bool]] | None = None
    detail: str = ""
    seeds_needed: int | None = None
    seeds_needed_for: str | None = None
    design: str | None = None
    pairing: str | None = None
    findings: list[str] = field(default_factory=list)
    probes: list[dict] = field(default_factory=list)
    looks: list[LookResult] = field(default_factory=list)
    sequential: dict | None = None
    amendments: list[AmendmentRecord] = field(default_factory=list)

    @property
    def label(self) -> str:
        from harness.claims import label

        return label(self.verdict, self.at_threshold, self.untestable)


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


@dataclass(frozen=True)
class Results:
    claims: list[ClaimResult]
    environment: dict = field(default_factory=dict)
    schema: str = SCHEMA
    suite_version: str | None = None
    certificate: dict | None = None
    mutants: dict | None = None
    experiments: dict = field(default_factory=dict)
    equivalence: list[dict] = field(default_factory=list)
    drift: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    design: dict | None = None
    rules: str | None = None  # harness.claims.RULES of the run
    # Other batch orders' verdicts of the same claims in this environment (committed summaries of a
    # --claims-batch-order=replayed run): {"replayed": {"path": ..., "claims": {id: {...}}}}
    variants: dict | None = None
    runs_file: dict | None = None  # the per-epoch histories' sidecar: name and sha256
    runs: list[dict] | None = None  # inline histories (schema 1 files; new files use the sidecar)

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


# ------------------------------------------------------------------ codec

def to_dict(obj) -> Any:
    """Plain JSON-ready data (non-finite floats survive through :mod:`harness.training.records`)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    return obj


def encode(results: Results, **kw) -> str:
    return records.dumps(to_dict(results), **kw)


def _build(cls, data: Any, where: str):
    if not isinstance(data, Mapping):
        raise ResultsError(f"{where}: expected an object, got {type(data).__name__}")
    names = {f.name: f for f in dataclasses.fields(cls)}
    missing = [n for n, f in names.items()
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and n not in data]
    if missing:
        raise ResultsError(f"{where}: missing {', '.join(repr(m) for m in missing)}")
    return {k: v for k, v in data.items() if k in names}


def claim_from_dict(data: Any, where: str = "claim") -> ClaimResult:
    kw = _build(ClaimResult, data, where)
    where = f"{where} {kw.get('id')!r}"
    if kw["verdict"] not in VERDICTS:
        raise ResultsError(f"{where}: verdict {kw['verdict']!r} is not one of {', '.join(VERDICTS)}")
    if kw.get("expectation") is not None:
        kw["expectation"] = ExpectationResult(**_build(ExpectationResult, kw["expectation"], f"{where} expectation"))
    kw["effect"] = Effect(**_build(Effect, kw.get("effect") or {}, f"{where} effect"))
    kw["looks"] = [LookResult(**_build(LookResult, lk, f"{where} look {i}")) for i, lk in enumerate(kw.get("looks") or [])]
    kw["amendments"] = [AmendmentRecord(**_build(AmendmentRecord, a, f"{where} amendment {i}"))
                        for i, a in enumerate(kw.get("amendments") or [])]
    for key in ("findings", "probes", "experiments"):
        kw[key] = list(kw.get(key) or [])
    kw["metric_samples"] = dict(kw.get("metric_samples") or {})
    return ClaimResult(**kw)


def from_dict(data: Any, source: str = "results") -> Results:
    if not isinstance(data, Mapping):
        raise ResultsError(f"{source}: not a results object")
    schema = data.get("schema")
    if schema not in READABLE:
        raise ResultsError(f"{source}: schema {schema!r} is not a results schema this suite reads ({', '.join(READABLE)})")
    claims = data.get("claims")
    if not isinstance(claims, list) or not claims:
        raise ResultsError(f"{source}: no claims (field 'claims' is {'empty' if claims == [] else 'missing'})")
    kw = _build(Results, data, source)
    kw["claims"] = [claim_from_dict(c, f"{source}: claims[{i}]") for i, c in enumerate(claims)]
    kw["environment"] = dict(kw.get("environment") or {})
    kw["notes"] = list(kw.get("notes") or [])
    kw["equivalence"] = list(kw.get("equivalence") or [])
    kw["drift"] = list(kw.get("drift") or [])
    return Results(**kw)


def decode(text: str, source: str = "results") -> Results:
    try:
        data = records.loads(text)
    except ValueError as exc:
        raise ResultsError(f"{source}: not valid JSON, truncated? ({exc})") from None
    return from_dict(data, source)


def load(path: Path) -> Results:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read ({exc})") from None
    return decode(text, str(path))
