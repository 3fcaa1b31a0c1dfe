"""``cells``: certify and decide every tox cell still missing (resumable)."""
from __future__ import annotations

from harness import options
from harness.bad_input import BadInput, check_known

NAME = "cells"
HELP = ("certify and decide every tox cell still missing (resumable): reports/cells/<env>.json; needs tox "
        "(pip install -e '.[matrix]')")


def add_arguments(parser) -> None:
    options.ONLY.but(metavar="ENV", help="only these tox environments",
                     bad=(("nope", "unknown"),)).add_to(parser)
    options.WORKERS.but(flag="parallel", help="cells side by side (default: as many as memory and cores "
                        "allow)").add_to(parser)


def check(args) -> None:
    from harness import lockfiles  # tox.ini read without tox: a bad name is refused where tox is not installed

    check_known("--only", args.only, lockfiles.tox_environments(), "tox environment(s)")


def run(args) -> int:
    from harness.maintainer import cells  # local: numpy and SciPy only for `compare` and `cells`

    try:
        return cells.run(args.only, args.parallel)
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        raise BadInput(str(exc)) from None
