"""``python -m harness`` (and the ``lesson-claims`` script): the suite's maintainer commands, one module each.

Every command module has ``NAME``, ``HELP``, ``add_arguments(parser)`` (its rows of :mod:`harness.options`),
``check(args)`` (bad input, :class:`~harness.bad_input.BadInput`, before any work) and ``run(args) -> int``.

Exit status: 0 done; 1 a check failed (mutants: a mutant survived; error-rates: a rate above its bound or a
stale file; certify: a check of the new certificate failed; cells: a cell not decided; compare: a file
left out); 2 bad input (an option or file, named in the message), before any work.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from harness.bad_input import BadInput

# In the order `--help` lists them.
COMMANDS = ("report", "summary", "bench", "compare", "cells", "certify", "mutants", "lock", "error_rates")


def _modules():
    return [importlib.import_module(f"harness.commands.{name}") for name in COMMANDS]


def parser() -> tuple[argparse.ArgumentParser, dict]:
    top = argparse.ArgumentParser(prog="python -m harness", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)
    by_name = {}
    for module in _modules():
        module.add_arguments(sub.add_parser(module.NAME, help=module.HELP))
        by_name[module.NAME] = module
    return top, by_name


def main(argv=None) -> int:
    top, commands = parser()
    args = top.parse_args(argv)
    command = commands[args.command]
    try:  # every output checked, every count bounded, before any work
        command.check(args)
        return command.run(args)
    except BadInput as exc:  # "certify --out-dir X: ...", "report X.json: ...", "compare: no cells ..."
        text = str(exc)
        top.error(f"{args.command}{':' if text[:1].isalpha() and ' ' in text.split(':')[0] else ''} {text}")


if __name__ == "__main__":
    sys.exit(main())
