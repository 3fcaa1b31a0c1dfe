"""What the probes inside training record, per experiment, and how a claim reads them (no TensorFlow here:
claims and their collection import this; :mod:`harness.training.inside` measures)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SATURATED = 0.99  # |tanh| above this is "saturated": within 1% of its asymptote (the lesson: "saturate")
SATURATED_READING = 0.9
REFERENCE_CLIPNORM = 1.0  # the lesson's clipnorm, for "would clipping have intervened" on unclipped models
PER_LAYER = ("grad_norm", "batch_grad_norm", "weight_norm", "update_norm")
PER_HIDDEN = {"tanh": ("saturated", "saturated_90"), "relu": ("zeros", "dead_units")}
# The lesson: gradients "in the hundreds or even thousands, depending on the batch size used during training".
BATCH_SIZES = (8, 32, 128)
# Regression models, at the initial weights, per batch size of BATCH_SIZES: the first batch's gradient.
BY_BATCH_SIZE = ("batch_size_grad_max", "batch_size_grad_norm")
PER_STEP = ("first_nonfinite_step", "first_weight_norm", "peak_weight_norm", "first_grad_norm", "peak_grad_norm",
            "clip_changed_share")


def probe_epochs(exp) -> tuple[int, ...]:
    """The epochs (0 = the initial weights) at whose start the states are measured: every tenth of the run."""
    return tuple(sorted({0, exp.epochs, *(round(k * exp.epochs / 10) for k in range(1, 10))}))


def quantities(exp) -> tuple[str, ...]:
    """What :func:`train` records for ``exp``."""
    hidden = PER_HIDDEN.get(exp.activation, ())
    return PER_LAYER + hidden + (PER_STEP + BY_BATCH_SIZE if exp.dataset == "regression" else ())


# -- declared uses, checked when a claim is collected --------------------------------------------------
@dataclass(frozen=True)
class Use:
    """What a claim or reading reads of ``extra["inside"]``: a quantity, on the layers ``layers`` (indices
    into the quantity's layers, negative from the end; empty: every layer), on the experiments it names
    (empty: all of the claim's)."""

    quantity: str
    layers: tuple[int, ...] = ()
    experiments: tuple[str, ...] = ()

    def problem(self, exp) -> str | None:
        """Why ``exp`` cannot give this quantity, or None."""
        known = quantities(exp)
        if self.quantity not in known:
            if any(self.quantity in v for v in PER_HIDDEN.values()):
                kind = next(k for k, v in PER_HIDDEN.items() if self.quantity in v)
                return (f"{self.quantity!r} is measured on {kind} layers, and {exp.name} has {exp.activation} "
                        "hidden layers")
            if self.quantity in PER_STEP + BY_BATCH_SIZE:
                return f"{self.quantity!r} is counted on the regression models only, and {exp.name} is {exp.dataset}"
            return f"{self.quantity!r} is not a probe quantity (known: {', '.join(known)})"
        count = exp.hidden_layers + (1 if self.quantity in PER_LAYER else 0)
        if self.quantity in PER_STEP + BY_BATCH_SIZE:
            return None if not self.layers else f"{self.quantity!r} has no layers"
        past = [i for i in self.layers if not -count <= i < count]
        if past:
            what = "hidden layers" if self.quantity not in PER_LAYER else "layers (hidden and output)"
            return f"layer {past[0]} of {self.quantity!r} is past the depth of {exp.name} ({count} {what})"
        return None


# -- reading a record ---------------------------------------------------------------------------------
def series(r, quantity: str) -> np.ndarray:
    """(probe epochs, layers) of one run; KeyError naming the quantity where the run has none."""
    inside = r.extra.get("inside")
    if not inside or quantity not in inside:
        raise KeyError(f"{r.experiment} seed {r.seed}: no inside probe {quantity!r} on this run "
                       "(probes are recorded by the batched engine)")
    return np.asarray(inside[quantity], dtype=float)


def at(r, quantity: str, epoch: int) -> np.ndarray:
    """Per layer, the quantity at the probe epoch ``epoch`` (0: the initial weights; -1: the end)."""
    epochs = list(r.extra["inside"]["epochs"])
    i = len(epochs) - 1 if epoch == -1 else epochs.index(epoch)
    return series(r, quantity)[i]


def by_batch_size(r, quantity: str, batch_size: int) -> float:
    """A regression run's first-batch gradient statistic at the initial weights for one of BATCH_SIZES."""
    return float(r.extra["inside"][quantity][BATCH_SIZES.index(batch_size)])


def step(r, quantity: str) -> float:
    """A per-step counter of a regression run (NaN where the run has none: None is 'never')."""
    v = r.extra.get("inside", {}).get(quantity, math.nan) if quantity in PER_STEP else math.nan
    return math.nan if v is None else float(v)
