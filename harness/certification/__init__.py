"""The engine certificates: the Keras references, the window checks, certify and transfer, the sweeps'
reduced certificate and the mutant driver."""
# Provenance lives in harness.training (storage and certification both import it, downward).  The sweep
# certificate digests sweep_check.py's text with its imports' paths dropped but their names kept, so its
# one line `from harness.certification import provenance, windows` stays as it is and finds the module here.
from harness.training import provenance

__all__ = ["provenance"]
