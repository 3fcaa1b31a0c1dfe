"""Engine certificates: the literal Keras references of one environment, paid once.

``python -m harness certify`` trains the lesson's code (``Sequential`` +
``fit``) on :data:`SEEDS` full-length seeds of every configuration and writes
``reports/certificates/<environment fingerprint>.json``: the environment, the
digest of the code that trained the references (per file), each
configuration's fingerprint and data digest, the Keras runs (every History key,
per epoch, as float32, and the final metrics), the distribution-level checks
the claims make with their alpha and the smallest difference each detects,
the results of every check of the batched engine at certification, whether a
seed's run depends on the other seeds of its batch, and what certifying cost.

Every run then loads it, verifies it (checksum, schema, environment, code
digest, experiment fingerprints, data) and compares the batched runs it is
about to use with these references (:mod:`harness.equivalence`), without
training Keras.  A certificate that fails any verification is never used; the
error names the file, the check, and the field that differs.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import provenance, records
from .records import RunRecord

SCHEMA = "lesson-claims/certificate/1"
DEFAULT_DIR = Path("reports/certificates")
SEEDS = tuple(range(10))  # full-length Keras seeds per configuration
# Environment fields that must match; the fingerprint is their digest.
ENVIRONMENT_FIELDS = ("python", "platform", "tensorflow", "keras", "legacy_keras", "numpy", "scikit_learn", "device")


class CertificateError(ValueError):
    """A certificate that is missing, unreadable, tampered with, or for other code or another environment."""


# -- encoding ------------------------------------------------------------------
def encode_series(values) -> str:
    """Per-epoch float32 values (what Keras' History holds) as base64, lossless and ~4x smaller than text."""
    arr = np.asarray(values, dtype="<f4")
    if not np.array_equal(arr.astype(float), np.asarray(values, float), equal_nan=True):
        raise ValueError("history values are not float32")
    return base64.b64encode(arr.tobytes()).decode("ascii")


def decode_series(text: str) -> list[float]:
    return np.frombuffer(base64.b64decode(text.encode("ascii"), validate=True), dtype="<f4").astype(float).tolist()


def checksum(cert: dict) -> str:
    body = {k: v for k, v in cert.items() if k != "sha256"}
    return hashlib.sha256(records.dumps(body, sort_keys=True).encode()).hexdigest()


def data_digest(exp) -> str:
    """SHA-256 of the exact arrays ``exp`` trains and tests on (catches a change in data generation
    that no version number shows)."""
    from .engines.common import split_for

    split = split_for(exp)
    h = hashlib.sha256()
    for arr in (split.train_x, split.train_y, split.test_x, split.test_y):
        a = np.ascontiguousarray(arr)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def path_for(directory: Path, fingerprint: str) -> Path:
    return Path(directory) / f"{fingerprint}.json"


# -- building ------------------------------------------------------------------
def encode_run(r: RunRecord) -> dict:
    return {"seed": r.seed, "epochs": r.epochs, "history": {k: encode_series(v) for k, v in r.history.items()},
            "metrics": r.metrics, "wall_seconds": r.wall_seconds}


def decode_run(name: str, fingerprint: str, d: dict, device: str) -> RunRecord:
    return RunRecord(experiment=name, fingerprint=fingerprint, seed=int(d["seed"]), engine="keras",
                     epochs=int(d["epochs"]), history={k: decode_series(v) for k, v in d["history"].items()},
                     metrics=dict(d["metrics"]), wall_seconds=float(d["wall_seconds"]), device=device)


def build(environment: dict, references: dict[str, list[RunRecord]], *, checks: list[dict], plan: dict,
          seed_independence: dict, cost: dict, created: str) -> dict:
    from . import experiments

    cert = {
        "schema": SCHEMA,
        "suite_version": provenance.__version__,
        "created": created,
        "environment": environment,
        "code": {"engine": "keras", "digest": provenance.code_digest("keras"), "files": provenance.file_digests("keras")},
        "seeds": list(SEEDS),
        "experiments": {
            name: {"fingerprint": experiments.get(name).fingerprint, "data_digest": data_digest(experiments.get(name)),
                   "epochs": experiments.get(name).epochs, "runs": [encode_run(r) for r in runs]}
            for name, runs in references.items()
        },
        "plan": plan,
        "checks": checks,
        "seed_independence": seed_independence,
        "cost": cost,
    }
    cert["sha256"] = checksum(cert)
    return cert


def write(cert: dict, directory: Path = DEFAULT_DIR) -> Path:
    from .store import atomic_write_text

    path = path_for(directory, cert["environment"]["fingerprint"])
    atomic_write_text(path, records.dumps(cert, indent=None, separators=(",", ":")) + "\n")
    return path


# -- reading and verifying -----------------------------------------------------
@dataclass
class Certificate:
    path: Path
    data: dict
    _runs: dict = field(default_factory=dict, repr=False)  # decoded once per configuration

    @property
    def seeds(self) -> list[int]:
        return list(self.data["seeds"])

    @property
    def plan(self) -> dict:
        return self.data["plan"]

    def runs(self, name: str) -> list[RunRecord]:
        """The Keras references of ``name``, full length, in seed order."""
        if name not in self._runs:
            e = self.data["experiments"][name]
            device = self.data["environment"].get("device", "cpu")
            self._runs[name] = [decode_run(name, e["fingerprint"], d, device) for d in e["runs"]]
        return list(self._runs[name])

    def summary(self) -> dict:
        """What the report and the results file say about it (no per-epoch data)."""
        d = self.data
        return {"path": str(self.path), "fingerprint": d["environment"]["fingerprint"], "created": d["created"],
                "code_digest": d["code"]["digest"], "seeds": d["seeds"], "plan": d["plan"],
                "checks": d["checks"], "seed_independence": d["seed_independence"], "cost": d["cost"]}


def _fail(path: Path, check: str, message: str) -> CertificateError:
    return CertificateError(f"certificate {path}: {check}: {message}")


def load(path: Path, environment: dict, experiment_names=None) -> Certificate:
    """Read and verify; any failure raises :class:`CertificateError` naming the check that failed."""
    from . import experiments

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, "readable", str(exc)) from None
    try:
        data = records.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, "JSON", f"not valid JSON, truncated? ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise _fail(path, "schema", f"expected {SCHEMA!r}, found {found!r}")
    missing = [k for k in ("sha256", "environment", "code", "seeds", "experiments", "plan", "checks",
                           "seed_independence", "cost", "created", "suite_version") if k not in data]
    if missing:
        raise _fail(path, "schema", f"missing fields {missing}")
    if data["sha256"] != checksum(data):
        raise _fail(path, "checksum", "the content does not match its SHA-256: edited or corrupted")
    env = data["environment"]
    differ = [f"{k}: certificate {env.get(k)!r}, here {environment.get(k)!r}"
              for k in ENVIRONMENT_FIELDS if env.get(k) != environment.get(k)]
    if differ or env.get("fingerprint") != environment.get("fingerprint"):
        raise _fail(path, "environment", "for another environment (" + "; ".join(differ or ["fingerprint"]) + ")")
    if data["suite_version"] != provenance.__version__:
        raise _fail(path, "code", f"suite version {data['suite_version']}, here {provenance.__version__}")
    if data["code"].get("digest") != provenance.code_digest("keras"):
        here = provenance.file_digests("keras")
        files = [f for f in sorted(set(here) | set(data["code"].get("files", {})))
                 if data["code"].get("files", {}).get(f) != here.get(f)]
        raise _fail(path, "code", "certifies other code: "
                    + (f"{', '.join('harness/' + f for f in files)} changed since" if files else "digest differs"))
    names = list(experiment_names or experiments.EXPERIMENTS)
    for name in names:
        exp = experiments.get(name)
        entry = data["experiments"].get(name)
        if entry is None:
            raise _fail(path, "experiments", f"no references for {name}")
        if entry["fingerprint"] != exp.fingerprint:
            raise _fail(path, "experiments", f"{name}: fingerprint {entry['fingerprint']}, here {exp.fingerprint} "
                                             "(the configuration changed)")
        if entry["data_digest"] != data_digest(exp):
            raise _fail(path, "data", f"{name}: the data differ from the data the references were trained on")
        if [r["seed"] for r in entry["runs"]] != list(data["seeds"]):
            raise _fail(path, "experiments", f"{name}: references for seeds {[r['seed'] for r in entry['runs']]}, "
                                             f"expected {data['seeds']}")
    return Certificate(path, data)


def find(directory: Path, environment: dict, experiment_names=None) -> Certificate:
    """The verified certificate of this environment, or :class:`CertificateError`
    saying how to make one, and how the environments on file differ from this one."""
    directory = Path(directory)
    path = path_for(directory, environment["fingerprint"])
    if path.exists():
        return load(path, environment, experiment_names)
    others = []
    for other in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            env = json.loads(other.read_text(encoding="utf-8")).get("environment", {})
            diff = [f"{k} {env.get(k)} vs {environment.get(k)}" for k in ENVIRONMENT_FIELDS
                    if env.get(k) != environment.get(k)]
            others.append(f"{other.name} ({'; '.join(diff) or 'same fields, other fingerprint'})")
        except (OSError, ValueError, AttributeError):
            others.append(f"{other.name} (unreadable)")
    raise CertificateError(
        f"no engine certificate for this environment ({environment['fingerprint']}: TF {environment['tensorflow']}, "
        f"Keras {environment['keras']}, {environment['device']}) in {directory}/. "
        f"Certify it once with `python -m harness certify` (trains the Keras references: ~150 core-minutes, "
        f"about 80 min on 2 CPU cores), or run the literal engine with --engine keras."
        + (f" On file: {', '.join(others)}." if others else ""))
