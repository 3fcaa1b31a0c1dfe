"""How the run decided and where it ran: the decision design, the regression check against a baseline, the
environment, the wall time per experiment and the run's notes; laid out by ``templates/about_run.html``."""
from __future__ import annotations

import dataclasses
import math

from harness.report.format import fmt_num
from harness.report.hardware import machine_text
from harness.results.drift import DriftResult
from harness.results.model import Environment, ExperimentRun, SuiteDesign
from harness.training import records


def design_section(design: SuiteDesign | None) -> dict | None:
    """The sequential design, the multiplicity statement, and amendments that apply to every claim."""
    if design is None:
        return None
    seq = design.sequential.to_dict()  # the design's own words: its alpha per test, their split, the claim's
    return {"looks": ", ".join(str(n) for n in design.sequential.looks), "alpha": fmt_num(seq["alpha_per_test"]),
            "split": seq["split"], "claim_alpha": fmt_num(seq["claim_alpha"]), "multiplicity": design.multiplicity,
            "amendments": design.amendments}


def drift_section(drift: tuple[DriftResult, ...]) -> list[DriftResult]:
    """Each claim's deciding metric against the baseline's (only when the run was given one)."""
    return list(drift)


def _value(v) -> str:
    """A setting as text: a part of several values (determinism, devices) as its JSON."""
    if dataclasses.is_dataclass(v):
        return records.dumps(dataclasses.asdict(v))
    return fmt_num(v)


def environment_section(schema: str, suite_version: str | None, env: Environment) -> list[tuple[str, str]]:
    """Every field of the environment, spelled."""
    return [("schema", schema), ("suite version", fmt_num(suite_version))] + [
        (f.name, machine_text(env.machine) if f.name == "machine" else _value(getattr(env, f.name)))
        for f in dataclasses.fields(env)]


def wall_time_section(experiments: dict[str, ExperimentRun]) -> dict:
    """Each experiment's wall time, and their total."""
    rows = [{"name": name, "section": e.section, "description": e.description, "engine": e.engine,
             "seeds": fmt_num(e.seeds), "seconds": fmt_num(e.wall_seconds), "fingerprint": e.fingerprint}
            for name, e in experiments.items()]
    total = sum(e.wall_seconds for e in experiments.values() if math.isfinite(e.wall_seconds))
    return {"rows": rows, "total": fmt_num(total)}


def notes_section(notes: tuple[str, ...]) -> list[str]:
    return list(notes)
