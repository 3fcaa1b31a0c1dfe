"""``python -m harness``: the suite's maintainer commands (:mod:`harness.commands`)."""
import sys

from harness.commands import main

if __name__ == "__main__":
    sys.exit(main())
