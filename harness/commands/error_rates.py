"""``error-rates``: every decision rule's wrong-decision rate at the edges of its zone, measured."""
from __future__ import annotations

import sys

from harness import options
from harness.bad_input import check_out_file

NAME = "error-rates"
HELP = ("measure every decision rule's wrong-decision rate at the edges of its zone over the sequential design "
        "(exact or 5000 replicates) into reports/error_rates.json")


def add_arguments(parser) -> None:
    options.WORKERS.add_to(parser)
    options.out_file("reports/error_rates.json", "where the measurement is written (committed)").add_to(parser)


def check(args) -> None:
    check_out_file("--out", args.out)


def run(args) -> int:
    from harness.maintainer.error_rates import check as check_rates, run as measure  # local: numpy and SciPy
    from harness.training.devices import available_cores

    measure(args.out, workers=args.workers or available_cores())
    problems = check_rates(args.out)
    for p in problems:
        print(f"error-rates: {p}", file=sys.stderr)
    return 1 if problems else 0
