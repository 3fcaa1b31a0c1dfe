"""The suite's claims, collected without pytest: every ``CLAIMS`` list in ``claims/test_*.py``."""
from __future__ import annotations

import importlib
import pkgutil


def all_claims() -> list:
    import claims as package

    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("test_"):
            found.extend(getattr(importlib.import_module(f"claims.{info.name}"), "CLAIMS", []))
    ids = [c.id for c in found]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"claim ids must be unique: {duplicated}")
    return found
