"""Which code produced a record: a digest of the source files an engine runs.

Anything stored (run store entries, engine certificates) carries the digest of
the code that filled it, and is read only by identical code.  The files are
listed per engine: a Keras reference depends on the data, the models, the
experiments, the compatibility layer and the Keras engine; a batched run on
the same files plus the batched engine.  The suite version is part of it, so a
release that changes meaning without touching these files still starts over.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from . import __version__

_ROOT = Path(__file__).resolve().parent

# What a trained record depends on, besides the installed packages (those are
# the environment fingerprint's job).
SHARED_SOURCES = ("data.py", "models.py", "experiments.py", "compat.py", "records.py", "engines/common.py")
ENGINE_SOURCES = {
    "keras": SHARED_SOURCES + ("engines/keras_engine.py",),
    "batched": SHARED_SOURCES + ("engines/batched.py",),
}


def digest_files(paths, version: str = __version__) -> str:
    """SHA-256 over (relative name, bytes) of each file and the suite version."""
    h = hashlib.sha256(f"lesson-claims {version}\n".encode())
    for rel in paths:
        h.update(f"\n--- {rel}\n".encode())
        h.update((_ROOT / rel).read_bytes())
    return h.hexdigest()


def _sources(engine: str) -> tuple[str, ...]:
    try:
        return ENGINE_SOURCES[engine]
    except KeyError:
        raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINE_SOURCES)}") from None


def file_digests(engine: str) -> dict[str, str]:
    """SHA-256 of each source file ``engine`` trains with: says *which* file changed."""
    return {rel: hashlib.sha256((_ROOT / rel).read_bytes()).hexdigest() for rel in _sources(engine)}


@functools.lru_cache(maxsize=None)
def code_digest(engine: str) -> str:
    """The digest of the code ``engine`` trains with, in this checkout."""
    return digest_files(_sources(engine))
