"""``compare``: claims x environments, the matrix page from the committed cells or from summary files."""
from __future__ import annotations

from pathlib import Path

from harness import options, paths
from harness.bad_input import BadInput, check_dir

NAME = "compare"
HELP = ("claims x environments: write matrix.html from the matrix's cells (reports/cells/*.json, with why "
        "neighbours differ) or from summary files")


def add_arguments(parser) -> None:
    options.Option("files", "summary files (reports/history/*.json, reports/baselines/*.json) or results.json files, "
                   "one per environment (default: the cells)", nargs="*", type=Path, positional=True,
                   bad=(("{tmp}/missing.json", "cannot read"),)).add_to(parser)
    options.OUT_DIR.but(default=Path(paths.REPORT_DIR),
                        help=f"where matrix.html is written (default {paths.REPORT_DIR})").add_to(parser)


def check(args) -> None:
    check_dir("--out-dir", args.out_dir, create=False)


def run(args) -> int:
    from harness.report.compare import run_compare  # local: matplotlib and SciPy only for `compare`

    if args.files:
        return run_compare(args)
    from harness.maintainer import cells  # the matrix: every committed cell, and why neighbours differ

    found = cells.load_all()
    if not found:
        raise BadInput(f"no cells in {cells.CELLS_DIR} (run `python -m harness cells`) and no files")
    return run_compare(args, found, cells.differences(found),
                       [cells.compare_pair(a, b) for a, b in cells.neighbour_pairs(found) + cells.failed_pairs(found)])
