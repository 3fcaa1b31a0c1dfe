"""``report``: re-render the HTML report from a results file, without training."""
from __future__ import annotations

from harness import options
from harness.bad_input import BadInput, check_dir

NAME = "report"
HELP = "re-render the HTML report from results.json, without training"


def add_arguments(parser) -> None:
    options.RESULTS.but(help=options.RESULTS.help + "; the page and its figures are written beside it").add_to(parser)


def check(args) -> None:
    check_dir("the page's folder", args.results.parent, create=False,  # index.html and figures/ go beside it
              fix="copy the results file into a folder you can write to and render it there")


def run(args) -> int:
    from harness.report import render_from_json  # local: matplotlib and SciPy only for `report`

    try:  # the decoder refuses what is not a results file, naming the file and field: no page
        index = render_from_json(args.results)
    except (OSError, ValueError) as exc:
        raise BadInput(str(exc)) from None
    print(index)
    return 0
