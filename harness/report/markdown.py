"""The verdict table as GitHub-flavoured Markdown, for a CI job summary (``python -m harness summary``).

One row per test of the results (id, label, effect [interval], zone, seeds, p-value), under a heading that
counts the lesson's claims by label, and a line naming where the run ran (TensorFlow, Keras, device).
Every value is spelled by the page's own helpers (:mod:`harness.report.format`, :mod:`harness.report.labels`),
so the summary and ``reports/index.html`` say the same thing the same way.  No figures: nothing here imports
matplotlib.
"""
from __future__ import annotations

import dataclasses

from harness.spec import NOT_TESTABLE
from harness.report.format import effect_text, fmt_num, fmt_p, fmt_seconds, zone_text
from harness.report.labels import (TAGS, belongs, counts_text, error_bound_text, expected_of, lesson_claims,
                                   readings_text, robustness_counts)
from harness.results.model import ClaimResult, Environment, Results

HEADER = ("test", "label", "effect [interval]", "zone", "seeds", "p (alpha)", "readings")


def cell(text: object) -> str:
    """One table cell's text made safe for a GFM table: ``|`` escaped (zone_text writes ``|effect|``), HTML's
    angle brackets as entities (``< 1e-6`` is a bound, not a tag), no line breaks."""
    s = " ".join(str(text).split())
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _row(c: ClaimResult, sentences: dict[str, list[ClaimResult]]) -> list[str]:
    test = f"`{c.id}`"
    got = belongs(c, sentences)
    if got is not None:
        kind, other = got
        test += f" ({cell(TAGS[kind].format(other))})"
    label = f"**{c.label}**"
    expected, differs = expected_of(c)
    if differs:
        label += f" (expected {expected})"
    if not c.as_expected:
        label += ", expectation missed"
    if c.label == NOT_TESTABLE:  # no effect to show: a 0 there would read as a measurement
        effect, zone = f"none: {c.untestable or 'not testable here'}", "—"
    else:
        effect = effect_text(dataclasses.replace(c.effect, zone=None))  # the zone has its own column
        zone = zone_text(c.effect)
    seeds = " → ".join(fmt_num(lk.seeds) for lk in c.looks) if len(c.looks) > 1 else fmt_num(c.seeds)
    p = f"{fmt_p(c.p_value)} ({fmt_num(c.alpha, 2)})"
    return [test, label] + [cell(x) for x in (effect, zone, seeds, p, readings_text(c))]


def environment_line(env: Environment) -> str:
    """``TensorFlow 2.21.0 · Keras 3.15.1 · device cpu · ...``: what the verdicts were decided on."""
    keras = f"{'tf-keras' if env.legacy_keras else 'Keras'} {env.keras or '?'}"
    parts = [f"TensorFlow {env.tensorflow or '?'}", keras, f"device {env.device or '?'}"]
    if env.engine:
        parts.append(f"{env.engine} engine" + (f", {env.batch_order} batch order" if env.batch_order else ""))
    if env.python:
        parts.append(f"Python {env.python}")
    if env.fingerprint:
        parts.append(f"`{env.fingerprint}`")
    if env.suite_version:
        parts.append(f"suite {env.suite_version}")
    if env.wall_seconds is not None:
        parts.append(f"wall {fmt_seconds(env.wall_seconds)}")
    return " · ".join(parts)


def summary_markdown(results: Results, title: str = "lesson-claims") -> str:
    """The job summary: a heading with the lesson's claims counted by label, the environment, one row per test."""
    claims = list(results.claims)
    sentences = lesson_claims(claims)
    lines = [f"### {cell(title)}: {counts_text(claims)}"
             + (f" ({cell(results.interrupted.upper())})" if results.interrupted else ""), "",
             cell(f"{robustness_counts(claims)}; {error_bound_text(claims, results.familywise)}"), "",
             environment_line(results.environment)]
    cert = results.certificate
    if cert is not None:
        lines[-1] += f" · engine certificate `{cert.fingerprint}`" + (f" ({cert.created})" if cert.created else "")
    lines += ["", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_row(c, sentences)) + " |" for c in claims]
    return "\n".join(lines) + "\n"
