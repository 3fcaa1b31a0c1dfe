"""Result summaries: the small JSON kept per environment (history, baselines).

A summary is what a later run or another TensorFlow version is compared with:
the environment, and per claim its verdict, test, effect and the per-seed
values of its deciding metric (no learning curves, so a file stays small
enough to commit).  Every run writes one to ``<history-dir>/<environment
fingerprint>.json`` (like pytest-benchmark's autosave); ``reports/baselines/``
holds the committed ones; ``--claims-baseline FILE`` and ``python -m harness compare``
read them (a full ``results.json`` is accepted too).  Since results schema 3 a summary is a
:class:`~harness.results.model.Results` with less in it, written and read by the same codec.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from harness.results import codec, model
from harness.storage.store import host as store_host
from harness.training import records
from harness.version import __version__

SUMMARY_1 = "lesson-claims/summary/1"  # before schema 3 a summary had a format of its own


# Suite versions whose claims, rules, metrics and experiments are this version's:
# 0.3.0 changed how the batched engine is verified (certificates), not what a claim means.
SAME_CLAIMS_AS = ("0.2.0", "0.3.0")
assert __version__ in SAME_CLAIMS_AS

# What a summary keeps of each claim: enough to compare verdicts, effects and per-seed metrics.
# Since 2026-12-02 also each look's decision (seeds, counts, p-values both ways, verdict) and the plan of looks, so
# the path a verdict took can be audited and re-decided from the summary (harness.results.redecide), and the
# readings, power and family-wise labels shown beside it.
_CLAIM_FIELDS = ("id", "section", "verdict", "at_threshold", "untestable", "counts", "sentence", "expectation",
                 "test", "statistic", "p_value", "effect", "seeds", "experiments", "metric", "metric_samples",
                 "looks", "plan", "p_supported", "p_refuted", "readings", "uncontested", "power", "zone_factor")


class SummaryError(ValueError):
    """A file that cannot be used as a summary; the message names the file."""


def summarize(results: model.Results) -> model.Results:
    """The results without what only the report needs (per-seed outcomes, the certificate, runs): a Results
    of the same schema, read by the same codec."""
    keep = {f: None for f in _CLAIM_FIELDS}
    claims = tuple(model.ClaimResult(**{f: getattr(c, f) for f in keep}) for c in results.claims)
    return model.Results(claims=claims, environment=results.environment, suite_version=results.suite_version,
                         rules=results.rules, design=results.design, familywise=results.familywise,
                         interrupted=results.interrupted)


def stage_summary(results: model.Results, directory: Path) -> tuple[Path, Path]:
    """(a temporary file in ``directory`` holding the summary, the path it is to be renamed to): written now,
    moved with the rest of its report (harness.storage.unit)."""
    summary = summarize(results)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{summary.environment.fingerprint}.json"
    # the store's temporary-file names, so that a killed run's leftover is cleaned like any other
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.~{os.getpid()}@{store_host()}~", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write((codec.encode(summary, indent=1, sort_keys=True) + "\n").encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp), directory / name


def write_summary(results: model.Results, directory: Path) -> Path:
    """The summary written alone (a run writes it with its report: :func:`stage_summary`)."""
    staged, path = stage_summary(results, directory)
    os.replace(staged, path)
    return path


def load(path: Path) -> model.Results:
    """A summary from a summary file, a results.json or a matrix cell's record (``reports/cells/<env>.json``:
    a baseline can be the neighbouring cell); SummaryError names the file when it is unreadable, truncated,
    of a wrong type in some field, from another suite version, a cell not decided, or not ours."""
    path = Path(path)
    try:
        data = records.read_schema_file(path)
    except ValueError as exc:
        raise SummaryError(str(exc)) from None
    if data["schema"] == model.CELL_SCHEMA:
        try:
            cell = codec.as_type(model.Cell, data, str(path))
        except (codec.ResultsError, ValueError) as exc:
            raise SummaryError(f"{exc}; {_FIX}") from None
        if cell.summary is None:
            raise SummaryError(f"{path}: cell {cell.env} was not decided ({cell.status}: {cell.reason[:200]}); "
                               "nothing to compare with")
        data = codec.to_data(cell.summary)
    if data["schema"] not in codec.READABLE:
        raise SummaryError(f"{path}: schema {data['schema']!r}; this suite reads {', '.join(codec.READABLE)}")
    if data.get("suite_version") not in SAME_CLAIMS_AS:
        raise SummaryError(f"{path}: written by lesson-claims {data.get('suite_version')}, this is {__version__}: "
                           "its claims may be defined differently; re-run that environment to compare")
    try:
        results, _ = codec.from_data(data, str(path))
    except codec.ResultsError as exc:
        raise SummaryError(f"{exc}; {_FIX}") from None
    for c in results.claims:
        _check_samples(path, c)
    return summarize(results)


def check_complete(path, summary: model.Results) -> None:
    """SummaryError unless ``summary`` is of a complete run (a baseline is never a partial one)."""
    if summary.interrupted:
        raise SummaryError(f"{path}: a partial run ({summary.interrupted}); give the summary of a complete run")


def check_batch_order(path, summary: model.Results, batch_order: str) -> None:
    """SummaryError unless ``summary`` was decided on ``batch_order`` (drift across batch orders is
    the change of training, not a regression).  Summaries from before 2026-11-30 name none: they
    were trained on Keras' own seeded order (replayed on Keras 3)."""
    theirs = summary.environment.batch_order
    if theirs != batch_order:
        raise SummaryError(f"{path}: decided on the "
                           + (f"{theirs!r} batch order" if theirs else "seeded Keras order of before 2026-11-30 "
                              "(one permutation replayed every epoch on Keras 3)")
                           + f", this run trains {batch_order!r}: compare runs of the same batch order "
                             f"(--claims-batch-order={theirs or 'replayed'}, or a summary of a {batch_order!r} run)")


_FIX = ("use a file a run wrote (<report-dir>/history/*.json, reports/baselines/*.json, reports/cells/*.json or a "
        "results.json)")


def _check_samples(path, c: model.ClaimResult) -> None:
    """SummaryError naming the file and the claim whose per-seed values cannot be compared."""
    if not c.metric_samples:
        raise SummaryError(f"{path}: claim {c.id!r}: metric_samples is empty (no experiment's per-seed values to "
                           f"compare with); {_FIX}")
    for exp, values in c.metric_samples.items():
        if not values:
            raise SummaryError(f"{path}: claim {c.id!r}: metric_samples[{exp!r}] is empty (no seeds to compare "
                               f"with); {_FIX}")


def label(summary: model.Results) -> str:
    """A short column name: TF version, Keras version (legacy flag), device."""
    env = summary.environment
    legacy = " tf-keras" if env.legacy_keras and env.keras_major == 2 else ""
    device = "gpu" if env.device.startswith("gpu") else "cpu"
    return f"TF {env.tensorflow} / Keras {env.keras}{legacy} / {device}"


def sort_key(summary: model.Results):
    env = summary.environment

    def version(v) -> tuple:
        out = []
        for part in str(v or "0").split("."):
            digits = "".join(ch for ch in part if ch.isdigit())
            out.append(int(digits) if digits else 0)
        return tuple(out)

    return (version(env.tensorflow), int(env.keras_major or 0), env.device, env.fingerprint)
