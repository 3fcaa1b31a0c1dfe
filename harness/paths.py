"""The folders the suite reads and writes by default, relative to where it runs: named once, used by the options,
the settings and the tools that look things up there."""
from __future__ import annotations

STORE_DIR = ".store"  # the run store: every trained run, keyed by the code that trained it
REPORT_DIR = "reports"  # index.html, results.json, the figures; history/ below it
CERTIFICATE_DIR = "reports/certificates"  # engine certificates, <environment fingerprint>.json or .npz
RESULTS_FILE = "reports/results.json"  # a run's results, beside its page
