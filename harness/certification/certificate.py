"""Engine certificates: the literal Keras references of one environment, paid once.

``python -m harness certify`` trains the lesson's code (``Sequential`` +
Keras' own ``fit``, the lesson's batch order: a fresh permutation per epoch) on
the trajectory seeds of every configuration, full length, keeping its training
state at the start of every window, and restarts ``fit`` for one window from the
batched engine's states of a sample of the later looks' seeds
(:mod:`harness.certification.windows`).  It writes ``reports/certificates/<environment
fingerprint>.json``: the environment, the digest of the code that trained the
references (per logical module), the batch order and a digest of its draws,
each configuration's fingerprint and data digest, the Keras runs (every History
key, per epoch, as float32, and the final metrics), the windows (state and the
Keras History after it), the results of every check of the batched engine at
certification, whether a seed's run depends on the other seeds of its batch,
and what certifying cost.

Every run then loads it, verifies it (checksum, schema, batch order, digest
scheme, environment, code digest, experiment fingerprints, data, the shape of
every checkpoint) and restarts the batched engine from every window, without
training Keras.  A certificate that fails any verification is never used; the
error names the file, the check, and the field that differs.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.certification import packed, windows
from harness.storage.store import atomic_write_bytes, atomic_write_text
from harness.training import experiments, orders, provenance, records
from harness.training.records import RunRecord

SCHEMA = "lesson-claims/certificate/2"
MAKE = "python -m harness certify"
DEFAULT_DIR = Path("reports/certificates")
SEEDS = (0, 1, 2)  # full-length Keras seeds per configuration: the windows' trajectory seeds
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
    # local: engines.common loads scikit-learn (the lesson's data); runner and plugin import this module
    from harness.training.engines.common import split_for

    split = split_for(exp)
    h = hashlib.sha256()
    for arr in (split.train_x, split.train_y, split.test_x, split.test_y):
        a = np.ascontiguousarray(arr)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def path_for(directory: Path, fingerprint: str) -> Path:
    return Path(directory) / f"{fingerprint}.json"


def shipped_path(directory: Path, fingerprint: str) -> Path:
    """Where the compact, committed form of a certificate goes (:mod:`harness.certification.packed`)."""
    return Path(directory) / f"{fingerprint}{packed.SUFFIX}"


def candidates(directory: Path, fingerprint: str) -> list[Path]:
    """This environment's certificates in ``directory``, the committed one first: packed (``.npz``), as
    ``certify`` writes it (``.json``), gzip-compressed (``.json.gz``)."""
    return [p for p in (shipped_path(directory, fingerprint), path_for(directory, fingerprint),
                        Path(directory) / f"{fingerprint}.json.gz") if p.exists()]


def on_file(directory: Path, fingerprint: str) -> Path | None:
    """This environment's first certificate in ``directory`` (:func:`candidates`); None when there is none."""
    found = candidates(directory, fingerprint)
    return found[0] if found else None


def _files(directory: Path) -> list[Path]:
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for pattern in ("*.json", "*.json.gz", f"*{packed.SUFFIX}") for p in directory.glob(pattern))


def read_text(path: Path) -> str:
    path = Path(path)
    if path.name.endswith(packed.SUFFIX):
        return json.dumps(packed.unpack(path))
    if path.name.endswith(".gz"):
        return gzip.decompress(path.read_bytes()).decode("utf-8")
    return path.read_text(encoding="utf-8")


# -- building ------------------------------------------------------------------
def encode_run(r: RunRecord) -> dict:
    return {"seed": r.seed, "epochs": r.epochs, "history": {k: encode_series(v) for k, v in r.history.items()},
            "metrics": r.metrics, "wall_seconds": r.wall_seconds}


def decode_run(name: str, fingerprint: str, d: dict, device: str) -> RunRecord:
    return RunRecord(experiment=name, fingerprint=fingerprint, seed=int(d["seed"]), engine="keras",
                     epochs=int(d["epochs"]), history={k: decode_series(v) for k, v in d["history"].items()},
                     metrics=dict(d["metrics"]), wall_seconds=float(d["wall_seconds"]), device=device)


def encode_window(seed: int, epoch: int, source: str, state: dict, history: dict, final: dict | None,
                  init_grad: float | None, envelope: dict | None = None, parent: tuple[int, int] | None = None) -> dict:
    """One window: its start state, Keras' History after it (and final metrics / initial gradient
    where it ends / starts the run), and the chaos envelope (:func:`harness.certification.windows.envelopes`);
    a refined window names its ``parent`` window's (seed, checkpoint)."""
    out = {"seed": int(seed), "epoch": int(epoch), "source": source, "state": windows.encode_state(state),
           "history": {k: windows.encode_series(v) for k, v in history.items()}, "final": final,
           "init_grad_max_abs": init_grad}
    if envelope is not None:
        out["envelope"] = {"history": {k: windows.encode_series(v) for k, v in envelope["history"].items()},
                           "final": envelope["final"]}
    if parent is not None:
        out["parent"] = [int(parent[0]), int(parent[1])]
    return out


def build(environment: dict, references: dict[str, list[RunRecord]], windows_by_name: dict[str, list[dict]], *,
          checks: list[dict], plan: dict, seed_independence: dict, cost: dict, created: str,
          refined: dict[str, list[dict]] | None = None) -> dict:
    cert = {
        "schema": SCHEMA,
        "suite_version": provenance.__version__,
        "created": created,
        "environment": environment,
        "code": {"engine": "keras", "digest_scheme": provenance.DIGEST_SCHEME, "digest": provenance.code_digest("keras"),
                 "modules": provenance.module_digests("keras")},
        "batch_order": orders.DEFAULT,
        "orders_digest": orders.digest(),
        "seeds": list(SEEDS),
        "later_seeds": list(windows.LATER_SEEDS),
        "experiments": {
            name: {"fingerprint": experiments.get(name).fingerprint, "data_digest": data_digest(experiments.get(name)),
                   "epochs": experiments.get(name).epochs, "window_epochs": windows.window_epochs(name),
                   "runs": [encode_run(r) for r in runs], "windows": windows_by_name[name]}
            for name, runs in references.items()
        },
        "plan": plan,
        "checks": checks,
        "seed_independence": seed_independence,
        "cost": cost,
    }
    for name, rows in (refined or {}).items():
        if rows:  # only where a window was refined: older certificates have no such key
            cert["experiments"][name]["refined"] = rows
    cert["sha256"] = checksum(cert)
    return cert


def write(cert: dict, directory: Path = DEFAULT_DIR) -> Path:
    path = path_for(directory, cert["environment"]["fingerprint"])
    atomic_write_text(path, records.dumps(cert, indent=None, separators=(",", ":")) + "\n")
    return path


def write_shipped(cert: dict, directory: Path = DEFAULT_DIR) -> Path:
    """The certificate packed for committing (``<fingerprint>.npz``): the same document, losslessly."""
    path = shipped_path(directory, cert["environment"]["fingerprint"])
    atomic_write_bytes(path, packed.pack(records.to_jsonable(cert)))
    return path


# -- reading and verifying -----------------------------------------------------
@dataclass
class Certificate:
    path: Path
    data: dict
    _runs: dict = field(default_factory=dict, repr=False)  # decoded once per configuration
    _windows: dict = field(default_factory=dict, repr=False)

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

    def window_epochs(self, name: str) -> int:
        return int(self.data["experiments"][name]["window_epochs"])

    def windows(self, name: str) -> list[dict]:
        """Each window of ``name``: seed, epoch (its checkpoint), state, and the Keras side
        ({"history", "final", "init_grad_max_abs"})."""
        if name not in self._windows:
            self._windows[name] = decode_windows(self.path, name, self.data["experiments"][name])
        return list(self._windows[name])

    def refined(self, name: str) -> list[dict]:
        """The refined windows of ``name`` (:data:`harness.certification.windows.REFINED_EPOCHS` long, each
        with its ``parent`` window's (seed, checkpoint)); none in most certificates."""
        key = ("refined", name)
        if key not in self._windows:
            self._windows[key] = decode_refined(self.path, name, self.data["experiments"][name],
                                                self.windows(name))
        return list(self._windows[key])

    def add_refined(self, name: str, rows: list[dict]) -> None:
        """Record refined windows of ``name`` (encoded, see :func:`encode_window`); decoded again when read."""
        entry = self.data["experiments"][name]
        entry["refined"] = [*entry.get("refined", []), *rows]
        self._windows.pop(("refined", name), None)

    def for_results(self) -> dict:
        """What the results file says about it (no per-epoch data): a CertificateSummary's fields."""
        d = self.data
        return {"path": str(self.path), "fingerprint": d["environment"]["fingerprint"], "created": d["created"],
                "code_digest": d["code"]["digest"], "digest_scheme": d["code"].get("digest_scheme"),
                "batch_order": d.get("batch_order"), "seeds": d["seeds"], "later_seeds": d.get("later_seeds"),
                "window_epochs": {n: e.get("window_epochs") for n, e in d["experiments"].items()},
                "plan": d["plan"], "checks": d["checks"], "seed_independence": d["seed_independence"],
                "cost": d["cost"], "transfer_refused": d.get("transfer_refused"),
                # where its Keras references were trained: the source's machine for a transferred one
                "machine": d["transfer"].get("from_machine") if d.get("transfer") else d["environment"].get("machine"),
                "transfer": None if not d.get("transfer") else {
                    "source": d["transfer"]["from"], "source_sha256": d["transfer"]["from_sha256"],
                    "windows": sum(map(len, d["transfer"]["windows"].values())),
                    "max_rel_diff": d["transfer"]["max_rel_diff"], "seconds": d["transfer"]["seconds"],
                    "draw_seed": d["transfer"]["draw_seed"]}}


def comparison_extract(data: dict) -> dict:
    """What comparing two environments needs of a certificate, small enough to commit for every cell of the
    matrix (the full one, 7 MB with every window's state, stays in the cell's run store): the environment,
    checks and cost, every configuration's Keras references, only the initial (epoch-0) states, and the
    SHA-256 of Keras' training state at every checkpoint (``state_digests``: [seed, epoch, digest]; whether two
    environments train bit-identically at every checkpoint, when their History differs); its own checksum,
    and the full certificate's as ``extract_of``.  :func:`load` refuses it (no windows to run)."""
    out = {k: v for k, v in data.items() if k not in ("experiments", "sha256")}
    out["experiments"] = {name: {**e, "windows": [w for w in e["windows"] if w.get("epoch") == 0],
                                 "state_digests": state_digests(e)}
                          for name, e in data["experiments"].items()}
    out["extract_of"] = data["sha256"]
    out["sha256"] = checksum(out)
    return out


def state_digests(entry: dict) -> list[list]:
    """[seed, epoch, digest of the encoded state] of every Keras checkpoint of one configuration's entry (a full
    certificate's windows, or an extract's own list), in (seed, epoch) order.  The digest is SHA-256's first
    64 bits: it tells equal states from different ones; the file's own checksum guards against tampering."""
    if "state_digests" in entry:
        return [list(x) for x in entry["state_digests"]]
    return sorted([int(w["seed"]), int(w["epoch"]), hashlib.sha256(w["state"].encode("ascii")).hexdigest()[:16]]
                  for w in entry["windows"] if w.get("source", "keras") == "keras")


def read_for_comparison(path: Path) -> Certificate:
    """Another environment's certificate, to compare its Keras references with this one's: its checksum is
    verified (a tampered file is never used), not its environment."""
    path = Path(path)
    try:
        data = records.loads(read_text(path))
    except (OSError, ValueError, EOFError) as exc:  # packed.PackError is a ValueError
        raise _fail(path, "readable", str(exc)) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise _fail(path, "schema", f"expected {SCHEMA!r}")
    if data.get("sha256") != checksum(data):
        raise _fail(path, "checksum", "the content does not match its SHA-256: edited or corrupted")
    return Certificate(path, data)  # a full certificate or its comparison extract


def _fail(path: Path, check: str, message: str) -> CertificateError:
    if Path(path).name.endswith(packed.SUFFIX) and "`" not in message:  # a shipped one: say how to remake it
        message += f"; remake it with `{MAKE} --ship` (in the locked environment) and commit it"
    return CertificateError(f"certificate {path}: {check}: {message}")


def decode_windows(path, name: str, entry: dict) -> list[dict]:
    """The windows of one configuration, every field checked; CertificateError naming the field."""
    exp = experiments.get(name)
    w = entry.get("window_epochs")
    where = f"experiments.{name}"
    if not isinstance(w, int) or w < 1:
        raise _fail(path, "windows", f"{where}.window_epochs: {w!r}, expected a positive integer")
    raw = entry.get("windows")
    if not isinstance(raw, list) or not raw:
        raise _fail(path, "windows", f"{where}.windows: missing or empty")
    out = [_decode_window(path, exp, w, win, f"{where}.windows[{i}]") for i, win in enumerate(raw)]
    traj = sorted({(x["seed"], x["epoch"]) for x in out if x["source"] == "keras"})
    for seed in sorted({s for s, _ in traj}):
        have = [e for s, e in traj if s == seed]
        if have != list(range(0, exp.epochs, w)):
            raise _fail(path, "windows", f"{where}.windows: seed {seed}'s checkpoints {have[:6]}... do not tile "
                                         f"epochs 0-{exp.epochs} every {w}")
    return out


def decode_refined(path, name: str, entry: dict, parents: list[dict]) -> list[dict]:
    """The refined windows of one configuration (absent: none), every field checked: each names a
    window of the certificate as ``parent``, and the refined windows of a parent tile its epochs."""
    raw = entry.get("refined", [])
    where = f"experiments.{name}.refined"
    if not isinstance(raw, list):
        raise _fail(path, "windows", f"{where}: expected a list")
    exp = experiments.get(name)
    w = windows.REFINED_EPOCHS
    width = int(entry["window_epochs"])
    known = {(p["seed"], p["epoch"]) for p in parents}
    out, tiles = [], {}
    for i, win in enumerate(raw):
        at = f"{where}[{i}]"
        parent = win.get("parent") if isinstance(win, dict) else None
        if not (isinstance(parent, list) and len(parent) == 2 and tuple(parent) in known):
            raise _fail(path, "windows", f"{at}.parent: {parent!r}, expected [seed, checkpoint] of a window")
        x = _decode_window(path, exp, w, win, at)
        if x["seed"] != parent[0]:
            raise _fail(path, "windows", f"{at}.seed: {x['seed']}, its parent window's is {parent[0]}")
        x["parent"] = tuple(parent)
        tiles.setdefault(x["parent"], []).append(x["epoch"])
        out.append(x)
    for (seed, c), have in tiles.items():
        if sorted(have) != list(range(c, c + width, w)):
            raise _fail(path, "windows", f"{where}: the refined windows of seed {seed}'s window at epoch {c} start "
                                         f"at {sorted(have)}, expected every {w} epoch(s) of {c}-{c + width - 1}")
    return out


def _decode_window(path, exp, w: int, win, at: str) -> dict:
    """One window of ``w`` epochs, every field checked; CertificateError naming the field."""
    steps = math.ceil(500 / exp.batch_size)
    keys = ["loss", "val_loss"] + (["accuracy", "val_accuracy"] if exp.classification else [])
    if not isinstance(win, dict):
        raise _fail(path, "windows", f"{at}: not an object")
    missing = [k for k in ("seed", "epoch", "source", "state", "history", "final", "init_grad_max_abs",
                           "envelope") if k not in win]
    if missing:
        raise _fail(path, "windows", f"{at}: missing fields {missing}")
    epoch = win["epoch"]
    if not isinstance(epoch, int) or not 0 <= epoch <= exp.epochs - w:
        raise _fail(path, "windows", f"{at}.epoch: {epoch!r}, expected a checkpoint in 0..{exp.epochs - w}")
    try:
        state = windows.decode_state(win["state"], exp, epoch, steps)
    except (ValueError, TypeError) as exc:
        raise _fail(path, "windows", f"{at}.state: {exc}") from None
    hist = win["history"]
    if not isinstance(hist, dict) or sorted(hist) != sorted(keys):
        raise _fail(path, "windows", f"{at}.history: keys {sorted(hist) if isinstance(hist, dict) else hist!r}, "
                                     f"expected {sorted(keys)}")
    history = {}
    for k in keys:
        try:
            history[k] = windows.decode_series(hist[k], w)
        except (ValueError, TypeError, AttributeError) as exc:
            raise _fail(path, "windows", f"{at}.history.{k}: {exc}") from None
    final = win["final"]
    if (epoch + w == exp.epochs) != isinstance(final, dict):
        raise _fail(path, "windows", f"{at}.final: "
                    + ("missing for the window that ends the run" if final is None else "present mid-run"))
    env = win["envelope"]
    if not isinstance(env, dict) or not isinstance(env.get("history"), dict) \
            or sorted(env["history"]) != sorted(keys):
        raise _fail(path, "windows", f"{at}.envelope: expected the keys {sorted(keys)} under 'history'")
    envelope = {"history": {}, "final": env.get("final")}
    for k in keys:
        try:
            envelope["history"][k] = windows.decode_series(env["history"][k], w)
        except (ValueError, TypeError, AttributeError) as exc:
            raise _fail(path, "windows", f"{at}.envelope.history.{k}: {exc}") from None
    if (final is None) != (envelope["final"] is None):
        raise _fail(path, "windows", f"{at}.envelope.final: present where the window has no final metrics, "
                                     "or missing where it has")
    return {"seed": int(win["seed"]), "epoch": epoch, "source": win["source"], "state": state,
            "keras": {"history": history, "final": final, "init_grad_max_abs": win["init_grad_max_abs"]},
            "envelope": envelope}


def load(path: Path, environment: dict, experiment_names=None) -> Certificate:
    """Read and verify; any failure raises :class:`CertificateError` naming the check that failed."""
    path = Path(path)
    try:
        text = read_text(path)
    except packed.PackError as exc:
        raise _fail(path, "packed file", str(exc)) from None
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise _fail(path, "readable", str(exc)) from None
    try:
        data = records.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, "JSON", f"not valid JSON, truncated? ({exc})") from None
    if isinstance(data, dict) and data.get("schema") == "lesson-claims/certificate/1":
        raise _fail(path, "schema", "made under seeded Keras 3's replayed batch order (one permutation every epoch) "
                                    "and the file-path code digest (schema 1); this suite trains the lesson's order, "
                                    f"a fresh permutation per epoch: make a new certificate with `{MAKE}`")
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise _fail(path, "schema", f"expected {SCHEMA!r}, found {found!r}; make a new one with `{MAKE}`")
    missing = [k for k in ("sha256", "environment", "code", "seeds", "experiments", "plan", "checks",
                           "seed_independence", "cost", "created", "suite_version", "batch_order",
                           "orders_digest") if k not in data]
    if missing:
        raise _fail(path, "schema", f"missing fields {missing}")
    if data["sha256"] != checksum(data):
        raise _fail(path, "checksum", "the content does not match its SHA-256: edited or corrupted")
    if "extract_of" in data:
        raise _fail(path, "schema", f"a comparison extract (no window states), not a certificate: `{MAKE}`")
    if data["batch_order"] != orders.DEFAULT:
        raise _fail(path, "batch order", f"certifies the {data['batch_order']!r} batch order, this suite trains "
                                         f"{orders.DEFAULT!r}: make a new certificate with `{MAKE}`")
    if data["code"].get("digest_scheme") != provenance.DIGEST_SCHEME:
        raise _fail(path, "code", f"digest scheme {data['code'].get('digest_scheme')!r}, here "
                                  f"{provenance.DIGEST_SCHEME!r}: make a new certificate with `{MAKE}`")
    env = data["environment"]
    differ = [f"{k}: certificate {env.get(k)!r}, here {environment.get(k)!r}"
              for k in ENVIRONMENT_FIELDS if env.get(k) != environment.get(k)]
    if differ or env.get("fingerprint") != environment.get("fingerprint"):
        raise _fail(path, "environment", "for another environment (" + "; ".join(differ or ["fingerprint"]) + ")")
    if data["suite_version"] != provenance.__version__:
        raise _fail(path, "code", f"suite version {data['suite_version']}, here {provenance.__version__}")
    if data["orders_digest"] != orders.digest():
        raise _fail(path, "batch order", "the lesson's orders drawn here differ from the certified ones "
                                         "(another NumPy Generator stream?)")
    if data["code"].get("digest") != provenance.code_digest("keras"):
        here = provenance.module_digests("keras")
        theirs = data["code"].get("modules", {})
        changed = [m for m in sorted(set(here) | set(theirs)) if theirs.get(m) != here.get(m)]
        raise _fail(path, "code", "certifies other code: "
                    + (f"{', '.join(f'{m} ({provenance.MODULES.get(m, m)})' for m in changed)} changed since"
                       if changed else "digest differs") + f"; make a new certificate with `{MAKE}`")
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
    cert = Certificate(path, data)
    for name in names:
        cert.refined(name)  # every checkpoint decoded and shape-checked before any work
    return cert


def find(directory: Path, environment: dict, experiment_names=None) -> Certificate:
    """The verified certificate of this environment, or :class:`CertificateError`
    saying how to make one, and how the environments on file differ from this one."""
    directory = Path(directory)
    errors = []
    for path in candidates(directory, environment["fingerprint"]):  # the first that verifies: a stale local
        try:                                                          # file never hides the shipped one
            return load(path, environment, experiment_names)
        except CertificateError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]
    others = []
    for other in _files(directory):
        try:
            env = json.loads(read_text(other)).get("environment", {})
            diff = [f"{k} {env.get(k)} vs {environment.get(k)}" for k in ENVIRONMENT_FIELDS
                    if env.get(k) != environment.get(k)]
            others.append(f"{other.name} ({'; '.join(diff) or 'same fields, other fingerprint'})")
        except (OSError, ValueError, AttributeError, EOFError):
            others.append(f"{other.name} (unreadable)")
    raise CertificateError(
        f"no engine certificate for this environment ({environment['fingerprint']}: TF {environment['tensorflow']}, "
        f"Keras {environment['keras']}, {environment['device']}) in {directory}/. "
        f"Certify it once with `{MAKE} --if-missing` (it transfers a certificate of this Keras line where one is "
        "on file, else trains the Keras references: docs/costs.md), or run the literal engine with "
        "--claims-engine keras. The committed certificate fits the locked default environment "
        "(`pip install -r harness/locks/py311-tf221-k3new-cpu.txt -e \".[cpu]\"`)."
        + (f" On file: {', '.join(others)}." if others else ""))
