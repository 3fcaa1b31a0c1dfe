"""Certificates carried between environments of one Keras line (transfer).

A certificate's Keras references are what the lesson's literal code does: in another environment of
the same Keras line (Keras 2, or Keras 3) the same code usually trains the same runs, up to float32
ulps (the matrix: bit-identical references from TF 2.12 to 2.20 on Keras 2).  Rather than training
every reference again, an environment without a certificate of its own re-runs Keras' own ``fit``
here over a sample of a source certificate's windows and compares it with the stored Keras History
under the certificate's own tolerances (:func:`harness.certification.windows.compare_window`: 1e-4
relative or one sample, or 10x the window's chaos envelope; NaN in the same epochs):

* in every configuration, the first and the last window of every trajectory seed (the first one
  from this environment's own initial weights, with the initial gradient: the initializers are
  checked too), and :data:`RANDOM_PER_CONFIGURATION` more drawn at random per transfer from the
  rest (the later looks' windows among them), the draw's seed recorded;
* every sampled window must agree.  Then this environment's certificate is the source's references
  with this environment's name on them, marked ``transfer`` (from which certificate, which windows,
  the largest difference); the batched engine is checked against it here, as at certification.
  If any window disagrees, the transfer is refused with the first disagreement, and the caller
  certifies in full.

A source must be of the same Keras line, the same suite version, code digest (the Keras engine's
modules), digest scheme, batch order and orders digest, and its checksum must verify; a comparison
extract (no states) is never one.  What a transfer cannot show: seed independence, which the
certificate then carries as measured in the source environment (``inherited_from``).
"""
from __future__ import annotations

import copy
import random
from pathlib import Path

from harness.certification import certificate, windows
from harness.training import experiments, orders, provenance

RANDOM_PER_CONFIGURATION = 4
SAMPLING = ("in every configuration, the first and the last window of every trajectory seed (the first from this "
            "environment's own initial weights, with the initial gradient), and "
            f"{RANDOM_PER_CONFIGURATION} more drawn at random from the rest")


class TransferRefused(certificate.CertificateError):
    """No source to transfer from, or a source that cannot be one; the message names it and why."""


def keras_line(environment: dict) -> int:
    """2 or 3: the Keras major version the lesson's ``tensorflow.keras`` resolves to."""
    if environment.get("keras_major") is not None:
        return int(environment["keras_major"])
    return int(str(environment.get("keras", "3")).split(".")[0])


def _tf(environment: dict) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in str(environment.get("tensorflow", "0")).split(".")[:3])
    except ValueError:
        return (0,)


def why_not(cert: certificate.Certificate, environment: dict) -> str | None:
    """Why ``cert`` cannot be a transfer source for ``environment``; None when it can."""
    d = cert.data
    theirs = d.get("environment", {})
    if "extract_of" in d:
        return "a comparison extract (no window states)"
    if d.get("transfer") is not None:
        return "itself transferred (a source must be certified in full)"
    if theirs.get("fingerprint") == environment.get("fingerprint"):
        return "this environment's own"
    if keras_line(theirs) != keras_line(environment):
        return f"of the Keras {keras_line(theirs)} line (Keras {theirs.get('keras')}), this environment is Keras " \
               f"{keras_line(environment)} ({environment.get('keras')})"
    if theirs.get("device") != environment.get("device"):
        return f"made on {theirs.get('device')}, this environment runs on {environment.get('device')}"
    if d.get("suite_version") != provenance.__version__:
        return f"suite version {d.get('suite_version')}, here {provenance.__version__}"
    code = d.get("code", {})
    if code.get("digest_scheme") != provenance.DIGEST_SCHEME or code.get("digest") != provenance.code_digest("keras"):
        return "made by other code (the Keras engine's code digest differs)"
    if d.get("batch_order") != orders.DEFAULT or d.get("orders_digest") != orders.digest():
        return "for another batch order or other drawn orders"
    failed = [c["experiment"] for c in d.get("checks", []) if not c.get("passed", True)]
    if failed:
        return f"its own checks failed ({', '.join(failed)})"
    return None


def read_source(path: Path, environment: dict) -> certificate.Certificate:
    """A source named by the user: verified, and refused with the reason (:class:`TransferRefused`)."""
    cert = certificate.read_for_comparison(path)
    reason = why_not(cert, environment)
    if reason:
        raise TransferRefused(f"certificate {path}: cannot be a transfer source here: {reason}")
    return cert


def find_source(directories, environment: dict) -> tuple[certificate.Certificate | None, list[str]]:
    """The best source in ``directories`` (the same Keras line, the nearest TensorFlow, then the newest), and
    one line per certificate passed over, with its reason."""
    usable, passed = [], []
    seen = set()
    for directory in directories:
        for path in certificate._files(Path(directory)):
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            try:
                cert = certificate.read_for_comparison(path)
            except certificate.CertificateError as exc:
                passed.append(f"{path.name}: {exc}")
                continue
            reason = why_not(cert, environment)
            if reason:
                passed.append(f"{path.name}: {reason}")
            else:
                usable.append(cert)
    here = _tf(environment)

    def distance(c):
        there = _tf(c.data["environment"])
        return sum(abs(a - b) * 100 ** (2 - i) for i, (a, b) in enumerate(zip(here, there)))

    usable.sort(key=lambda c: c.data["created"], reverse=True)  # newest first among equals (a stable sort)
    usable.sort(key=distance)
    return (usable[0] if usable else None), passed


def sample(cert: certificate.Certificate, name: str, rng: random.Random) -> list[dict]:
    """The windows of ``name`` a transfer re-runs: first and last of every trajectory seed, and
    :data:`RANDOM_PER_CONFIGURATION` drawn from the rest."""
    wins = cert.windows(name)
    fixed = []
    for seed in sorted({w["seed"] for w in wins if w["source"] == "keras"}):
        own = sorted((w for w in wins if w["seed"] == seed and w["source"] == "keras"), key=lambda w: w["epoch"])
        fixed += [own[0], own[-1]] if len(own) > 1 else own
    keys = {(w["seed"], w["epoch"]) for w in fixed}
    rest = [w for w in wins if (w["seed"], w["epoch"]) not in keys]
    return fixed + rng.sample(rest, min(RANDOM_PER_CONFIGURATION, len(rest)))


def judge(name: str, sampled: list[dict], here: list[dict]) -> dict:
    """The sampled windows of ``name`` (the source's Keras side) against Keras' ``fit`` run here on the same
    windows (``here``: {"history", "final", "init_grad_max_abs"} each): the window check's comparison."""
    exp = experiments.get(name)
    samples = windows.accuracy_samples(exp)
    failures, worst = [], 0.0
    for win, mine in zip(sampled, here, strict=True):
        f, w = windows.compare_window(name, win["seed"], win["epoch"], win["keras"], mine, samples, win["envelope"])
        failures += f
        worst = max(worst, w)
    at = [[w["seed"], w["epoch"]] for w in sampled]
    if failures:
        f = failures[0]
        detail = (f"{name}: Keras here differs from the source's Keras at seed {f['seed']}, checkpoint epoch "
                  f"{f['checkpoint']}, {f['key']}, " + (f"epoch {f['epoch']}" if f["epoch"] else "end of run or start")
                  + f": here {f['batched']!r} vs source {f['keras']!r}"
                  + (f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""))
    else:
        detail = f"{name}: {len(sampled)} windows agree (max relative difference {worst:.2e})"
    return {"experiment": name, "passed": not failures, "windows": at, "max_rel_diff": worst,
            "failures": [{**{k: v for k, v in f.items() if k not in ("keras", "batched")},
                          "here": f["batched"], "source": f["keras"]} for f in failures[:5]],
            "detail": detail}


def transferred(source: certificate.Certificate, environment: dict, judged: list[dict], draw: int,
                seconds: float, created: str) -> dict:
    """This environment's certificate: the source's references under this environment's name, with the
    transfer on record.  Its checks and cost are the caller's to fill (the batched engine checked here)."""
    data = copy.deepcopy({k: v for k, v in source.data.items() if k != "sha256"})
    data["environment"] = environment
    data["created"] = created
    data["transfer"] = {"from": source.data["environment"]["fingerprint"], "from_sha256": source.data["sha256"],
                        "from_path": str(source.path), "from_created": source.data["created"],
                        # the references were trained there: its machine, not this one, made them
                        "from_machine": source.data["environment"].get("machine"),
                        "sampling": SAMPLING, "draw_seed": draw,
                        "windows": {j["experiment"]: j["windows"] for j in judged},
                        "max_rel_diff": max((j["max_rel_diff"] for j in judged), default=0.0),
                        "seconds": seconds}
    data["seed_independence"] = {**source.data["seed_independence"],
                                 "inherited_from": source.data["environment"]["fingerprint"]}
    return data
