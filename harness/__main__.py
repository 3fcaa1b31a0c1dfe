"""``python -m harness report|bench|compare``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="re-render the HTML report from results.json, without training")
    rep.add_argument("results", nargs="?", default="reports/results.json", type=Path)
    bench = sub.add_parser("bench", help="time the keras and batched engines side by side")
    bench.add_argument("--seeds", type=int, default=3, help="seeds per configuration for the Keras engine")
    bench.add_argument("--batched-seeds", type=int, nargs="+", default=[30, 100, 300, 1000])
    bench.add_argument("--configs", nargs="*", default=None, help="experiment names (default: all)")
    bench.add_argument("--scaling-configs", nargs="*", default=None,
                       help="time every --batched-seeds count only for these (default: all configurations)")
    bench.add_argument("--out", type=Path, default=Path("reports/bench.json"))
    comp = sub.add_parser("compare", help="claims x environments: write matrix.html from results/summary files")
    comp.add_argument("files", nargs="+", type=Path, help="summary files (reports/history/*.json, "
                      "reports/baselines/*.json) or results.json files, one per environment")
    comp.add_argument("--out-dir", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    if args.command == "compare":
        from .compare import run_compare

        return run_compare(args)
    if args.command == "report":
        from .report import render_from_json

        try:
            index = render_from_json(args.results)
        except (OSError, ValueError) as exc:
            parser.error(str(exc))
        print(index)
        return 0
    from . import experiments

    unknown = [n for n in (args.configs or []) + (args.scaling_configs or []) if n not in experiments.EXPERIMENTS]
    if unknown:
        parser.error(f"unknown configuration(s) {', '.join(unknown)}; known: {', '.join(experiments.EXPERIMENTS)}")
    if args.seeds < 1 or any(n < 1 for n in args.batched_seeds):
        parser.error("--seeds and --batched-seeds need positive integers")
    from .bench import run_bench

    return run_bench(args)


if __name__ == "__main__":
    sys.exit(main())
