"""What the merged results say besides the claims: the multiplicity statement, the mutants table, notes."""
from __future__ import annotations

from pathlib import Path

from . import records


MULTIPLICITY = ("No adjustment across claims: each claim answers its own question of the lesson and is decided "
                "with its own error budget (at most 1% chance of a wrong SUPPORTED or REFUTED, over both directions "
                "and every look). Across the suite's claims the expected number of wrong decisions is at most 0.01 "
                "per claim decided; a reader who needs a family-wise statement for all claims together must "
                "divide that budget, which this suite does not do.")


def load_mutants(path: Path, fingerprint: str) -> dict | None:
    """The last `python -m harness mutants` table of this environment, if the report directory has one."""
    try:
        data = records.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("environment") == fingerprint else None


def notes(claims: list[dict], runs: list[dict]) -> list[str]:
    notes = []
    replay = {r["extra"].get("shuffle_replayed_each_epoch") for r in runs if "shuffle_replayed_each_epoch" in r.get("extra", {})}
    if replay == {True}:
        notes.append("Batch order: with keras.utils.set_random_seed(seed), this Keras' fit(shuffle=True) replays "
                     "ONE permutation in every epoch (its tf.data shuffle has a fixed op seed and a new iterator "
                     "per epoch). The batched engine reproduces that, as it is what the lesson's code does here.")
    elif replay == {False}:
        notes.append("Batch order: this Keras draws a new permutation every epoch; the batched engine uses them.")
    for key, what in (("shuffle_source", "batch orders"), ("init_source", "initial weights")):
        sources = sorted({r["extra"][key] for r in runs if key in r.get("extra", {})})
        if sources:
            notes.append(f"Batched engine's {what}: " + "; ".join(sources) + ".")
    by_id = {c["id"]: c for c in claims}
    lit, fresh = by_id.get("deep_tanh_does_not_learn-literal"), by_id.get("deep_tanh_does_not_learn-fresh_init")
    if lit and fresh:
        same = lit["verdict"] == fresh["verdict"]
        notes.append(f"Initializer trap: deep tanh is {lit['verdict']} with the lesson's shared RandomUniform "
                     f"(identical hidden layers) and {fresh['verdict']} with a fresh initializer per layer: the "
                     f"verdict {'does not depend' if same else 'DEPENDS'} on it.")
    return notes
