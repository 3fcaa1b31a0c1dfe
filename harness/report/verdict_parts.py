"""The pieces of a test that the summary table and the test's own section show alike."""
from __future__ import annotations

from typing import Mapping

from harness.spec import NOT_TESTABLE
from harness.report.format import effect_text, esc, fmt_num, fmt_seconds, num
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


def tag(c: ClaimResult, sentences: Mapping[str, list[ClaimResult]]) -> str:
    """What a test counts as, when not as a lesson claim of its own (:func:`belongs`), as a small tag."""
    got = belongs(c, sentences)
    if got is None:
        return ""
    kind, other = got
    shown = f'<a href="#{esc(other)}">{esc(other)}</a>' if kind in ("duplicate", "part", "finding") else esc(other)
    return f'<span class="tag" title="{esc(_TAG_TITLES[kind])}">{TAGS[kind].format(shown)}</span>'


def effect_cell(c: ClaimResult) -> str:
    """The test's effect; a not-testable test has none to show (a 0 there would read as a measurement)."""
    if c.label == NOT_TESTABLE:
        return f'<span class="muted">none: {esc(c.untestable or "not testable here")}</span>'
    return esc(effect_text(c.effect))


def seeds_cell(c: ClaimResult) -> str:
    """The seeds of each look (with what the later looks cost), or of the one look."""
    if len(c.looks) > 1:
        path = " → ".join(num(fmt_num(lk.seeds)) for lk in c.looks)
        cost = sum(lk.seconds for lk in c.looks)
        return f'{path}<br><span class="muted small">{esc(fmt_seconds(cost))}</span>'
    return num(fmt_num(c.seeds))
