"""``lock``: one lock file per tox cell (harness/locks/<cell>.txt), with uv pip compile."""
from __future__ import annotations

from harness import options
from harness.bad_input import BadInput, check_known

NAME = "lock"
HELP = "write one lock file per tox cell (harness/locks/<cell>.txt) with uv pip compile; needs uv (pip install -e '.[lock]')"


def add_arguments(parser) -> None:
    options.ONLY.but(metavar="ENV", help="only these cells", bad=(("nope", "unknown cell"),)).add_to(parser)
    options.Option("check", "write nothing: exit 1 if a lock no longer fits pyproject.toml and tox.ini",
                   action="store_true").add_to(parser)


def check(args) -> None:
    from harness.maintainer import lock as locking

    check_known("--only", args.only, locking.all_cells(), "cell(s) (tox.ini's, and the GPU twin)")


def run(args) -> int:
    from harness.maintainer import lock as locking

    try:
        return locking.run(args.only, check_only=args.check)
    except (ValueError, RuntimeError) as exc:
        raise BadInput(str(exc)) from None
