"""Every claim of the lesson as a pytest test: the specs live in plain modules (claims/*.py, collected by
:func:`harness.all_claims`); this file only parametrizes them, as scikit-learn's ``parametrize_with_checks``
does over the checks of its library.  ``-k CLAIM_ID`` selects claims."""
from __future__ import annotations

from harness import all_claims
from harness.pytest_plugin import parametrize_with_claims


@parametrize_with_claims(all_claims())
def test_claim(claim, decide_claim):
    decide_claim(claim)
