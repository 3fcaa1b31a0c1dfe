"""Result summaries: the small JSON kept per environment (history, baselines).

A summary is what a later run or another TensorFlow version is compared with:
the environment, and per claim its verdict, test, effect and the per-seed
values of its deciding metric (no learning curves, so a file stays small
enough to commit).  Every run writes one to ``<history-dir>/<environment
fingerprint>.json`` (like pytest-benchmark's autosave); ``reports/baselines/``
holds the committed ones; ``--baseline FILE`` and ``python -m harness compare``
read them (a full ``results.json`` is accepted too).
"""
from __future__ import annotations

from pathlib import Path

from . import RESULTS_SCHEMA, __version__, records

SUMMARY_SCHEMA = "lesson-claims/summary/1"
_ENV_KEYS = ("fingerprint", "python", "platform", "tensorflow", "keras", "keras_major", "legacy_keras", "numpy",
             "device", "engine", "seeds", "certificate", "wall_seconds", "suite_version")
_CLAIM_KEYS = ("id", "section", "verdict", "expected_verdict", "test", "statistic", "p_value", "effect", "seeds",
               "experiments", "metric", "metric_samples")


# Suite versions whose claims, rules, metrics and experiments are this version's:
# 0.3.0 changed how the batched engine is verified (certificates), not what a claim means.
SAME_CLAIMS_AS = ("0.2.0", "0.3.0")
assert __version__ in SAME_CLAIMS_AS


class SummaryError(ValueError):
    """A file that cannot be used as a summary; the message names the file."""


def summarize(results: dict) -> dict:
    env = results["environment"]
    return {
        "schema": SUMMARY_SCHEMA,
        "suite_version": results.get("suite_version"),
        "environment": {k: env.get(k) for k in _ENV_KEYS},
        "claims": [{k: c.get(k) for k in _CLAIM_KEYS} for c in results["claims"]],
    }


def write_summary(results: dict, directory: Path) -> Path:
    from .store import atomic_write_text

    summary = summarize(results)
    path = Path(directory) / f"{summary['environment']['fingerprint']}.json"
    atomic_write_text(path, records.dumps(summary, indent=1, sort_keys=True) + "\n")
    return path


def load(path: Path) -> dict:
    """A summary from a summary file or a results.json; SummaryError names the
    file when it is unreadable, truncated, from another suite version or not ours."""
    path = Path(path)
    try:
        data = records.read_schema_file(path)
    except ValueError as exc:
        raise SummaryError(str(exc)) from None
    if data["schema"] not in (SUMMARY_SCHEMA, RESULTS_SCHEMA):
        raise SummaryError(f"{path}: schema {data['schema']!r}; this suite reads {SUMMARY_SCHEMA!r} "
                           f"and {RESULTS_SCHEMA!r}")
    if data.get("suite_version") not in SAME_CLAIMS_AS:
        raise SummaryError(f"{path}: written by lesson-claims {data.get('suite_version')}, this is {__version__}: "
                           "its claims may be defined differently; re-run that environment to compare")
    try:
        summary = summarize(data) if data["schema"] == RESULTS_SCHEMA else data
        for c in summary["claims"]:
            if not isinstance(c.get("metric_samples"), dict) or not c.get("id") or not c.get("verdict"):
                raise KeyError(f"claim {c.get('id')!r} lacks id, verdict or metric_samples")
        if not summary["environment"].get("fingerprint"):
            raise KeyError("environment.fingerprint")
    except (KeyError, TypeError, AttributeError) as exc:
        raise SummaryError(f"{path}: incomplete summary ({exc})") from None
    summary["path"] = str(path)
    return summary


def label(summary: dict) -> str:
    """A short column name: TF version, Keras version (legacy flag), device."""
    env = summary["environment"]
    legacy = " tf-keras" if env.get("legacy_keras") and env.get("keras_major") == 2 else ""
    device = "gpu" if str(env.get("device", "cpu")).startswith("gpu") else "cpu"
    return f"TF {env.get('tensorflow')} / Keras {env.get('keras')}{legacy} / {device}"


def sort_key(summary: dict):
    env = summary["environment"]

    def version(v) -> tuple:
        out = []
        for part in str(v or "0").split("."):
            digits = "".join(ch for ch in part if ch.isdigit())
            out.append(int(digits) if digits else 0)
        return tuple(out)

    return (version(env.get("tensorflow")), int(env.get("keras_major") or 0), str(env.get("device")),
            env.get("fingerprint"))
