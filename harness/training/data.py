"""The lesson's two datasets, split and scaled exactly as its code does it.

Every scaler is fit on the training half only (the lesson's own best practice:
"estimate the training dataset's mean and standard deviation and use these
variables to scale the train and test dataset").  The one exception is the
circles problem, whose MinMaxScaler the lesson fits on all 1000 rows *before*
the split (``x = scaler.fit_transform(x)``); we keep that, because it is what
the lesson's code does and the circles claims are about activations, not
leakage.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from sklearn.datasets import make_circles, make_regression
from sklearn.preprocessing import MinMaxScaler, StandardScaler

N_SAMPLES = 1000
N_TRAIN = 500  # "first 500 rows train, last 500 test" in every example

SCALERS = {
    "none": None,
    "standard": StandardScaler,
    "minmax": MinMaxScaler,  # the lesson's "normalize": MinMaxScaler() -> [0, 1]
}


@dataclass(frozen=True)
class Split:
    """Train and test halves as float32 arrays, plus what undoes target scaling."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    target_scaler: object | None  # fitted sklearn scaler, or None

    def inverse_target(self, y: np.ndarray) -> np.ndarray:
        """Map targets or predictions back to the original units (the lesson's exercise)."""
        y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
        if self.target_scaler is None:
            return y.ravel()
        return self.target_scaler.inverse_transform(y).ravel()


def raw_regression() -> tuple[np.ndarray, np.ndarray]:
    return make_regression(n_samples=N_SAMPLES, n_features=20, noise=0.1, random_state=1)


def raw_circles() -> tuple[np.ndarray, np.ndarray]:
    return make_circles(n_samples=N_SAMPLES, noise=0.1, random_state=1)


def _make_scaler(name: str):
    if name not in SCALERS:
        raise ValueError(f"unknown scaler {name!r}; choose one of {sorted(SCALERS)}")
    cls = SCALERS[name]
    return None if cls is None else cls()


@functools.lru_cache(maxsize=None)
def load(dataset: str, input_scaler: str = "none", target_scaler: str = "none") -> Split:
    """Build one split.  Cached: every experiment on the same data shares it."""
    if dataset == "regression":
        x, y = raw_regression()
        train_x, test_x = x[:N_TRAIN], x[N_TRAIN:]
        train_y, test_y = y[:N_TRAIN], y[N_TRAIN:]
        xs = _make_scaler(input_scaler)
        if xs is not None:
            xs.fit(train_x)
            train_x, test_x = xs.transform(train_x), xs.transform(test_x)
        ys = _make_scaler(target_scaler)
        # The lesson reshapes with len(train_y) for *both* halves; that only works
        # because the halves are equal.  We reshape each by its own length, and
        # always (Keras expands a 1-D target to (n, 1) itself, so the unscaled
        # runs see the same shapes as the lesson's 1-D y).
        train_y, test_y = train_y.reshape(-1, 1), test_y.reshape(-1, 1)
        if ys is not None:
            ys.fit(train_y)
            train_y, test_y = ys.transform(train_y), ys.transform(test_y)
    elif dataset == "circles":
        if input_scaler != "minmax_pm1" or target_scaler != "none":
            raise ValueError("circles is defined by the lesson with inputs in [-1, 1] only")
        x, y = raw_circles()
        x = MinMaxScaler(feature_range=(-1, 1)).fit_transform(x)
        train_x, test_x = x[:N_TRAIN], x[N_TRAIN:]
        train_y, test_y = y[:N_TRAIN].reshape(-1, 1), y[N_TRAIN:].reshape(-1, 1)
        ys = None
    else:
        raise ValueError(f"unknown dataset {dataset!r}")
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731 - Keras casts to float32 too
    return Split(f32(train_x), f32(train_y), f32(test_x), f32(test_y), ys)
