"""Every configuration a claim can name: the lesson's (:mod:`harness.training.experiments`) and the sweeps'
points (:mod:`harness.training.sweeps`)."""
from __future__ import annotations

from . import experiments, sweeps


def get(name: str):
    if name in sweeps.POINTS:
        return sweeps.POINTS[name]
    try:
        return experiments.get(name)
    except KeyError:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(experiments.EXPERIMENTS)} and the sweep "
                       f"points {min(sweeps.POINTS)}..{max(sweeps.POINTS)}") from None


def is_sweep_point(name: str) -> bool:
    return name in sweeps.POINTS
