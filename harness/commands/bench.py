"""``bench``: the keras and batched engines timed side by side (and the probes, the sweep, the cold suite)."""
from __future__ import annotations


from harness import options
from harness.bad_input import CONFIG_BYTES_PER_SEED, check_known, check_out_file, check_seed_count

NAME = "bench"
HELP = "time the keras and batched engines side by side"
_ONE = "one configuration's training (all its seeds at once)"


def add_arguments(parser) -> None:
    options.Option("seeds", "seeds per configuration for the Keras engine", default=3, type=options.positive_int,
                   metavar="N", bad=options.WORKERS.bad).add_to(parser)
    options.Option("batched-seeds", "batched seed counts timed (default 30 100 300 1000); each at most what this "
                   "machine's memory holds (harness/bad_input.py)", default=[30, 100, 300, 1000],
                   type=options.positive_int, nargs="+", metavar="N",
                   bad=(("10000000", "too many seeds"),)).add_to(parser)
    options.Option("configs", "experiment names (default: all)", nargs="*", metavar="NAME",
                   bad=(("nope", "unknown configuration(s)"),)).add_to(parser)
    options.Option("scaling-configs", "time every --batched-seeds count only for these (default: all "
                   "configurations)", nargs="*", metavar="NAME",
                   bad=(("nope", "unknown configuration(s)"),)).add_to(parser)
    options.Option("probes", "instead: the batched engine with and without the probes inside training "
                   "(harness.training.inside), side by side, at the first --batched-seeds count",
                   action="store_true").add_to(parser)
    options.Option("sweep", "instead: every depth-sweep point trained with its probes at the first --batched-seeds "
                   "count, in this one process (the thorough profile's training)", action="store_true").add_to(parser)
    options.Option("cold-suite", "instead: time the README's first line in a fresh clone of HEAD "
                   "(cold_suite_seconds)", action="store_true").add_to(parser)
    options.out_file("reports/bench.json", "where the table goes").add_to(parser)


def check(args) -> None:
    from harness.training import experiments  # names only: no TensorFlow

    check_out_file("--out", args.out)
    for option, names in (("--configs", args.configs), ("--scaling-configs", args.scaling_configs)):
        check_known(option, names, list(experiments.EXPERIMENTS), "configuration(s)")
    if not args.cold_suite:
        check_seed_count("--seeds", args.seeds, CONFIG_BYTES_PER_SEED, _ONE)
        for n in args.batched_seeds:
            check_seed_count("--batched-seeds", n, CONFIG_BYTES_PER_SEED, _ONE)


def run(args) -> int:
    from harness.maintainer.bench import run_bench

    return run_bench(args)
