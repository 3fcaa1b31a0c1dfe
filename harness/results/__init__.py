"""The results of a run, typed (:mod:`.model`), and their one codec (:mod:`.codec`): write and read."""
from harness.results.codec import (READABLE, RESULTS_NAME, RUNS_NAME, ResultsError, as_type, decode, decode_claim,
                                   encode, from_data, load, read, to_data, write)
from harness.results.model import *  # noqa: F401,F403
from harness.results.model import __all__ as _model_all

__all__ = ["READABLE", "RESULTS_NAME", "RUNS_NAME", "ResultsError", "as_type", "decode", "decode_claim", "encode",
           "from_data", "load", "read", "to_data", "write", *_model_all]
