"""The committed verdicts of the same claims under the other batch order (``reports/variants/``), looked up
for the report's per-claim comparison; a stored verdict never outlives the code that decided it."""
from __future__ import annotations

from pathlib import Path

from harness.results import summaries
from . import results as res
from .training import orders

VARIANTS_DIR = Path(__file__).resolve().parents[1] / "reports" / "variants"


def variant_verdicts(fingerprint: str, batch_order: str, code_digest: str | None,
                     directory: Path = VARIANTS_DIR) -> dict[str, res.Variant]:
    """The committed verdicts of the same claims under the other batch order, in this environment
    (``reports/variants/replayed/<fingerprint>.json``, the summary of a ``--claims-batch-order=replayed``
    run), for the report's per-claim comparison; empty where there is none."""
    if batch_order != orders.DEFAULT:
        return {}
    path = Path(directory) / "replayed" / f"{fingerprint}.json"
    if not path.exists():
        return {}
    try:
        summary = summaries.load(path)
        theirs = summary.environment.code_digest
        if theirs != code_digest:  # a stored verdict never outlives the code that decided it
            raise summaries.SummaryError(
                f"{path}: decided by other engine code ({str(theirs)[:16]}, here {str(code_digest)[:16]}); "
                "re-run `pytest -n auto --claims-batch-order=replayed --claims-history-dir=reports/variants/replayed`")
    except summaries.SummaryError as exc:
        return {"replayed": res.Variant(path=str(path), error=str(exc))}
    try:
        shown = str(path.resolve().relative_to(VARIANTS_DIR.parents[1]))
    except ValueError:
        shown = str(path)
    return {"replayed": res.Variant(
        path=shown, rules=summary.rules, batch_order=summary.environment.batch_order,
        claims={c.id: res.VariantClaim(verdict=c.verdict, effect=c.effect, seeds=c.seeds, at_threshold=c.at_threshold,
                                       untestable=c.untestable) for c in summary.claims})}

