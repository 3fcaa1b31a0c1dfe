"""Every option of the suite, defined once: its flag, parser, default and help.

The pytest plugin registers :data:`PYTEST` under the ``--claims-`` prefix; each ``python -m harness`` command
(:mod:`harness.commands`) registers the rows it takes, without a prefix, from the same table (as
pytest-benchmark defines its options once for pytest and for its own command line).  A command may narrow a
row's default or help (:meth:`Option.but`); its flag and parser stay the table's.  Every row names the bad
values a test feeds it (``harness/tests/test_bad_input.py`` fails for a row without one).

Standard library only: the plugin loads this before anything heavy.
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import paths

PREFIX = "claims-"
PROFILE_NAMES = ("default", "quick", "thorough")  # harness.settings.PROFILES: what each bundles


# -- parsers -------------------------------------------------------------------------------------
def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def at_least(n: int, why: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = positive_int(text)
        if value < n:
            raise argparse.ArgumentTypeError(f"expected at least {n} ({why}), got {value}")
        return value

    parse.__name__ = f"at_least_{n}"
    return parse


def familywise_alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a family-wise alpha in (0, 0.5), got {text!r}") from None
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"expected a family-wise alpha in (0, 0.5), got {value}")
    return value


# -- the table -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    """One option: ``flag`` without dashes or prefix (a positional argument when ``positional``)."""

    flag: str
    help: str
    default: Any = None
    type: Callable | None = None
    choices: tuple | None = None
    metavar: str | None = None
    action: str | None = None
    nargs: str | int | None = None
    positional: bool = False
    # (value, a fragment of the message it must give): what harness/tests/test_bad_input.py feeds this row;
    # a flag that takes no value has none
    bad: tuple[tuple[str, str], ...] = ()

    def dest(self, prefix: str = "") -> str:
        """Where the value lands: under the prefix too, so no other plugin's option shares it."""
        return (prefix + self.flag).replace("-", "_")

    def but(self, **changes) -> "Option":
        """This row with another default, help or bad values, for one command."""
        return dataclasses.replace(self, **changes)

    def kwargs(self, prefix: str = "") -> dict:
        out = {"help": self.help}
        if self.action:
            out["action"] = self.action
        else:
            out.update(default=self.default, type=self.type, metavar=self.metavar)
            for key in ("choices", "nargs"):
                if getattr(self, key) is not None:
                    out[key] = getattr(self, key)
        if not self.positional:
            out["dest"] = self.dest(prefix)
        return {k: v for k, v in out.items() if v is not None or k == "default"}

    def names(self, prefix: str = "") -> list[str]:
        return [self.flag] if self.positional else [f"--{prefix}{self.flag}"]

    def add_to(self, parser, prefix: str = ""):
        """Register on an argparse parser (or pytest's option group, ``addoption``); the action is tagged
        with its row, so a test can tell that every option came from this table."""
        add = getattr(parser, "addoption", None) or parser.add_argument
        action = add(*self.names(prefix), **self.kwargs(prefix))
        if action is not None:
            action.lesson_claims_option = self
        return action


_POSITIVE = (("0", "expected a positive integer, got 0"), ("abc", "expected a positive integer, got 'abc'"))
_DIR = "DIR"

# The pytest plugin's options (``--claims-<flag>``); explicit values override the profile's.
PYTEST = (
    Option("profile", "a bundle of settings (every option of the suite starts with --claims-): default (30 seeds, "
           "looks up to 1000 for undecided claims), quick (30 seeds, no further looks), thorough (first look at 100 "
           "seeds); explicit options override it", default="default", choices=PROFILE_NAMES, metavar="NAME",
           bad=(("nope", "invalid choice: 'nope'"),)),
    Option("seeds", "seeds per experiment (seeds 0..N-1; default 30, the lesson's n_repeats); at most what this "
           "machine's memory holds (the controller keeps every seed's learning curves of all configurations to "
           "write results.json; harness/bad_input.py)", type=positive_int, metavar="N",
           bad=_POSITIVE + (("10000000", "too many seeds for this machine"),)),
    Option("max-seeds", "the sequential design's last look: a claim still undecided at --claims-seeds is decided "
           "again at 100, 300 and 1000 seeds (those <= N) until decided; default 1000 with the batched engine, "
           "--claims-seeds (no further looks) with --claims-engine=keras; equal to --claims-seeds turns looks off",
           type=positive_int, metavar="N", bad=_POSITIVE),
    Option("report-dir", f"where index.html, results.json and the figures go (default: {paths.REPORT_DIR})",
           default=paths.REPORT_DIR, metavar=_DIR, bad=(("/proc/zz", "not writable"),)),
    Option("fresh", "ignore the run store: retrain everything this run needs", action="store_true"),
    Option("engine", "batched: all seeds as one TF program, checked in every run against this environment's "
           "certificate of Keras references (default); keras: the lesson's literal Sequential + fit, one model per "
           "seed (no certificate needed)", default="batched", choices=("batched", "keras"),
           bad=(("foo", "invalid choice: 'foo'"),)),
    Option("batch-order", "lesson: a fresh permutation of the training set every epoch, as the lesson's unseeded fit "
           "draws, seeded by the suite (default); replayed: the one permutation seeded Keras 3's fit(shuffle=True) "
           "replays every epoch (a named variant, Keras 3 only)", default="lesson", choices=("lesson", "replayed"),
           bad=(("shuffled", "invalid choice: 'shuffled'"),)),
    Option("store-dir", f"the run store (default: {paths.STORE_DIR})", default=paths.STORE_DIR, metavar=_DIR,
           bad=(("/proc/zz/store", "not writable"),)),
    Option("certificate-dir", "where engine certificates are looked up, <environment fingerprint>.json (default: "
           f"{paths.CERTIFICATE_DIR}; make one with `python -m harness certify`)", default=paths.CERTIFICATE_DIR,
           metavar=_DIR, bad=(("{tmp}/file", "is a file, not a directory"),)),
    Option("baseline", "a summary or results.json of an earlier run (reports/baselines/*.json): each claim's "
           "deciding metric is compared with it and a drift beyond tolerance, or a changed verdict, fails the claim",
           metavar="FILE", bad=(("{tmp}/missing.json", "cannot read"), ("{tmp}", "is a directory"))),
    Option("familywise", "also label every test under Holm's correction across the run, so that the chance that any "
           "decided verdict is wrong is at most ALPHA (in (0, 0.5), e.g. 0.05); shown beside each test's own label "
           "in the report and the terminal; re-decides the same runs, trains nothing", type=familywise_alpha,
           metavar="ALPHA", bad=(("0.5", "expected a family-wise alpha in (0, 0.5), got 0.5"),
                                 ("often", "expected a family-wise alpha in (0, 0.5), got 'often'"))),
    Option("history-dir", "where each run saves its summary as <environment fingerprint>.json (default: "
           "<claims-report-dir>/history), the input of `python -m harness compare`", metavar=_DIR,
           bad=(("/proc/y", "not writable"),)),
)

# Rows the commands share (each command takes what it needs, narrowing default and help with ``but``).
STORE_DIR = Option("store-dir", f"the run store (default: {paths.STORE_DIR})", default=Path(paths.STORE_DIR),
                   type=Path, metavar=_DIR, bad=(("{tmp}/file", "not writable"),))
CERTIFICATE_DIR = Option("certificate-dir", "where this environment's certificate is looked up (default "
                         f"{paths.CERTIFICATE_DIR})", default=Path(paths.CERTIFICATE_DIR), type=Path, metavar=_DIR,
                         bad=(("{tmp}/file", "is a file"),))
OUT_DIR = Option("out-dir", "where the output is written", type=Path, metavar=_DIR,
                 bad=(("/proc/zz", "not writable"),))
OUT = Option("out", "where the table goes", type=Path, metavar="FILE",
             bad=(("/proc/zz/out.json", "not writable"), ("{tmp}", "is a directory")))
WORKERS = Option("workers", "processes side by side (default: one per CPU core)", type=positive_int, metavar="N",
                 bad=_POSITIVE)
ONLY = Option("only", "only these", nargs="+", metavar="NAME")
RESULTS = Option("results", f"the results file of a run (default {paths.RESULTS_FILE})", nargs="?",
                 default=Path(paths.RESULTS_FILE), type=Path, positional=True,
                 bad=(("{tmp}/missing.json", "cannot read"),))


def out_file(default: str, what: str) -> Option:
    """A command's ``--out``: ``what`` it writes, where by default; checked before any work."""
    return OUT.but(default=Path(default), help=f"{what} (default {default}; checked before any work)")


def find(flag: str, table=PYTEST) -> Option:
    return next(o for o in table if o.flag == flag)
