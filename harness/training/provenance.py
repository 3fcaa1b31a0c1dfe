"""Which code produced a record: a digest of the modules an engine runs.

Anything stored (run store entries, engine certificates) carries the digest of
the code that filled it, and is read only by identical code.  The modules are
listed per engine by their *logical names* (their job, e.g. ``keras engine``),
each mapped to the module that does it now: the digest hashes each logical name
with the module's content, so moving a module to another folder (and fixing its
imports) keeps the digest, and any other changed line does not.  Imports of the
suite's own modules are digested by the names they import, not by the path
they import them from: the imported modules are digested themselves where they
matter.  The suite version is part of it, so a release that changes meaning
without touching these modules still starts over.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
from pathlib import Path

from harness.version import __version__

DIGEST_SCHEME = "logical-modules/1"

# Logical name -> the module doing that job today.  What a trained record depends on,
# besides the installed packages (those are the environment fingerprint's job).
MODULES = {
    "data": "harness.training.data",
    "models": "harness.training.models",
    "experiments": "harness.training.experiments",
    "compatibility layer": "harness.training.compat",
    "records": "harness.training.records",
    "batch orders": "harness.training.orders",
    "engine common": "harness.training.engines.common",
    "keras engine": "harness.training.engines.keras_engine",
    "batched engine": "harness.training.engines.batched",
    "inside probes": "harness.training.inside",
    "inside quantities": "harness.training.inside_quantities",
}
SHARED = ("data", "models", "experiments", "compatibility layer", "records", "batch orders", "engine common")
ENGINE_MODULES = {
    "keras": SHARED + ("keras engine",),
    "batched": SHARED + ("batched engine",),
}
# What a stored record depends on: the engine's code, and for the batched engine the probes it records
# inside training (record.extra["inside"], harness.training.inside).  The certificate certifies the engines
# alone (ENGINE_MODULES): a probe's change re-trains the store, never re-certifies.
RECORD_MODULES = {"keras": ENGINE_MODULES["keras"], "batched": ENGINE_MODULES["batched"] + ("inside probes",
                                                                                   "inside quantities")}
# Store labels beside the engines: the certificate's Keras references (with their states)
# and the named batch-order variant are kept apart from the default runs.
LABELS = {"keras-reference": "keras"}

# `from .. import compat`, `from ..engines import common`, `from harness.x import y`:
# the path is where the module lives, not what the code does.
_OWN_IMPORT = re.compile(r"^(\s*)from\s+(\.+[\w.]*|harness(?:\.[\w.]+)?)\s+import\s+", re.MULTILINE)


def normalized_source(text: str) -> str:
    """The source with the paths of the suite's own imports dropped (``from X import a`` -> ``import* a``)."""
    return _OWN_IMPORT.sub(r"\1import* ", text)


def module_path(logical: str) -> Path:
    spec = importlib.util.find_spec(MODULES[logical])
    if spec is None or spec.origin is None:
        raise ValueError(f"{logical}: module {MODULES[logical]} not found")
    return Path(spec.origin)


def _module_digest(logical: str) -> str:
    return hashlib.sha256(normalized_source(module_path(logical).read_text(encoding="utf-8")).encode()).hexdigest()


def base_engine(engine: str) -> str:
    base = LABELS.get(engine, engine.split("+")[0])
    if base not in ENGINE_MODULES:
        raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINE_MODULES)}")
    return base


def module_digests(engine: str) -> dict[str, str]:
    """SHA-256 of each logical module ``engine`` trains with: says *which* one changed."""
    return {name: _module_digest(name) for name in ENGINE_MODULES[base_engine(engine)]}


# The name the certificate and older callers use.
file_digests = module_digests


def digest_modules(digests: dict[str, str], version: str = __version__) -> str:
    h = hashlib.sha256(f"lesson-claims {version} {DIGEST_SCHEME}\n".encode())
    for name in sorted(digests):
        h.update(f"\n--- {name} {digests[name]}".encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def record_digest(engine: str) -> str:
    """The digest of the code a stored record of ``engine`` depends on (the run store's key)."""
    return digest_modules({name: _module_digest(name) for name in RECORD_MODULES[base_engine(engine)]})


@functools.lru_cache(maxsize=None)
def code_digest(engine: str) -> str:
    """The digest of the code ``engine`` trains with, in this checkout."""
    return digest_modules(module_digests(engine))
