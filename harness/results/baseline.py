"""Result summaries: the small JSON kept per environment (history, baselines).

A summary is what a later run or another TensorFlow version is compared with:
the environment, and per claim its verdict, test, effect and the per-seed
values of its deciding metric (no learning curves, so a file stays small
enough to commit).  Every run writes one to ``<history-dir>/<environment
fingerprint>.json`` (like pytest-benchmark's autosave); ``reports/baselines/``
holds the committed ones; ``--claims-baseline FILE`` and ``python -m harness compare``
read them (a full ``results.json`` is accepted too).
"""
from __future__ import annotations

from pathlib import Path

from harness.training import records
from harness.version import __version__

SUMMARY_SCHEMA = "lesson-claims/summary/1"
_ENV_KEYS = ("fingerprint", "python", "platform", "tensorflow", "keras", "keras_major", "legacy_keras", "numpy",
             "device", "engine", "batch_order", "seeds", "certificate", "wall_seconds", "suite_version",
             "code_digest")
_CLAIM_KEYS = ("id", "section", "verdict", "at_threshold", "untestable", "counts", "sentence", "expected_verdict",
               "expected_label", "test", "statistic", "p_value", "effect", "seeds", "experiments", "metric",
               "metric_samples")


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
        "rules": results.get("rules"),  # harness.claims.RULES: verdicts compare only under the same rules
        "environment": {k: env.get(k) for k in _ENV_KEYS},
        "claims": [{k: c.get(k) for k in _CLAIM_KEYS} for c in results["claims"]],
    }


def write_summary(results: dict, directory: Path) -> Path:
    from harness.storage.store import atomic_write_text

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
    from harness.results import READABLE, ResultsError, from_dict

    if data["schema"] not in (SUMMARY_SCHEMA, *READABLE):
        raise SummaryError(f"{path}: schema {data['schema']!r}; this suite reads {SUMMARY_SCHEMA!r} "
                           f"and {', '.join(READABLE)}")
    if data["schema"] in READABLE:
        try:  # a results file is read through the results model, which names the field at fault
            from_dict(data, str(path))
        except ResultsError as exc:
            raise SummaryError(str(exc)) from None
    if data.get("suite_version") not in SAME_CLAIMS_AS:
        raise SummaryError(f"{path}: written by lesson-claims {data.get('suite_version')}, this is {__version__}: "
                           "its claims may be defined differently; re-run that environment to compare")
    try:
        summary = summarize(data) if data["schema"] in READABLE else data
        if not isinstance(summary["claims"], list):
            raise TypeError(f"claims is {type(summary['claims']).__name__}, not a list")
        if not summary["environment"].get("fingerprint"):
            raise KeyError("environment.fingerprint")
    except (KeyError, TypeError, AttributeError) as exc:
        what = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
        raise SummaryError(f"{path}: incomplete summary ({what}); {_FIX}") from None
    for c in summary["claims"]:
        _check_claim(path, c, samples=True)
    summary["path"] = str(path)
    return summary


def check_batch_order(summary: dict, batch_order: str) -> None:
    """SummaryError unless ``summary`` was decided on ``batch_order`` (drift across batch orders is
    the change of training, not a regression).  Summaries from before 2026-11-30 name none: they
    were trained on Keras' own seeded order (replayed on Keras 3)."""
    theirs = summary["environment"].get("batch_order")
    if theirs != batch_order:
        raise SummaryError(f"{summary.get('path')}: decided on the "
                           + (f"{theirs!r} batch order" if theirs else "seeded Keras order of before 2026-11-30 "
                              "(one permutation replayed every epoch on Keras 3)")
                           + f", this run trains {batch_order!r}: compare runs of the same batch order "
                             f"(--claims-batch-order={theirs or 'replayed'}, or a summary of a {batch_order!r} run)")


_FIX = "use a file a run wrote (<report-dir>/history/*.json, reports/baselines/*.json or a results.json)"


def _is_value(v) -> bool:
    """A per-seed metric value: a number (NaN and inf included: a diverged run), or None."""
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _check_claim(path, c, samples: bool) -> None:
    """SummaryError naming the file, the claim and the field that cannot be used."""
    from harness.claims import Verdict

    if not isinstance(c, dict):
        raise SummaryError(f"{path}: a claim is {type(c).__name__}, not an object; {_FIX}")
    cid = c.get("id")
    if not isinstance(cid, str) or not cid:
        raise SummaryError(f"{path}: a claim has no id; {_FIX}")
    verdicts = [v.value for v in Verdict]
    if c.get("verdict") not in verdicts:
        raise SummaryError(f"{path}: claim {cid!r}: verdict {c.get('verdict')!r} is not one of "
                           f"{', '.join(verdicts)}; {_FIX}")
    if not samples:
        return
    ms = c.get("metric_samples")
    if not isinstance(ms, dict):
        raise SummaryError(f"{path}: claim {cid!r}: metric_samples is {'missing' if ms is None else type(ms).__name__}, "
                           f"not an object of per-seed values by experiment; {_FIX}")
    if not ms:
        raise SummaryError(f"{path}: claim {cid!r}: metric_samples is empty (no experiment's per-seed values to "
                           f"compare with); {_FIX}")
    for exp, values in ms.items():
        field = f"metric_samples[{exp!r}]"
        if not isinstance(values, list):
            raise SummaryError(f"{path}: claim {cid!r}: {field} is {type(values).__name__}, not a list of "
                               f"per-seed values; {_FIX}")
        if not values:
            raise SummaryError(f"{path}: claim {cid!r}: {field} is empty (no seeds to compare with); {_FIX}")
        bad = [v for v in values if not _is_value(v)]
        if bad:
            raise SummaryError(f"{path}: claim {cid!r}: {field} holds {bad[0]!r}, not a number (per-seed values are "
                               f"numbers; NaN/inf as \"NaN\", \"Infinity\"); {_FIX}")


def check_results(path) -> dict:
    """A results.json that ``python -m harness report`` can render, or SummaryError naming the
    file and what is missing (not a results file, no claims, a claim without id or verdict)."""
    path = Path(path)
    try:
        data = records.read_schema_file(path)
    except ValueError as exc:
        raise SummaryError(str(exc)) from None
    from harness.results import READABLE, ResultsError, from_dict

    if data["schema"] not in READABLE:
        raise SummaryError(f"{path}: schema {data['schema']!r} is not a results file ({', '.join(READABLE)}); give the "
                           "results.json a run wrote into its --claims-report-dir (summaries go to `python -m harness "
                           "compare`)")
    claims = data.get("claims")
    if not isinstance(claims, list) or not claims:
        raise SummaryError(f"{path}: no claims ('claims' is {claims!r}): nothing to report; give the results.json "
                           "of a run that decided claims (pytest claims)")
    for c in claims:
        _check_claim(path, c, samples=False)
    try:
        from_dict(data, str(path))  # and everything else the results model checks
    except ResultsError as exc:
        raise SummaryError(str(exc)) from None
    return data


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
