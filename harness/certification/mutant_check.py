"""``python -m harness mutants``: the semantic mutants of the batched engine
(:mod:`harness.training.mutants`) against this environment's certificate, each of which its window
checks must kill.

Each mutant is run exactly as a run checks the engine (:func:`harness.certification.windows.check`,
then :func:`~harness.certification.windows.continuity`, configuration by configuration, cheapest first);
the first failed window kills it, and the table names the configuration, seed, checkpoint, key and
epoch.  A mutant that survives every window is a hole in the proof: exit status 1.
"""
from __future__ import annotations

import json
import sys
import time

from harness.certification import windows
from harness.storage.store import atomic_write_text
from harness.training import experiments
from harness.training.mutants import Mutant, all_mutants


def _order(names):
    """Cheapest configurations first: a mutant usually dies on the first one it touches."""
    return sorted(names, key=lambda n: (experiments.get(n).epochs * (experiments.get(n).hidden_layers + 1), n))


def run_mutant(mutant: Mutant, cert, out=sys.stdout, every: bool = False) -> dict:
    """The window check of every configuration against ``mutant``, cheapest first; the first
    failure kills it.  ``every``: go on through all configurations and list where it was killed
    (how many configurations would catch it alone)."""
    start = time.perf_counter()
    row = None
    killed_on = []
    for n in _order(list(cert.data["experiments"])):
        result = windows.check(cert, n, program=mutant.program)
        if result["passed"]:
            result = windows.continuity(cert, n, program=mutant.program)
        if not result["passed"]:
            killed_on.append(n)
            if row is None:
                f = result["failures"][0]
                row = {"mutant": mutant.name, "description": mutant.description, "late": mutant.late,
                       "killed": True, "check": result["level"], "configuration": n, "seed": f["seed"],
                       "checkpoint": f["checkpoint"], "epoch": f["epoch"], "key": f["key"],
                       "detail": result["detail"]}
            if not every:
                break
    if row is None:
        row = {"mutant": mutant.name, "description": mutant.description, "late": mutant.late, "killed": False,
               "check": None, "configuration": None, "seed": None, "checkpoint": None, "epoch": None, "key": None,
               "detail": "passed every window of every configuration"}
    if every:
        row["killed_on"] = killed_on
        row["configurations_checked"] = len(cert.data["experiments"])
    row["seconds"] = time.perf_counter() - start
    return row


def format_table(rows: list[dict]) -> str:
    def cell(v):
        return "-" if v is None else str(v)

    lines = [f"{'mutant':<34}{'result':<10}{'check':<12}{'configuration':<24}{'seed':>5}{'checkpoint':>11}"
             f"{'epoch':>6}  key"]
    for r in rows:
        lines.append(f"{r['mutant']:<34}{'killed' if r['killed'] else 'SURVIVED':<10}{cell(r['check']):<12}"
                     f"{cell(r['configuration']):<24}{cell(r.get('seed')):>5}{cell(r.get('checkpoint')):>11}"
                     f"{cell(r['epoch']):>6}  {cell(r.get('key'))}")
    if any("killed_on" in r for r in rows):
        lines.append("")
        for r in rows:
            if "killed_on" in r:
                lines.append(f"{r['mutant']:<34} killed on {len(r['killed_on'])}/{r['configurations_checked']} "
                             f"configurations: {', '.join(r['killed_on']) or '-'}")
    killed = sum(r["killed"] for r in rows)
    lines.append(f"killed: {killed}, survived: {len(rows) - killed}")
    return "\n".join(lines)


def run_mutants(args) -> int:
    """``python -m harness mutants``: ``args.certificate_dir``, ``args.only`` (names, or None for all),
    ``args.every_configuration``, ``args.out`` (the JSON table).  Exit status: 0 every mutant killed, 1 one
    survived, 2 no certificate or an unknown mutant."""
    from harness.training import devices

    devices.configure()
    from harness.certification import certificate
    from harness.training import environment

    env = environment.describe()
    try:
        cert = certificate.find(args.certificate_dir, env)
    except certificate.CertificateError as exc:
        print(f"python -m harness mutants: {exc}", file=sys.stderr)
        return 2
    mutants = all_mutants()
    if args.only:
        unknown = set(args.only) - {m.name for m in mutants}
        if unknown:
            print(f"python -m harness mutants: --only {' '.join(sorted(unknown))}: unknown mutant(s); known: "
                  f"{', '.join(m.name for m in mutants)}", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m.name in args.only]
    rows = []
    for m in mutants:
        row = run_mutant(m, cert, every=args.every_configuration)
        rows.append(row)
        print(f"  {m.name}: {'killed by the window check on ' + row['configuration'] + ' at epoch ' + str(row['epoch']) if row['killed'] else 'SURVIVED'}"
              f" ({row['seconds']:.0f} s)", flush=True)
    print(format_table(rows))
    atomic_write_text(args.out, json.dumps({"environment": env["fingerprint"], "certificate": str(cert.path),
                                            "mutants": rows}, indent=1))
    print(f"wrote {args.out}")
    return 0 if all(r["killed"] for r in rows) else 1
