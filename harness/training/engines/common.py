"""What both engines compute the same way from their raw outputs."""
from __future__ import annotations

import math

import numpy as np

from .. import data
from ..experiments import Experiment


def split_for(exp: Experiment) -> data.Split:
    return data.load(exp.dataset, exp.input_scaler, exp.target_scaler)


def final_metrics(exp: Experiment, split: data.Split, train_eval: dict, test_eval: dict,
                  test_pred: np.ndarray) -> list[dict]:
    """Per seed: final train/test loss (and accuracy), plus, for regression, the
    test RMSE in the target's original units (the lesson's exercise: invert the
    target transform on predictions and targets, then take the RMSE).

    ``train_eval``/``test_eval`` map metric name -> scalar or per-seed array;
    ``test_pred`` is (seeds, n_test).
    """
    n_seeds = test_pred.shape[0]
    out = []
    for s in range(n_seeds):
        m = {}
        for prefix, ev in (("train", train_eval), ("test", test_eval)):
            for name, v in ev.items():
                m[f"{prefix}_{name}"] = float(np.asarray(v).reshape(-1)[s if np.ndim(v) else 0])
        if not exp.classification:
            y_true = split.inverse_target(split.test_y)
            y_pred = split.inverse_target(test_pred[s].astype(np.float64))
            with np.errstate(over="ignore", invalid="ignore"):
                rmse = float(np.sqrt(np.mean((y_pred - y_true) ** 2)))
            m["test_rmse_original_units"] = rmse if not math.isnan(rmse) else math.nan
        out.append(m)
    return out
