"""``mutants``: semantic mutants of the batched engine run against the certificate."""
from __future__ import annotations


from harness import options
from harness.bad_input import BadInput, check_out_file

NAME = "mutants"
HELP = "run semantic mutants of the batched engine against the certificate; exit 1 if any survives"


def add_arguments(parser) -> None:
    options.CERTIFICATE_DIR.add_to(parser)
    options.ONLY.but(metavar="MUTANT", help="run only these mutants",
                     bad=(("nope", "unknown mutant"),)).add_to(parser)
    options.Option("every-configuration", "check every configuration, not only until the first kill (how many "
                   "catch each mutant)", action="store_true").add_to(parser)
    options.out_file("reports/mutants.json", "the mutants table, read by the report").add_to(parser)


def check(args) -> None:
    check_out_file("--out", args.out)
    if args.certificate_dir.exists() and not args.certificate_dir.is_dir():
        raise BadInput(f"--certificate-dir {args.certificate_dir}: is a file, not a directory; give the directory "
                       "that holds <environment fingerprint>.json (default reports/certificates)")


def run(args) -> int:
    from harness.certification.mutant_check import run_mutants  # local: numpy only for `mutants`

    return run_mutants(args)
