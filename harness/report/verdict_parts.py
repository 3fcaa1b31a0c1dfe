"""The pieces of a test that the summary table and the test's own section show alike, as values for the
templates' macros of the same names (``templates/macros.html``)."""
from __future__ import annotations

from typing import Mapping

from harness.spec import NOT_TESTABLE
from harness.report.format import effect_text, fmt_num, fmt_seconds
from harness.report.labels import TAGS, belongs
from harness.results.model import ClaimResult

# What each way of belonging means, for the tag's tooltip.
_TAG_TITLES = {"derived": "a prediction the suite derives from the lesson, not one of its claims",
               "duplicate": "the same measurement on another scale",
               "finding": "the lesson's literal code as today's Keras runs it, beside the sentence decided on the "
                          "training it describes: a finding, counted apart",
               "part": "counted once with that lesson claim: parts of one sentence, or variants of one setting",
               "whole": "the lesson claim this test heads, counted once with its parts: REFUTED if any is, "
                        "SUPPORTED if every testable one is"}


def tag(c: ClaimResult, sentences: Mapping[str, list[ClaimResult]]) -> dict | None:
    """What a test counts as, when not as a lesson claim of its own (:func:`belongs`): the tag's words around
    the other claim (``linked``: a test on this page) and its tooltip; None for a claim that is its one test."""
    got = belongs(c, sentences)
    if got is None:
        return None
    kind, other = got
    before, *after = TAGS[kind].split("{}")
    return {"title": _TAG_TITLES[kind], "before": before, "other": other if after else None,
            "after": after[0] if after else "", "linked": kind in ("duplicate", "part", "finding")}


def effect_cell(c: ClaimResult) -> dict:
    """The test's effect; a not-testable test has none to show (a 0 there would read as a measurement)."""
    if c.label == NOT_TESTABLE:
        return {"untestable": c.untestable or "not testable here", "text": ""}
    return {"untestable": None, "text": effect_text(c.effect)}


def seeds_cell(c: ClaimResult) -> dict:
    """The seeds of each look (with what the later looks cost), or of the one look."""
    if len(c.looks) > 1:
        return {"path": [fmt_num(lk.seeds) for lk in c.looks],
                "cost": fmt_seconds(sum(lk.seconds for lk in c.looks)), "seeds": fmt_num(c.seeds)}
    return {"path": [], "cost": "", "seeds": fmt_num(c.seeds)}
