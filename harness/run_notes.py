"""What a run's results say besides the claims: the multiplicity statement, the mutants table, notes."""
from __future__ import annotations

from pathlib import Path

from harness.results import ClaimResult, MutantsRun, as_type
from harness.training import records


MULTIPLICITY = ("No adjustment across claims: each claim answers its own question of the lesson and is decided "
                "with its own error budget (at most 1% chance of a wrong SUPPORTED or REFUTED, over both directions "
                "and every look). Across the suite's claims the expected number of wrong decisions is at most 0.01 "
                "per claim decided; a reader who needs a family-wise statement for all claims together must "
                "divide that budget, which this suite does not do.")


def load_mutants(path: Path, fingerprint: str) -> MutantsRun | None:
    """The last `python -m harness mutants` table of this environment, if the report directory has one
    (a table that cannot be read as one is left out: the report says no mutants were run)."""
    try:
        data = records.loads(path.read_text(encoding="utf-8"))
        mutants = as_type(MutantsRun, data, str(path))
    except (OSError, ValueError):  # ResultsError is a ValueError
        return None
    return mutants if mutants.environment == fingerprint else None


def notes(claims: list[ClaimResult], runs: list[dict]) -> list[str]:
    notes = []
    order = {r["extra"].get("batch_order") for r in runs if "batch_order" in r.get("extra", {})}
    if order == {"lesson"}:
        notes.append("Batch order: the lesson's, a fresh permutation of the training set every epoch, as its unseeded "
                     "fit(shuffle=True) draws, seeded by the suite (harness.training.orders) and the same for both engines. "
                     "Seeded Keras 3 would replay one permutation every epoch instead (--claims-batch-order=replayed).")
    elif order == {"replayed"}:
        notes.append("Batch order: REPLAYED, the one permutation seeded Keras 3's fit(shuffle=True) replays every "
                     "epoch (keras.utils.set_random_seed fixes its tf.data shuffle's op seed and fit makes a new "
                     "iterator per epoch). Not the lesson's training: its reader gets a fresh order every epoch.")
    for key, what in (("shuffle_source", "batch orders"), ("init_source", "initial weights")):
        sources = sorted({r["extra"][key] for r in runs if key in r.get("extra", {})})
        if sources:
            notes.append(f"Batched engine's {what}: " + "; ".join(sources) + ".")
    by_id = {c.id: c for c in claims}
    for sentence in ("shallow_tanh_about_80_percent", "shallow_tanh_slows_around_200", "deep_tanh_does_not_learn",
                     "deep_relu_beats_deep_tanh"):
        lit, fresh = by_id.get(f"{sentence}-literal"), by_id.get(f"{sentence}-fresh_init")
        if lit and fresh:
            same = lit.label == fresh.label
            notes.append(f"Initializer: {sentence} is {fresh.label} with the author's fresh RandomUniform draw per "
                         f"layer (which decides the sentence) and {lit.label} with the lesson's literal shared "
                         f"instance on today's Keras (a finding): the label {'does not depend' if same else 'DEPENDS'} "
                         "on it.")
    return notes
