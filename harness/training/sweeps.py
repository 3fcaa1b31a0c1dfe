"""The dose-response sweeps: the lesson's circles models over depth, as data.

The lesson trains ReLU + He at 5, 15 and 20 hidden layers and tanh at 1 and 5, and says of the points between:
"increasing the number of layers results in slower learning to a point at about 20 layers where the model is no
longer capable of learning the problem".  A sweep point is the lesson's configuration with another depth and
nothing else changed (:func:`dataclasses.replace` of the lesson's own experiment), so a point at the lesson's own
depth is the same training (the same fingerprint, the same stored runs) as the suite's configuration.
"""
from __future__ import annotations

import dataclasses

from .experiments import EXPERIMENTS, Experiment

RELU_DEPTHS = tuple(range(1, 26))
TANH_DEPTHS = tuple(range(1, 9))
# The lesson's own points on each curve, marked on its figure.
LESSON_RELU_DEPTHS = (5, 15, 20)
LESSON_TANH_DEPTHS = (1, 5)


def _point(base: str, prefix: str, depth: int) -> Experiment:
    exp = EXPERIMENTS[base]
    return dataclasses.replace(exp, name=f"{prefix}_{depth:02d}", hidden_layers=depth,
                               description=f"{depth} {exp.activation} hidden layer{'s' if depth > 1 else ''}, "
                                           f"otherwise {base} (the depth sweep)")


# ReLU + He as circles_relu5/15/20; tanh with the author's fresh RandomUniform(0, 1) draw per layer.
DEPTH = {
    "relu": {d: _point("circles_relu5", "depth_relu", d) for d in RELU_DEPTHS},
    "tanh": {d: _point("circles_tanh5_fresh", "depth_tanh", d) for d in TANH_DEPTHS},
}
POINTS: dict[str, Experiment] = {e.name: e for curve in DEPTH.values() for e in curve.values()}


def names(activation: str) -> tuple[str, ...]:
    return tuple(e.name for e in DEPTH[activation].values())


def same_as_suite(name: str) -> str | None:
    """The suite's configuration that trains the same as sweep point ``name`` (same fingerprint), or None."""
    fp = POINTS[name].fingerprint
    return next((n for n, e in EXPERIMENTS.items() if e.fingerprint == fp), None)
