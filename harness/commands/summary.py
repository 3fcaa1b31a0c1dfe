"""``summary``: the verdict table as GitHub Markdown, for a CI job summary."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from harness import options
from harness.bad_input import BadInput, check_out_file

NAME = "summary"
HELP = "the verdict table as GitHub Markdown, for a CI job summary (appended to $GITHUB_STEP_SUMMARY when set, else printed)"


def add_arguments(parser) -> None:
    options.RESULTS.add_to(parser)
    options.OUT.but(type=str, help="the file the table is appended to (default: $GITHUB_STEP_SUMMARY if set, else "
                    "stdout; '-' for stdout)").add_to(parser)
    options.Option("title", "the heading's first words (default lesson-claims)", default="lesson-claims",
                   bad=()).add_to(parser)


def check(args) -> None:
    option = "--out" if args.out is not None else "$GITHUB_STEP_SUMMARY"
    out = os.environ.get("GITHUB_STEP_SUMMARY") if args.out is None else args.out
    args.out = None if out in (None, "", "-") else Path(out)
    if args.out is not None:  # appended to in place: an existing file must itself be writable
        check_out_file(option, args.out)
        if args.out.exists() and not os.access(args.out, os.W_OK):
            raise BadInput(f"{option} {args.out}: not writable (permission denied); give a file this user can "
                           "write to")


def run(args) -> int:
    from harness.report.markdown import summary_markdown
    from harness.results import ResultsError, load

    try:  # the decoder refuses what is not a results file, naming the file and field: nothing written
        text = summary_markdown(load(args.results), args.title)
    except ResultsError as exc:
        raise BadInput(str(exc)) from None
    if args.out is None:
        sys.stdout.write(text)
    else:  # appended, as GitHub reads $GITHUB_STEP_SUMMARY: each step adds its part
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0
