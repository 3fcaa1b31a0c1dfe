"""What deciding a claim should cost, for the plugin's schedule and the progress log: the seeds each
experiment needed in this environment's last run, and the committed benchmark's seconds per seed count.

Only what to run first and what to tell the user: what is trained, and on which seeds each look decides,
never depends on it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from harness.results import summaries

_ROOT = Path(__file__).resolve().parents[1]
# The committed summaries of earlier runs: where the seeds a claim needed come from when this machine has
# no history of its own (seed_plan).
BASELINES = _ROOT / "reports" / "baselines"
BENCH = _ROOT / "reports" / "bench.json"  # `python -m harness bench`


def estimate_seconds(engine: str, name: str, seeds: int, bench: Path | None = None) -> float | None:
    """What training ``seeds`` seeds of ``name`` should take, from the committed benchmark
    (reports/bench.json): linear between the seed counts it timed; None where it has no row."""
    path = bench or BENCH
    try:
        rows = {r["configuration"]: r for r in json.loads(path.read_text(encoding="utf-8"))["rows"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    row = rows.get(name)
    if row is None:
        return None
    if engine == "keras":
        return row.get("keras_seconds_per_seed") and row["keras_seconds_per_seed"] * seeds
    points = sorted((int(n), float(s)) for n, s in (row.get("batched_seconds_by_seeds") or {}).items())
    if not points:
        return None
    if seeds <= points[0][0]:
        return points[0][1]
    for (n0, s0), (n1, s1) in zip(points, points[1:]):
        if seeds <= n1:
            return s0 + (s1 - s0) * (seeds - n0) / (n1 - n0)
    (n0, s0), (n1, s1) = points[-2:] if len(points) > 1 else (points[0], points[0])
    return s1 * seeds / n1


def seed_plan(fingerprint: str, directories: Sequence[Path]) -> dict[str, int]:
    """experiment -> the most seeds any claim on it needed in the last decided run of this environment: its
    summary ``<fingerprint>.json`` in the first of ``directories`` that has one (this machine's history, then
    the committed baselines); {} where none has.  Only what to schedule first (the plugin): what is trained,
    and on which seeds each look decides, does not depend on it."""
    for directory in directories:
        path = Path(directory) / f"{fingerprint}.json"
        if not path.is_file():
            continue
        try:
            summary = summaries.load(path)
        except (summaries.SummaryError, OSError, ValueError):
            continue  # a plan is a guess: an unreadable one is no plan
        plan: dict[str, int] = {}
        for c in summary.claims:
            for e in c.experiments:
                plan[e] = max(plan.get(e, 0), int(c.seeds))
        return plan
    return {}


def expected_seconds(claim, plan: dict[str, int], first: int, engine: str = "batched") -> float:
    """What deciding ``claim`` should cost by ``plan`` (its experiments to the seeds they needed last time) and
    reports/bench.json: the longest claims start first (the plugin's schedule)."""
    return sum(estimate_seconds(engine, e, max(first, plan.get(e, first))) or 0.0 for e in claim.experiments)

