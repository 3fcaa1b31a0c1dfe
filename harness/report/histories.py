"""The per-epoch runs of the sidecar (plain dicts of :class:`harness.training.records.RunRecord`) as the
learning curves of one experiment, drawn once however many claims show them."""
from __future__ import annotations

from harness.report import figures
from harness.results.model import ExperimentRun


class LearningCurves:
    """``runs``: every run of the results.  Where an experiment was run by more than one engine (mixing them
    would blur the curves), the curves show the one its ``experiments`` entry names, else the run's
    ``engine``.  ``note``: why there are no runs, if there are none."""

    def __init__(self, runs: list[dict], experiments: dict[str, ExperimentRun], engine: str | None,
                 note: str | None = None):
        self.by_experiment: dict[str, list[dict]] = {}
        for r in runs:
            self.by_experiment.setdefault(r["experiment"], []).append(r)
        self.experiments = experiments
        self.engine = engine
        self.note = note
        self._drawn: dict[tuple, bytes] = {}  # the same curves for several claims are drawn once

    def _runs(self, experiment: str) -> tuple[list[dict], str | None]:
        """One engine's runs of one experiment, by seed."""
        mine = self.by_experiment.get(experiment, [])
        engines = list(dict.fromkeys(r["engine"] for r in mine))
        chosen = engines[0] if engines else None
        if len(engines) > 1:
            preferred = [self.experiments[experiment].engine] if experiment in self.experiments else []
            chosen = next((e for e in [*preferred, self.engine] if e in engines), sorted(engines)[0])
            mine = [r for r in mine if r["engine"] == chosen]
        return sorted(mine, key=lambda r: r["seed"]), chosen

    def png(self, experiment: str, outcomes: list[bool] | None, metric: str,
            seeds: int | None) -> tuple[bytes | None, int]:
        """The claim's seeds of one experiment (seed s is ``outcomes[s]``), coloured by outcome, and how many
        seeds they are; (None, 0) where the results hold no runs of it."""
        runs, engine = self._runs(experiment)
        limit = len(outcomes) if outcomes is not None else seeds
        if limit is not None:
            runs = [r for r in runs if r["seed"] < limit]
        if not runs:
            return None, 0
        oc = [bool(outcomes[r["seed"]]) for r in runs] if outcomes is not None else None
        keys = figures.curve_keys(runs, metric)
        key = (experiment, tuple(oc) if oc is not None else None, tuple(keys), len(runs))
        if key not in self._drawn:
            title = f"{experiment}" + (f" ({engine} engine)" if engine else "") + f", {len(runs)} seeds"
            self._drawn[key] = figures.png(figures.curves_figure(runs, keys, title, oc))
        return self._drawn[key], len(runs)
