"""The suite's claims, collected without pytest or TensorFlow: every ``CLAIMS`` list of the spec modules in
``claims/`` (every module but ``common`` and the test file)."""
from __future__ import annotations

import importlib
import pkgutil

import claims as claim_specs


def all_claims() -> list:
    found = []
    for info in sorted(pkgutil.iter_modules(claim_specs.__path__), key=lambda m: m.name):
        if not (info.name.startswith("test_") or info.name == "common"):
            found.extend(getattr(importlib.import_module(f"claims.{info.name}"), "CLAIMS", []))
    ids = [c.id for c in found]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"claim ids must be unique: {duplicated}")
    for c in found:
        c.check_readings_given()
    return found


# -- the claims table of docs/claims.md, generated from the specs ----------------------------------------------
PINNED_ENV = "tf2.21.0-keras3.15.1-cpu"


def claims_table(claims=None) -> str:
    """Markdown: every claim, its section, what decides it, the verdict expected everywhere, the numbers
    pinned for the certified environment, and whether its rule was amended."""
    claims = all_claims() if claims is None else claims
    rows = ["| claim | counts as | section | decided by | expected | observed, pinned on TF 2.21 / Keras 3.15 CPU "
            "| amended |",
            "|---|---|---|---|---|---|---|"]
    for c in claims:
        pins = c.expect.pins_for(PINNED_ENV)
        pinned = ", ".join(f"{q} in [{lo:g}, {hi:g}]" for q, (lo, hi) in sorted(pins.items())) or ""
        amended = ", ".join(sorted({a.date for a in c.amendments})) or ""
        summary = getattr(c.decide, "summary", c.rule).replace("|", "\\|")
        counts = {"derived": "derived prediction (apart)", "duplicate": f"duplicate of `{c.sentence}` (apart)"}.get(
            c.counts, f"part of `{c.sentence}`" if c.sentence else "claim")
        rows.append(f"| `{c.id}` | {counts} | {c.section} | {summary} | {c.expect.expected_label} | {pinned} "
                    f"| {amended} |")
    return "\n".join(rows)
