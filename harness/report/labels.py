"""What a reader is told about each test, and how the tests count as the lesson's claims.

The page, the terminal summary (:mod:`harness.pytest_plugin`) and the README tables all say it the same
way: through these functions, on :class:`~harness.results.ClaimResult` objects.
"""
from __future__ import annotations

import re
from typing import Mapping

from harness.spec import LABELS, ON_THE_LINE
from harness.report.format import plural
from harness.results.model import ClaimResult, sentence_label

DECIDED = ("SUPPORTED", "REFUTED")

# The tag of each way a test belongs (:func:`belongs`), ``{}`` the other claim or the lesson claim's label.
TAGS = {"derived": "derived prediction, counted apart", "duplicate": "duplicate of {}, counted apart",
        "finding": "the literal code of {} on today's Keras: a finding, counted apart",
        "part": "part of {}", "whole": "counted with its parts: {}"}


def reader_label(c: ClaimResult) -> str:
    """The label a reader is told (harness.spec.label): the verdict, with INCONCLUSIVE split by why."""
    return c.label


def lesson_claims(claims: list[ClaimResult]) -> dict[str, list[ClaimResult]]:
    """{lesson claim: the tests that decide it}, in order (:meth:`harness.results.Results.sentences`)."""
    out: dict[str, list[ClaimResult]] = {}
    for c in claims:
        if c.counts == "claim":
            out.setdefault(c.sentence or c.id, []).append(c)
    return out


def lesson_label(tests: list[ClaimResult]) -> str:
    """One lesson claim's label from its tests: REFUTED if any is, SUPPORTED if every testable one is."""
    return sentence_label(tests)


def claim_counts(claims: list[ClaimResult]) -> tuple[str, list[tuple[int, str]], str]:
    """("17 claims", [(12, "SUPPORTED"), ...], "24 tests (1 derived prediction and 1 duplicate, counted
    apart)"): the lesson's claims, each counted once with the label of its tests (:func:`lesson_label`), how
    many have each label, and the tests."""
    per_label = dict.fromkeys(LABELS, 0)
    sentences = lesson_claims(claims)
    for tests in sentences.values():
        per_label[lesson_label(tests)] += 1
    apart = [plural(n, w) for n, w in ((sum(c.counts == "derived" for c in claims), "derived prediction"),
                                        (sum(c.counts == "duplicate" for c in claims), "duplicate"),
                                        (sum(c.counts == "finding" for c in claims), "finding")) if n]
    tests = plural(len(claims), "test") + (f" ({' and '.join(apart)}, counted apart)" if apart else "")
    return plural(len(sentences), "claim"), [(n, lab) for lab, n in per_label.items()], tests


def counts_text(claims: list[ClaimResult]) -> str:
    """"17 claims of the lesson: 12 SUPPORTED, ..., 1 INCONCLUSIVE (short of seeds); 24 tests (1 derived
    prediction and 1 duplicate, counted apart)" (:func:`claim_counts`; the page sets each label as a badge)."""
    sentences, per_label, tests = claim_counts(claims)
    labels = ", ".join(f"{n} {lab}" + (" (short of seeds)" if lab == "INCONCLUSIVE" else "") for n, lab in per_label)
    return f"{sentences} of the lesson: {labels}; {tests}"


def belongs(c: ClaimResult, sentences: Mapping[str, list[ClaimResult]]) -> tuple[str, str | None] | None:
    """How a test is counted when not as a lesson claim of its own: ("derived", None), ("duplicate", of),
    ("part", of: the lesson claim it is a part or variant of) or ("whole", label: the lesson claim it
    heads, decided with its parts); None for a claim that is its one test."""
    if c.counts == "derived":
        return "derived", None
    if c.counts in ("duplicate", "finding"):
        return c.counts, c.sentence or ""
    if c.sentence and c.sentence != c.id:
        return "part", c.sentence
    tests = sentences.get(c.id, [])
    return ("whole", lesson_label(tests)) if len(tests) > 1 else None


def expected_of(c: ClaimResult) -> tuple[str, bool]:
    """(the expected label, whether the claim's differs from it).  An expectation that names a label is
    held to the label; one that names only a verdict, to the verdict (an INCONCLUSIVE expected is met by
    ON THE LINE too)."""
    expectation = c.expectation
    if expectation.label:
        return expectation.label, c.label != expectation.label
    return expectation.verdict.value, c.verdict is not expectation.verdict


_OLD_WORD = re.compile(r"\s*(SUPPORTED|REFUTED|ON THE LINE|NOT TESTABLE HERE|INCONCLUSIVE)((?i: on the line))?")


def old_label(old_verdict: str) -> str | None:
    """The label an amendment's ``old_verdict`` starts with ("INCONCLUSIVE on the line" is ON THE LINE);
    None where it names none (a sentence about many claims)."""
    m = _OLD_WORD.match(old_verdict)
    if not m:
        return None
    return ON_THE_LINE if m.group(2) else m.group(1)


def direction(old: str, now: str) -> str:
    """Which way a label moved: toward a decision, toward undecided, or not at all."""
    if old == now:
        return "unchanged"
    if now in DECIDED:
        return f"toward {now}"
    return "toward undecided" if old in DECIDED else "still undecided"


def readings_text(c: ClaimResult) -> str:
    """"robust", "reading-dependent (a, b)" or "no contestable word"."""
    if c.robust is None:
        return "no contestable word" if c.uncontested else "readings not recorded"
    return "robust" if c.robust else f"reading-dependent ({', '.join(c.differing_readings)})"


def robustness_counts(claims: list[ClaimResult]) -> str:
    """"11 robust, 4 reading-dependent, 11 with no contestable word" over the tests."""
    robust = sum(c.robust is True for c in claims)
    dependent = sum(c.robust is False for c in claims)
    plain = sum(c.robust is None and bool(c.uncontested) for c in claims)
    missing = sum(c.robust is None and not c.uncontested for c in claims)
    return (f"readings: {robust} robust, {dependent} reading-dependent, {plain} with no contestable word"
            + (f", {missing} not recorded (decided before readings, 2026-12-02)" if missing else ""))


def error_bound_text(claims: list[ClaimResult], familywise=None) -> str:
    """The chance that at least one of the run's decided verdicts is wrong, under the design: each test at most
    its claim alpha, so all of them at most their sum (Bonferroni); with ``familywise`` (Results.familywise),
    at most its alpha for the Holm labelling."""
    from harness.spec import CLAIM_ALPHA
    from harness.statistics.familywise import union_bound

    n = len(claims)
    decided = sum(c.label in DECIDED for c in claims)
    tests = "the 1 test is" if n == 1 else f"each of the {n} tests is"
    text = (f"error bound: {tests} wrong with chance at most {CLAIM_ALPHA:.0%} under the design, "
            f"so at least one of its {plural(decided, 'decided verdict')} is wrong with chance at most "
            f"{union_bound(n):.0%} (Bonferroni over {plural(n, 'test')})")
    if familywise is not None:
        moved = sum(familywise.labels.get(c.id) != c.label for c in claims)
        text += (f"; under Holm at {familywise.alpha:g}, at most {familywise.alpha:.0%}: "
                 f"{sum(lab in DECIDED for lab in familywise.labels.values())} decided, {moved} labels differ")
    return text
