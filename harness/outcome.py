"""What travels on a test report: one claim decided, its runs' whereabouts and its checks, as one string.

The pytest plugin carries :meth:`ClaimOutcome.encode` on each call report (xdist serialises it to the
controller) and decodes them all there for :func:`harness.merge.merge`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import results as res
from .training import records


@dataclass
class ClaimOutcome:
    """One claim decided: its result, what the report needs beside it, and how the test ends."""

    result: res.ClaimResult
    # experiment -> {"info": {...}}: the histories stay in the run store, where the controller reads them
    # (:func:`stored_runs`); "runs" travels inline only where the store could not keep them.
    runs: dict[str, dict] = field(default_factory=dict)
    equivalence: list[res.EquivalenceCheck] = field(default_factory=list)
    drift: list[res.DriftResult] = field(default_factory=list)
    failure: AssertionError | None = None  # None: SUPPORTED and every check passed

    def encode(self) -> str:
        """What travels on the test report: the typed result, the runs' whereabouts and the checks."""
        return res.encode({"result": self.result, "runs": self.runs, "equivalence": self.equivalence,
                           "drift": self.drift})

    @classmethod
    def decode(cls, text: str) -> "ClaimOutcome":
        d = records.loads(text)
        return cls(res.as_type(res.ClaimResult, d["result"], "outcome"), d["runs"],
                   [res.as_type(res.EquivalenceCheck, e, "outcome equivalence") for e in d["equivalence"]],
                   [res.as_type(res.DriftResult, x, "outcome drift") for x in d["drift"]])

