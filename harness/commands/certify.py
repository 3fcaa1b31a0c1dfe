"""``certify``: this environment's engine certificate (or the sweeps' reduced one)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from harness import options, paths
from harness.bad_input import CONFIG_BYTES_PER_SEED, BadInput, check_dir, check_known, check_seed_count

NAME = "certify"
HELP = ("train this environment's Keras references once and write its engine certificate "
        "(reports/certificates/<environment fingerprint>.json)")


def add_arguments(parser) -> None:
    options.WORKERS.but(help="parallel Keras trainings (default: one per CPU core)").add_to(parser)
    options.STORE_DIR.add_to(parser)
    options.OUT_DIR.but(default=Path(paths.CERTIFICATE_DIR), help="where the certificate is written (default "
                        f"{paths.CERTIFICATE_DIR})").add_to(parser)
    options.Option("if-missing", "do nothing when a valid certificate of this environment is on file (the matrix's "
                   "cells certify only what is missing)", action="store_true").add_to(parser)
    options.Option("no-transfer", "with --if-missing: certify in full, never transfer another environment's "
                   "certificate", action="store_true").add_to(parser)
    options.Option("transfer-from", "with --if-missing: transfer this certificate (of this Keras line, this code) "
                   "instead of the nearest one found in --out-dir and <store-dir>/certificates", type=Path,
                   metavar="FILE", bad=(("{tmp}/missing.json", "only with --if-missing"),)).add_to(parser)
    options.Option("sweep", "instead: the sweeps' reduced certificate (reports/certificates/sweep-<fingerprint>.json: "
                   "2 seeds x 2 windows per sweep point the full certificate does not cover)",
                   action="store_true").add_to(parser)
    options.Option("ship", "also write it packed for committing (<fingerprint>.npz, at most 4 MiB) and say what to "
                   "commit: how the default cell's shipped certificate is remade (in its locked environment)",
                   action="store_true").add_to(parser)
    options.Option("independence-seeds", "seed counts compared for per-seed independence (default 1000; at most "
                   "what this machine's memory holds)", default=1000,
                   type=options.at_least(30, "compared with a 30-seed batch"), metavar="N",
                   bad=(("10", "expected at least 30"), ("100000000", "too many seeds"))).add_to(parser)
    options.Option("independence-configs", "configurations trained at --independence-seeds (default: "
                   "reg_target_standard circles_tanh1 circles_relu5)", nargs="+", metavar="NAME",
                   bad=(("nope", "unknown configuration(s)"),)).add_to(parser)


def check(args) -> None:
    from harness.training import experiments  # names only: no TensorFlow

    check_dir("--out-dir", args.out_dir, create=False)
    check_dir("--store-dir", args.store_dir, create=False)
    check_seed_count("--independence-seeds", args.independence_seeds, CONFIG_BYTES_PER_SEED,
                     "one configuration's training (all its seeds at once)")
    if (args.transfer_from is not None or args.no_transfer) and not args.if_missing:
        raise BadInput("--transfer-from/--no-transfer: only with --if-missing (a plain certify certifies in full)")
    if args.transfer_from is not None and not args.transfer_from.is_file():
        raise BadInput(f"--transfer-from {args.transfer_from}: no such file; give a certificate "
                       "(reports/certificates/<fingerprint>.json or .npz)")
    check_known("--independence-configs", args.independence_configs, list(experiments.EXPERIMENTS), "configuration(s)")


def run(args) -> int:
    # local: numpy (the certification code) only for `certify`; --help and the other commands skip it
    from harness.certification.certify import INDEPENDENCE_CONFIGS, run_certify
    from harness.storage.store import clean_tmp
    from harness.training.devices import available_cores

    clean_tmp(args.store_dir)  # temporary files of writers that died (killed certify runs)
    args.workers = args.workers or available_cores()
    if args.sweep:
        return _sweep(args)
    args.independence_configs = args.independence_configs or list(INDEPENDENCE_CONFIGS)
    return run_certify(args)


def _sweep(args) -> int:
    from harness.certification import sweep_check
    from harness.training import environment

    path = sweep_check.certify(args.out_dir, environment.describe()["fingerprint"], args.workers, sys.stdout)
    doc = json.loads(path.read_text(encoding="utf-8"))
    failed = [n for n, r in doc["points"].items() if not r["passed"]]
    print(f"certify --sweep: {path}: {len(doc['points']) - len(failed)}/{len(doc['points'])} sweep points agree with "
          f"Keras in {doc['seconds']:.0f} s" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 3 if failed else 0
