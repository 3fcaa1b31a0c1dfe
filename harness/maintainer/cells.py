"""``python -m harness cells``: every cell of the TensorFlow matrix certified and decided, resumably.

A cell is a tox environment (``tox.ini``: one per TF minor with its Keras 2, and from TF 2.16 with the Keras
3 of its day).  For each cell still missing, in tox's order:

1. ``tox -e ENV --notest``: install.  A failed install (no wheel for this Python, a resolver conflict) is
   recorded as "not run" with the installer's last words, never dropped;
2. ``python -m harness certify --if-missing`` in it: the engine certificate, unless a valid one is on file
   (one whose window checks failed is repaired: checked again, refined where refinement settles it);
3. the claims at the default profile, into ``reports/cells/ENV/`` (ignored by git);
4. ``reports/cells/ENV.json``: the cell's record (:class:`harness.results.Cell`) with its summary, committed.

A cell whose record was decided by this suite version, under these rules and with this engine code is
skipped; a killed run resumes (trained runs and Keras references are kept in the run store).  Each cell's
expected cost is printed before it starts.  :func:`explain` says why two neighbouring cells differ.
"""
from __future__ import annotations

import gzip
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.certification import certificate as certlib
from harness.training import provenance
from harness import lockfiles
from harness.spec import RULES
from harness.results import Cell, Difference, Machine, Neighbours, as_type, drift, encode, summaries
from harness.training import records
from harness.version import __version__

ROOT = Path(__file__).resolve().parents[2]
CELLS_DIR = ROOT / "reports" / "cells"
CERT_DIR = ROOT / "reports" / "certificates"  # the default environment's, committed whole
# A cell's full certificate stays with its run store (not committed: 7 MB); its comparison extract
# (Keras references and initial states, ~0.3 MB) is committed beside the cell's record.
LOCAL_CERT_DIR = ROOT / ".store" / "certificates"
# A cell's peak memory (certification trains 2 Keras workers, the claims 1000-seed batched programs).
CELL_GIB = 8


def tox(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    import shutil

    exe = Path(sys.executable).with_name("tox")
    found = str(exe) if exe.exists() else shutil.which("tox")
    if found is None:
        raise RuntimeError("tox is not installed here: pip install -e \".[matrix]\"")
    return subprocess.run([found, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def environments() -> list[str]:
    out = tox("-l")
    if out.returncode != 0:
        raise RuntimeError(f"tox -l failed: {out.stderr[-500:]}")
    return [line.strip() for line in out.stdout.splitlines() if line.strip().startswith("py")]


def declared_environments(tox_ini: Path = ROOT / "tox.ini") -> list[str]:
    """tox.ini's env_list with its braces expanded, without tox (which CI does not install), in tox's order."""
    return sorted(lockfiles.tox_environments(tox_ini), key=order_key)


def record_path(env: str) -> Path:
    return CELLS_DIR / f"{env}.json"


def load(path: Path) -> Cell:
    """A cell's record (non-finite values come back as floats: :mod:`harness.training.records`)."""
    return as_type(Cell, records.loads(Path(path).read_text(encoding="utf-8")), str(path))


def load_all(directory: Path = CELLS_DIR) -> list[Cell]:
    """Every committed cell, in tox's order of environments (TF minor, then Keras 2 before 3)."""
    return sorted((load(p) for p in sorted(Path(directory).glob("*.json"))), key=lambda c: order_key(c.env))


def order_key(env: str) -> tuple:
    parts = env.split("-")
    tf = next((p for p in parts if p.startswith("tf")), "tf0")
    keras = next((p for p in parts if p.startswith("k")), "k0")
    return (int(tf[2:] or 0), {"k2": 0, "k3": 1, "k3new": 2}.get(keras, 3), env)


def current(cell: Cell) -> bool:
    """Decided by this suite version, under these rules, with this engine code: nothing to redo."""
    s = cell.summary
    return (cell.status == "decided" and s is not None and s.rules == RULES and s.suite_version == __version__
            and s.environment.code_digest == provenance.record_digest("batched"))


def _tail(text: str, lines: int = 4) -> str:
    """The lines that say what went wrong: a failed check, else an error, else the last lines (warnings
    left out)."""
    keep = [ln.strip() for ln in text.strip().splitlines()
            if ln.strip() and "warning" not in ln.lower() and not ln.strip().startswith("warnings.warn")]
    tally = [ln for ln in keep if ln.startswith("checks:")][-1:]  # certify's "checks: 1 passed, 15 failed"
    for marks in (("FAILED",), ("ERROR", "error:", "Error:", "conflict")):
        hits = [ln for ln in keep if any(m in ln for m in marks) and ln not in tally]
        if hits:
            return " | ".join(tally + hits[-lines:])[:1200]
    return " | ".join(keep[-lines:])[-1200:]


def _median(values: list[float]) -> float | None:
    values = sorted(v for v in values if v is not None)
    return values[len(values) // 2] if values else None


def expected_cost(done: list[Cell]) -> str:
    """What a cell costs on this machine, from the cells measured so far (or the committed certificate)."""
    certify = _median([c.certify_seconds for c in done])
    claims = _median([c.claims_seconds for c in done])
    if certify is None:
        for path in sorted(CERT_DIR.glob("*.json*")):
            try:
                cost = certlib.read_for_comparison(path).data.get("cost") or {}
            except certlib.CertificateError:
                continue
            certify = cost.get("certify_wall_seconds") or certify
    parts = ["install ~2 min", f"certify ~{(certify or 1300) / 60:.0f} min (unless on file)",
             f"claims ~{(claims or 540) / 60:.0f} min"]
    return ", ".join(parts) + f" on {os.cpu_count()} cores"


def run_cell(env: str, log=print) -> Cell:
    cell_dir = CELLS_DIR / env
    cell_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    out = tox("-e", env, "--notest")
    install = time.perf_counter() - start
    (cell_dir / "install.log").write_text(out.stdout + out.stderr, encoding="utf-8")
    if out.returncode != 0:
        return Cell(env=env, status="not run", reason="install failed: " + _tail(out.stdout + out.stderr),
                    install_seconds=install, cores=os.cpu_count())
    probe = tox("exec", "-e", env, "-qq", "--", "python", "-c",
                "import json; from harness.training import environment as e; d = e.describe(); "
                "print(json.dumps({k: d.get(k) for k in ('fingerprint', 'tensorflow', 'keras', 'machine')}))")
    try:
        env_info = json.loads(probe.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Cell(env=env, status="not run", reason="installed, but TensorFlow does not start: "
                    + _tail(probe.stdout + probe.stderr), install_seconds=install, cores=os.cpu_count())
    fp = env_info["fingerprint"]
    base = dict(env=env, tensorflow=env_info["tensorflow"], keras=env_info["keras"], fingerprint=fp,
                install_seconds=install, cores=os.cpu_count(),
                machine=as_type(Machine, env_info["machine"], f"{env}: machine") if env_info.get("machine") else None)
    certify_seconds = None
    cert_dir = CERT_DIR if certlib.on_file(CERT_DIR, fp) is not None else LOCAL_CERT_DIR
    # Also where one is on file: certify --if-missing does nothing to a valid certificate whose checks
    # passed, makes a stale one again, and repairs one whose window checks failed (refinement).
    on_file = certlib.on_file(cert_dir, fp) is not None
    log(f"{env}: checking the certificate on file" if on_file else f"{env}: certifying {fp}")
    start = time.perf_counter()
    out = tox("exec", "-e", env, "--", "python", "-m", "harness", "certify", "--if-missing",
              f"--out-dir={cert_dir}")
    certify_seconds = time.perf_counter() - start
    if on_file:  # what certifying cost when it was made (the certificate records it), not this check
        certify_seconds = _certified_seconds(cert_dir, fp) or certify_seconds
    (cell_dir / "certify.log").write_text(out.stdout + out.stderr, encoding="utf-8")
    if out.returncode != 0:
        return Cell(**base, status="certification failed", reason=_tail(out.stdout + out.stderr),
                    certify_seconds=certify_seconds, certificate=_extract(env, cert_dir, fp))
    log(f"{env}: deciding the claims")
    start = time.perf_counter()
    out = tox("exec", "-e", env, "--", "pytest", "-n", "auto", "-p", "no:cacheprovider",
              f"--claims-report-dir={cell_dir / 'report'}", f"--claims-history-dir={cell_dir}",
              "--claims-store-dir=.store", f"--claims-certificate-dir={cert_dir}")
    claims = time.perf_counter() - start
    (cell_dir / "pytest.log").write_text(out.stdout + out.stderr, encoding="utf-8")
    summary_path = cell_dir / f"{fp}.json"
    if not summary_path.exists():
        return Cell(**base, status="not run", reason=f"pytest exit {out.returncode}: " + _tail(out.stdout + out.stderr),
                    certify_seconds=certify_seconds, claims_seconds=claims, pytest_exit=out.returncode)
    return Cell(**base, status="decided", certificate=_extract(env, cert_dir, fp),
                certify_seconds=certify_seconds, claims_seconds=claims, pytest_exit=out.returncode,
                summary=summaries.load(summary_path))


def _certified_seconds(cert_dir: Path, fp: str) -> float | None:
    path = certlib.on_file(cert_dir, fp)
    try:
        cost = certlib.read_for_comparison(path).data.get("cost") or {} if path else {}
    except certlib.CertificateError:
        return None
    total = cost.get("certify_wall_seconds")
    return None if total is None else total + (cost.get("refinement_wall_seconds") or 0.0)


def _extract(env: str, cert_dir: Path, fp: str) -> str | None:
    """The committed comparison extract of the cell's certificate (:func:`certlib.comparison_extract`)."""
    path = certlib.on_file(cert_dir, fp)
    if path is None:
        return None
    from harness.storage.store import atomic_write_bytes

    data = records.loads(certlib.read_text(path))
    out = CELLS_DIR / f"{env}.references.json.gz"
    atomic_write_bytes(out, gzip.compress(records.dumps(certlib.comparison_extract(data)).encode("utf-8"),
                                          compresslevel=9, mtime=0))
    return str(out.relative_to(ROOT))


def write(cell: Cell) -> Path:
    from harness.storage.store import atomic_write_text

    path = record_path(cell.env)
    atomic_write_text(path, encode(cell, indent=1) + "\n")
    return path


def parallel_default() -> int:
    """Cells side by side where memory allows: CELL_GIB each, and two cores each."""
    try:
        gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    except (ValueError, OSError):
        gib = 8
    return max(1, min(int(gib // CELL_GIB), (os.cpu_count() or 2) // 2))


def run(only: list[str] | None = None, parallel: int | None = None, log=print) -> int:
    envs = environments()
    unknown = [e for e in only or [] if e not in envs]
    if unknown:
        raise ValueError(f"unknown tox environment(s) {', '.join(unknown)}; tox.ini has {', '.join(envs)}")
    done = [load(record_path(e)) for e in envs if record_path(e).exists()]
    todo = [e for e in (only or envs) if not (record_path(e).exists() and current(load(record_path(e))))]
    parallel = parallel or parallel_default()
    log(f"{sum(current(c) for c in done)} of {len(envs)} cells current; {len(todo)} to run"
        + (f" (of {len(only)} asked for)" if only else "") + f", {parallel} side by side; each: {expected_cost(done)}")

    def one(env: str) -> Cell:
        log(f"{env}: starting ({expected_cost(done)})")
        cell = run_cell(env, log)
        write(cell)
        log(f"{env}: {cell.status}" + (f" ({cell.reason})" if cell.reason else ""))
        return cell

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        cells = list(pool.map(one, todo))
    return 0 if all(c.status == "decided" for c in cells) else 1


# ------------------------------------------------------------------ why neighbours differ


def _first_difference(a: list[float], b: list[float]) -> int | None:
    """The first epoch index where two loss curves differ (NaN equals NaN), None if they never do."""
    for i, (x, y) in enumerate(zip(a, b)):
        if not (x == y or (math.isnan(x) and math.isnan(y))):
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


# Above this relative difference in the first epoch's loss, the training step changed; below it, the first
# epoch's 16 steps already carry another kernel's ulps (the certificate's bound on calm training, 1e-5).
BEHAVIOUR_GAP = 1e-5


def _relative(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return 0.0 if math.isnan(a) and math.isnan(b) else math.inf
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def _initial_states(cert: certlib.Certificate, name: str) -> dict[int, str]:
    return {w["seed"]: w["state"] for w in cert.data["experiments"][name]["windows"]
            if w.get("epoch") == 0 and w.get("source", "keras") == "keras"}


def _checkpoint_states(cert: certlib.Certificate, name: str) -> dict[tuple[int, int], str] | None:
    """(seed, epoch) -> digest of Keras' training state at every checkpoint; None where the certificate (an
    older extract) holds only the initial states."""
    got = {(s, e): d for s, e, d in certlib.state_digests(cert.data["experiments"][name])}
    return got if any(e > 0 for _, e in got) else None


def partings(left: certlib.Certificate, right: certlib.Certificate, name: str) -> list[int | None]:
    """Per seed of the certificates, the first epoch index where the two Keras references' losses part."""
    return [_first_difference(rl.history["loss"], rr.history["loss"])
            for rl, rr in zip(left.runs(name), right.runs(name))]


def trajectory_evidence(left: certlib.Certificate, right: certlib.Certificate, name: str) -> tuple[str, str]:
    """(kind, sentence): do the two environments' Keras references of ``name`` start from the same weights,
    and from which epoch do their losses part?"""
    if name not in left.data["experiments"] or name not in right.data["experiments"]:
        return "unknown", f"{name}: not in both certificates"
    init_l, init_r = _initial_states(left, name), _initial_states(right, name)
    seeds = sorted(set(init_l) & set(init_r))
    differ_init = [s for s in seeds if init_l[s] != init_r[s]]
    firsts = partings(left, right, name)
    where = ", ".join(f"seed {r.seed}: " + ("never" if f is None else f"epoch {f + 1}")
                      for r, f in zip(left.runs(name), firsts))
    if differ_init:
        return "behaviour", (f"{name}: the initial weights differ (seeds {differ_init}): the initializers draw "
                             f"differently; losses part at {where}")
    first_gap = max((_relative(rl.history["loss"][0], rr.history["loss"][0])
                     for rl, rr, f in zip(left.runs(name), right.runs(name), firsts) if f == 0), default=0.0)
    states_l, states_r = _checkpoint_states(left, name), _checkpoint_states(right, name)
    if any(f is not None for f in firsts) and states_l is not None and states_l == states_r:
        # the History moved while every weight and momentum stayed bit-identical: not the training
        return "reporting", (f"{name}: bit-identical weights and momentum at all {len(states_l)} checkpoints of the "
                             f"certificate, yet the History's losses part at {where}"
                             + (f" (by {first_gap:.1e} relative in the first epoch)" if first_gap else "")
                             + ": Keras reports the loss differently; the training is the same")
    if first_gap > BEHAVIOUR_GAP:
        return "behaviour", (f"{name}: same initial weights, losses differ from the first epoch by up to "
                             f"{first_gap:.1e} relative ({where}): the training step itself changed (optimizer, "
                             "loss, shuffling)")
    if all(f is None for f in firsts):
        return "identical", f"{name}: same initial weights and bit-identical losses over every epoch ({where})"
    return "numerics", (f"{name}: same initial weights, losses part at {where}" + (
        f" (by {first_gap:.1e} relative in the first epoch)" if first_gap else "") + ": ulps of another kernel, "
        "amplified by training")


def explain(left: Cell, right: Cell, claim_id: str) -> Difference | None:
    """The difference of ``claim_id`` between two neighbouring decided cells beyond chance (its label, or its
    deciding metric by the drift rule), with the certificates' evidence; None when there is none."""
    a = next((c for c in left.summary.claims if c.id == claim_id), None)
    b = next((c for c in right.summary.claims if c.id == claim_id), None)
    if a is None or b is None:
        return None
    moved = [drift.check(claim_id, e, b.metric, a.metric_samples[e], b.metric_samples[e])
             for e in b.metric_samples if e in a.metric_samples]
    shifted = [m for m in moved if m.drifted]
    if a.label == b.label and not shifted:
        return None
    what = []
    if a.label != b.label:
        what.append(f"label {a.label} -> {b.label}")
    what += [f"{m.experiment}: metric moved (Mann-Whitney p={m.p_value:.2g}, A={m.prob_superiority:.2f})"
             for m in shifted]
    try:
        lc = certlib.read_for_comparison(ROOT / left.certificate)
        rc = certlib.read_for_comparison(ROOT / right.certificate)
        found = [trajectory_evidence(lc, rc, e) for e in b.experiments]
    except (certlib.CertificateError, TypeError) as exc:
        found = [("unknown", f"certificates not comparable: {exc}")]
    kinds = {k for k, _ in found}
    kind = next((k for k in ("behaviour", "numerics", "reporting") if k in kinds),
                "chance" if not shifted else "unknown")
    evidence = tuple(s for _, s in found)
    if not shifted:
        evidence += ("the deciding metric did not move beyond the drift tolerance ("
                     + "; ".join(f"{m.experiment}: p={m.p_value:.2g}, A={m.prob_superiority:.2f}" for m in moved)
                     + "): the label changed within sampling noise of its line",)
    return Difference(claim=claim_id, left=left.env, right=right.env, what="; ".join(what), kind=kind,
                      evidence=evidence)


def family(env: str) -> str:
    return next((p for p in env.split("-") if p.startswith("k")), "")


def tf_minor(env: str) -> int:
    return int(next((p for p in env.split("-") if p.startswith("tf")), "tf0")[2:] or 0)


# The matrix's two lines of cells: Keras 2, and Keras 3 with the newest Keras 3 last
LINES = (("k2",), ("k3", "k3new"))


def line_of(env: str) -> tuple[str, ...]:
    return next((fams for fams in LINES if family(env) in fams), (family(env),))


def neighbour_pairs(cells: list[Cell]) -> list[tuple[Cell, Cell]]:
    """Pairs that differ in as little as the matrix allows: along each Keras family, the next decided TF
    minor (TensorFlow's change, and on Keras 3 the Keras of its day's; the newest Keras 3 comes last), and at
    one TF minor, Keras 2 against Keras 3 (Keras' change)."""
    decided = [c for c in cells if c.status == "decided" and c.summary is not None and c.summary.rules == RULES]
    pairs = []
    for fams in LINES:
        chain = sorted((c for c in decided if family(c.env) in fams), key=lambda c: order_key(c.env))
        pairs += list(zip(chain, chain[1:]))
    by = {(tf_minor(c.env), family(c.env)): c for c in decided}
    pairs += [(c, by[(minor, "k3")]) for (minor, fam), c in sorted(by.items()) if fam == "k2" and (minor, "k3") in by]
    return pairs


def failed_pairs(cells: list[Cell]) -> list[tuple[Cell, Cell]]:
    """Each cell whose certification failed, with its nearest decided cell on the same Keras line (the next
    one, else the one before): what its failure means is read from the two certificates' Keras references."""
    decided = [c for c in cells if c.status == "decided" and c.certificate]
    out = []
    for c in cells:
        if c.status != "certification failed" or not c.certificate:
            continue
        line = sorted((d for d in decided if family(d.env) in line_of(c.env)), key=lambda d: order_key(d.env))
        later = [d for d in line if order_key(d.env) > order_key(c.env)]
        near = later[0] if later else (line[-1] if line else None)
        if near is not None:
            out.append((c, near))
    return out


def pair_sentence(p: Neighbours) -> str:
    """One line for a pair compared configuration by configuration (the README's list of cells not decided)."""
    if p.unknown:
        return f"not comparable with `{p.right}`: {p.unknown}"
    parts = [f"{len(xs)} {what}" for xs, what in (
        (p.reporting, "train bit-identically at every checkpoint and differ only in the History's losses (reporting)"),
        (p.identical, "identical"), (p.numerics, "part later (numerics)"),
        (p.behaviour, "differ from the start (behaviour)")) if xs]
    return f"Against `{p.right}`'s Keras references, of the configurations: " + "; ".join(parts)


def compare_pair(left: Cell, right: Cell) -> Neighbours:
    """Every configuration the two certificates share, sorted by how their Keras references compare."""
    try:
        lc = certlib.read_for_comparison(ROOT / left.certificate)
        rc = certlib.read_for_comparison(ROOT / right.certificate)
    except (certlib.CertificateError, TypeError) as exc:
        return Neighbours(left.env, right.env, unknown=str(exc))
    kinds: dict[str, list[str]] = {"identical": [], "numerics": [], "behaviour": [], "reporting": []}
    epochs = []
    for name in sorted(set(lc.data["experiments"]) & set(rc.data["experiments"])):
        kind, _ = trajectory_evidence(lc, rc, name)
        kinds.setdefault(kind, []).append(name)
        if kind == "numerics":
            epochs += [f + 1 for f in partings(lc, rc, name) if f is not None]
    return Neighbours(left.env, right.env, tuple(kinds["identical"]), tuple(kinds["numerics"]),
                      tuple(kinds["behaviour"]), (min(epochs), max(epochs)) if epochs else None,
                      reporting=tuple(kinds["reporting"]))


def differences(cells: list[Cell]) -> list[Difference]:
    """Every difference beyond chance between neighbouring decided cells under the current rules, explained."""
    out = []
    for left, right in neighbour_pairs(cells):
        for c in right.summary.claims:
            d = explain(left, right, c.id)
            if d is not None:
                out.append(d)
    return out
