"""python -m harness certify|cells|lock|mutants|report|bench|compare|error-rates: the suite's maintainer commands.

Exit status: 0 done; 1 a check failed (mutants: a mutant survived; error-rates: a rate above its bound or a
stale file; certify: a check of the new certificate failed; cells: a cell not decided; compare: a file
left out); 2 bad input (an option or file, named in
the message), before any work."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.maintainer.bench import run_bench
from .options import CONFIG_BYTES_PER_SEED as PER_SEED, BadInput, check_dir, check_out_file, check_seed_count
from .storage.store import clean_tmp
from .training import experiments
from .training.devices import available_cores


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="re-render the HTML report from results.json, without training")
    rep.add_argument("results", nargs="?", default="reports/results.json", type=Path,
                     help="the results file of a run (default reports/results.json); the page and its figures "
                          "are written beside it")
    summ = sub.add_parser("summary", help="the verdict table as GitHub Markdown, for a CI job summary "
                          "(appended to $GITHUB_STEP_SUMMARY when set, else printed)")
    summ.add_argument("results", nargs="?", default="reports/results.json", type=Path,
                      help="the results file of a run (default reports/results.json)")
    summ.add_argument("--out", default=None, help="the file the table is appended to (default: $GITHUB_STEP_SUMMARY "
                      "if set, else stdout; '-' for stdout)")
    summ.add_argument("--title", default="lesson-claims", help="the heading's first words (default lesson-claims)")
    bench = sub.add_parser("bench", help="time the keras and batched engines side by side")
    bench.add_argument("--seeds", type=int, default=3, help="seeds per configuration for the Keras engine")
    bench.add_argument("--batched-seeds", type=int, nargs="+", default=[30, 100, 300, 1000],
                       help="batched seed counts timed (default 30 100 300 1000); each at most what this machine's "
                            "memory holds at about 1 MiB per seed (harness/options.py)")
    bench.add_argument("--configs", nargs="*", default=None, help="experiment names (default: all)")
    bench.add_argument("--scaling-configs", nargs="*", default=None,
                       help="time every --batched-seeds count only for these (default: all configurations)")
    bench.add_argument("--probes", action="store_true",
                       help="instead: the batched engine with and without the probes inside training "
                            "(harness.training.inside), side by side, at the first --batched-seeds count")
    bench.add_argument("--sweep", action="store_true",
                       help="instead: every depth-sweep point trained with its probes at the first --batched-seeds "
                            "count, in this one process (the thorough profile's training)")
    bench.add_argument("--cold-suite", action="store_true",
                       help="instead: time the README's first line in a fresh clone of HEAD (cold_suite_seconds)")
    bench.add_argument("--out", type=Path, default=Path("reports/bench.json"),
                       help="where the table goes (default reports/bench.json; checked before anything is timed)")
    comp = sub.add_parser("compare", help="claims x environments: write matrix.html from the matrix's cells "
                          "(reports/cells/*.json, with why neighbours differ) or from summary files")
    comp.add_argument("files", nargs="*", type=Path, help="summary files (reports/history/*.json, "
                      "reports/baselines/*.json) or results.json files, one per environment (default: the cells)")
    comp.add_argument("--out-dir", type=Path, default=Path("reports"),
                      help="where matrix.html is written (default reports)")
    cells = sub.add_parser("cells", help="certify and decide every tox cell still missing (resumable): "
                           "reports/cells/<env>.json; needs tox (pip install -e '.[matrix]')")
    cells.add_argument("--only", nargs="+", default=None, metavar="ENV", help="only these tox environments")
    cells.add_argument("--parallel", type=int, default=None,
                       help="cells side by side (default: as many as memory and cores allow)")
    cert = sub.add_parser("certify", help="train this environment's Keras references once and write its engine "
                          "certificate (reports/certificates/<environment fingerprint>.json)")
    cert.add_argument("--workers", type=int, default=None,
                      help="parallel Keras trainings (default: one per CPU core)")
    cert.add_argument("--store-dir", type=Path, default=Path(".store"), help="the run store (default: .store)")
    cert.add_argument("--out-dir", type=Path, default=Path("reports/certificates"),
                      help="where the certificate is written (default reports/certificates)")
    cert.add_argument("--if-missing", action="store_true",
                      help="do nothing when a valid certificate of this environment is on file (the matrix's cells "
                           "certify only what is missing)")
    cert.add_argument("--no-transfer", action="store_true",
                      help="with --if-missing: certify in full, never transfer another environment's certificate")
    cert.add_argument("--transfer-from", type=Path, default=None, metavar="FILE",
                      help="with --if-missing: transfer this certificate (of this Keras line, this code) instead of "
                           "the nearest one found in --out-dir and <store-dir>/certificates")
    cert.add_argument("--sweep", action="store_true",
                      help="instead: the sweeps' reduced certificate (reports/certificates/sweep-<fingerprint>.json: "
                           "2 seeds x 2 windows per sweep point the full certificate does not cover)")
    cert.add_argument("--ship", action="store_true",
                      help="also write it packed for committing (<fingerprint>.npz, at most 4 MiB) and say what to "
                           "commit: how the default cell's shipped certificate is remade (in its locked environment)")
    cert.add_argument("--independence-seeds", type=int, default=1000,
                      help="seed counts compared for per-seed independence (default 1000; at most what this "
                           "machine's memory holds at about 1 MiB per seed)")
    cert.add_argument("--independence-configs", nargs="+", default=None,
                      help="configurations trained at --independence-seeds (default: reg_target_standard "
                           "circles_tanh1 circles_relu5)")
    mut = sub.add_parser("mutants", help="run semantic mutants of the batched engine against the certificate; "
                         "exit 1 if any survives")
    mut.add_argument("--certificate-dir", type=Path, default=Path("reports/certificates"),
                     help="where this environment's certificate is looked up (default reports/certificates)")
    mut.add_argument("--only", nargs="+", default=None, metavar="MUTANT", help="run only these mutants")
    mut.add_argument("--every-configuration", action="store_true",
                     help="check every configuration, not only until the first kill (how many catch each mutant)")
    mut.add_argument("--out", type=Path, default=Path("reports/mutants.json"),
                     help="the mutants table, read by the report (default reports/mutants.json)")
    lock = sub.add_parser("lock", help="write one lock file per tox cell (harness/locks/<cell>.txt) with uv pip "
                          "compile; needs uv (pip install -e '.[lock]')")
    lock.add_argument("--only", nargs="+", default=None, metavar="ENV", help="only these cells")
    lock.add_argument("--check", action="store_true",
                      help="write nothing: exit 1 if a lock no longer fits pyproject.toml and tox.ini")
    err = sub.add_parser("error-rates", help="measure every decision rule's wrong-decision rate at the edges of its "
                         "zone over the sequential design (exact or 5000 replicates) into reports/error_rates.json")
    err.add_argument("--workers", type=int, default=None, help="processes side by side (default: one per core)")
    err.add_argument("--out", type=Path, default=Path("reports/error_rates.json"),
                     help="where the measurement is written (default reports/error_rates.json, committed)")
    args = parser.parse_args(argv)
    try:  # every output checked, every count bounded, before any work
        _check(args)
    except BadInput as exc:
        parser.error(f"{args.command} {exc}")
    if args.command == "certify":
        if args.workers is not None and args.workers < 1:
            parser.error("certify --workers: expected a positive integer")
        if args.independence_seeds < 30:
            parser.error("certify --independence-seeds: expected at least 30 (compared with a 30-seed batch)")
        unknown = [n for n in args.independence_configs or [] if n not in experiments.EXPERIMENTS]
        if unknown:
            parser.error(f"certify --independence-configs: unknown configuration(s) {', '.join(unknown)}")
        # local: numpy (the certification code) only for `certify`; --help and the other commands skip it
        from harness.certification.certify import INDEPENDENCE_CONFIGS, run_certify

        clean_tmp(args.store_dir)  # temporary files of writers that died (killed certify runs)
        args.workers = args.workers or available_cores()
        if args.sweep:
            from harness.certification import sweep_check
            from harness.training import environment

            path = sweep_check.certify(args.out_dir, environment.describe()["fingerprint"], args.workers, sys.stdout)
            doc = json.loads(path.read_text(encoding="utf-8"))
            failed = [n for n, r in doc["points"].items() if not r["passed"]]
            print(f"certify --sweep: {path}: {len(doc['points']) - len(failed)}/{len(doc['points'])} sweep points "
                  f"agree with Keras in {doc['seconds']:.0f} s" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
            return 3 if failed else 0
        args.independence_configs = args.independence_configs or list(INDEPENDENCE_CONFIGS)
        return run_certify(args)
    if args.command == "lock":
        from harness.maintainer import lock as locking

        try:
            return locking.run(args.only, check_only=args.check)
        except (ValueError, RuntimeError) as exc:
            parser.error(f"lock: {exc}")
    if args.command == "error-rates":
        from harness.maintainer.error_rates import check, run  # local: numpy and SciPy only for `error-rates`

        if args.workers is not None and args.workers < 1:
            parser.error("error-rates --workers: expected a positive integer")
        run(args.out, workers=args.workers or available_cores())
        problems = check(args.out)
        for p in problems:
            print(f"error-rates: {p}", file=sys.stderr)
        return 1 if problems else 0
    if args.command == "mutants":
        from .training.mutants import run_mutants  # local: numpy only for `mutants`

        return run_mutants(args)
    if args.command == "compare":
        from harness.report.compare import run_compare  # local: matplotlib and SciPy only for `compare`

        if not args.files:  # the matrix: every committed cell, and why neighbours differ
            from harness.maintainer import cells  # local: numpy and SciPy only for `compare` and `cells`

            found = cells.load_all()
            if not found:
                parser.error(f"compare: no cells in {cells.CELLS_DIR} (run `python -m harness cells`) and no files")
            return run_compare(args, found, cells.differences(found),
                               [cells.compare_pair(a, b) for a, b in cells.neighbour_pairs(found)
                                + cells.failed_pairs(found)])
        return run_compare(args)
    if args.command == "cells":
        from harness.maintainer import cells  # local: numpy and SciPy only for `compare` and `cells`

        try:
            return cells.run(args.only, args.parallel)
        except (ValueError, RuntimeError, FileNotFoundError) as exc:
            parser.error(f"cells: {exc}")
    if args.command == "report":
        from .report import render_from_json  # local: matplotlib and SciPy only for `report`

        try:  # index.html and figures/ go beside it
            check_dir("report: the page's folder", args.results.parent, create=False,
                      fix="copy the results file into a folder you can write to and render it there")
        except BadInput as exc:
            parser.error(str(exc))
        try:  # the decoder refuses what is not a results file, naming the file and field: no page
            index = render_from_json(args.results)
        except (OSError, ValueError) as exc:
            parser.error(f"report {exc}")
        print(index)
        return 0
    if args.command == "summary":
        from harness.report.markdown import summary_markdown
        from harness.results import ResultsError, load

        try:  # the decoder refuses what is not a results file, naming the file and field: nothing written
            text = summary_markdown(load(args.results), args.title)
        except ResultsError as exc:
            parser.error(f"summary {exc}")
        if args.out is None:
            sys.stdout.write(text)
        else:  # appended, as GitHub reads $GITHUB_STEP_SUMMARY: each step adds its part
            args.out.parent.mkdir(parents=True, exist_ok=True)
            with args.out.open("a", encoding="utf-8") as f:
                f.write(text + "\n")
        return 0
    unknown = [n for n in (args.configs or []) + (args.scaling_configs or []) if n not in experiments.EXPERIMENTS]
    if unknown:
        parser.error(f"unknown configuration(s) {', '.join(unknown)}; known: {', '.join(experiments.EXPERIMENTS)}")
    if args.seeds < 1 or any(n < 1 for n in args.batched_seeds):
        parser.error("--seeds and --batched-seeds need positive integers")
    return run_bench(args)


def _check(args) -> None:
    """options.BadInput for an output that cannot be written or a seed count this machine cannot hold."""
    one = "one configuration's training (all its seeds at once)"
    if args.command == "bench":
        check_out_file("--out", args.out)
        if not args.cold_suite:
            check_seed_count("--seeds", args.seeds, PER_SEED, one)
            for n in args.batched_seeds:
                check_seed_count("--batched-seeds", n, PER_SEED, one)
    elif args.command == "compare":
        check_dir("--out-dir", args.out_dir, create=False)
    elif args.command == "cells" and args.parallel is not None and args.parallel < 1:
        raise BadInput(f"--parallel {args.parallel}: expected a positive integer")
    elif args.command == "certify":
        check_dir("--out-dir", args.out_dir, create=False)
        check_dir("--store-dir", args.store_dir, create=False)
        check_seed_count("--independence-seeds", args.independence_seeds, PER_SEED, one)
        if (args.transfer_from is not None or args.no_transfer) and not args.if_missing:
            raise BadInput("--transfer-from/--no-transfer: only with --if-missing (a plain certify certifies in full)")
        if args.transfer_from is not None and not args.transfer_from.is_file():
            raise BadInput(f"--transfer-from {args.transfer_from}: no such file; give a certificate "
                           "(reports/certificates/<fingerprint>.json or .npz)")
    elif args.command == "error-rates":
        check_out_file("--out", args.out)
    elif args.command == "summary":
        import os

        option = "--out" if args.out is not None else "$GITHUB_STEP_SUMMARY"
        out = os.environ.get("GITHUB_STEP_SUMMARY") if args.out is None else args.out
        args.out = None if out in (None, "", "-") else Path(out)
        if args.out is not None:  # appended to in place: an existing file must itself be writable
            check_out_file(option, args.out)
            if args.out.exists() and not os.access(args.out, os.W_OK):
                raise BadInput(f"{option} {args.out}: not writable (permission denied); give a file this user "
                               "can write to")
    elif args.command == "mutants":
        check_out_file("--out", args.out)
        if args.certificate_dir.exists() and not args.certificate_dir.is_dir():
            raise BadInput(f"--certificate-dir {args.certificate_dir}: is a file, not a directory; give the "
                           "directory that holds <environment fingerprint>.json (default reports/certificates)")


if __name__ == "__main__":
    sys.exit(main())
