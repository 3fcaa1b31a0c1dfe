"""The report's figures, as PNG bytes.

Every function draws on a fixed-size figure with the Agg backend and returns
the PNG bytes, written without metadata that changes between runs (no
"Software" version, no timestamp), so the same input gives the same bytes.

NaN policy (as in :mod:`harness.stats`): a diverged seed is never silently
dropped.  Learning-curve quantiles rank a non-finite value as +inf, so an
epoch where most seeds are NaN has an infinite median and is not drawn, and
every subplot says how many seeds went non-finite; distributions count the
non-finite values in the tick label instead of plotting them.
"""
from __future__ import annotations

import functools
import io
import math
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

DPI = 100
_SEED_COLOR = "tab:blue"
_MEDIAN_COLOR = "black"

# The lesson's 2.1.2.3 labels, keyed by this suite's experiment names.
INPUT_SCALING_LABELS = {
    "reg_target_standard": "unscaled input\nstandardized output",
    "reg_input_minmax": "normalized input\nstandardized output",
    "reg_input_standard": "standardized input\nstandardized output",
}


def _png(fig) -> bytes:
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    finally:
        plt.close(fig)
    return buf.getvalue()


def _as_float(v) -> float:
    if v is None:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _quantile_inf(sorted_vals: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile of ascending values that may hold +inf.

    np.percentile would compute inf * 0 = NaN when interpolating next to an
    inf; here any interpolation that touches +inf is +inf.
    """
    n = sorted_vals.size
    if n == 0:
        return math.nan
    pos = (n - 1) * q
    lo, hi = int(math.floor(pos)), int(math.ceil(pos))
    a, b = sorted_vals[lo], sorted_vals[hi]
    if math.isinf(b) or math.isinf(a):
        return math.inf
    return float(a + (b - a) * (pos - lo))


def _series(runs: Sequence[Mapping], key: str) -> list[np.ndarray]:
    out = []
    for run in runs:
        hist = run.get("history") or {}
        if key in hist and hist[key] is not None:
            out.append(np.array([_as_float(v) for v in hist[key]], dtype=float))
    return out


def _epoch_bands(series: list[np.ndarray]):
    """Per-epoch (q25, median, q75), non-finite ranked as +inf.

    A seed whose history stops on a non-finite value (training terminated on
    NaN) stays non-finite for the later epochs; a seed that merely has fewer
    epochs is absent from them.
    """
    length = max((s.size for s in series), default=0)
    q25, med, q75 = (np.full(length, np.nan) for _ in range(3))
    for e in range(length):
        vals = []
        for s in series:
            if e < s.size:
                vals.append(s[e])
            elif s.size and not math.isfinite(s[-1]):
                vals.append(math.inf)
        if not vals:
            continue
        v = np.sort(np.where(np.isfinite(vals), vals, np.inf))
        q25[e], med[e], q75[e] = (_quantile_inf(v, q) for q in (0.25, 0.5, 0.75))
    return q25, med, q75


def _finite_or_nan(a: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(a), a, np.nan)


def _wants_log(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return bool(finite.size and (finite > 0).all() and finite.max() / finite.min() > 100.0)


def learning_curves(runs: Sequence[Mapping], keys: Sequence[str], title: str) -> bytes:
    """One subplot per history key: every seed, the median and the 25-75% band."""
    keys = list(keys)
    ncols = 2 if len(keys) > 1 else 1
    nrows = max(1, math.ceil(len(keys) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(11, 3.8 * nrows), squeeze=False)
    is_regression = not any("accuracy" in (r.get("history") or {}) for r in runs)
    for i, ax in enumerate(axes.ravel()):
        if i >= len(keys):
            ax.set_visible(False)
            continue
        key = keys[i]
        series = _series(runs, key)
        n = len(series)
        if n == 0:
            ax.set_title(f"{key}: no seed recorded it", fontsize=10)
            ax.set_axis_off()
            continue
        k = sum(1 for s in series if s.size and not np.isfinite(s).all())
        alpha = max(0.08, min(0.5, 3.0 / n))
        for s in series:
            epochs = np.arange(1, s.size + 1)
            ax.plot(epochs, _finite_or_nan(s), color=_SEED_COLOR, lw=0.6, alpha=alpha)
        q25, med, q75 = _epoch_bands(series)
        epochs = np.arange(1, med.size + 1)
        band = np.isfinite(q25) & np.isfinite(q75)
        if band.any():
            ax.fill_between(epochs, _finite_or_nan(q25), _finite_or_nan(q75), where=band,
                            color="tab:orange", alpha=0.3, lw=0, label="25-75%")
        ax.plot(epochs, _finite_or_nan(med), color=_MEDIAN_COLOR, lw=1.6, label="median")
        all_vals = np.concatenate(series) if series else np.array([])
        if is_regression and "loss" in key and _wants_log(all_vals):
            ax.set_yscale("log")
        if not np.isfinite(all_vals).any():
            ax.text(0.5, 0.5, "no finite value", transform=ax.transAxes, ha="center", va="center")
        ax.set_title(f"{key}: {k} of {n} seeds non-finite by the last epoch", fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(True, alpha=0.3)
        if band.any() or np.isfinite(med).any():
            ax.legend(loc="best", fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return _png(fig)


def _count_label(name: str, values: np.ndarray) -> str:
    n_nan = int(np.isnan(values).sum())
    n_inf = int(np.isinf(values).sum())
    parts = []
    if n_nan:
        parts.append(f"{n_nan} NaN")
    if n_inf:
        parts.append(f"{n_inf} inf")
    return name + (f"\n({', '.join(parts)})" if parts else "")


def metric_distribution(values_by_group: Mapping[str, Sequence[float]], metric: str, title: str) -> bytes:
    """Box plot per group with every finite seed as a jittered point."""
    groups = list(values_by_group.items())
    width = max(6.0, min(14.0, 1.8 * len(groups) + 2.0))
    fig, ax = plt.subplots(figsize=(width, 4.8))
    rng = np.random.default_rng(0)
    labels, all_finite = [], []
    for pos, (name, vals) in enumerate(groups, start=1):
        arr = np.array([_as_float(v) for v in (vals or [])], dtype=float)
        finite = arr[np.isfinite(arr)]
        labels.append(_count_label(str(name), arr))
        if finite.size:
            ax.boxplot([finite], positions=[pos], widths=0.5, showfliers=False,
                       medianprops={"color": _MEDIAN_COLOR})
            jitter = rng.uniform(-0.12, 0.12, size=finite.size)
            ax.scatter(pos + jitter, finite, s=10, color=_SEED_COLOR, alpha=0.6, zorder=3)
            all_finite.append(finite)
        else:
            ax.text(pos, 0.5, "no finite\nvalue", transform=ax.get_xaxis_transform(),
                    ha="center", va="center", fontsize=8)
    ax.set_xticks(range(1, len(groups) + 1))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_xlim(0.4, len(groups) + 0.6)
    if all_finite and _wants_log(np.concatenate(all_finite)):
        ax.set_yscale("log")
    ax.set_ylabel(metric)
    ax.set_title(title, fontsize=11)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


@functools.lru_cache(maxsize=1)
def regression_histograms() -> bytes:
    """The lesson's 2.1.2 figure: histograms of features 0 and 1 and of the target."""
    from .data import raw_regression

    x, y = raw_regression()
    fig, ax = plt.subplots(3, 1, figsize=(10, 6))
    ax[0].hist(x[:, 0])
    ax[0].set_ylabel("Feature 0")
    ax[1].hist(x[:, 1])
    ax[1].set_ylabel("Feature 1")
    ax[2].hist(y)
    ax[2].set_ylabel("Output")
    fig.suptitle("make_regression(n_samples=1000, n_features=20, noise=0.1, random_state=1)", fontsize=10)
    fig.tight_layout()
    return _png(fig)


@functools.lru_cache(maxsize=1)
def circles_scatter() -> bytes:
    """The lesson's 2.2.3 figure: the circles dataset colored by class."""
    from .data import raw_circles

    x, y = raw_circles()
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for i in range(2):
        ix = np.where(y == i)
        ax.scatter(x[ix, 0], x[ix, 1], label=str(i), s=12)
    ax.legend()
    ax.set_title("make_circles(n_samples=1000, noise=0.1, random_state=1)", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def input_scaling_boxplot(values_by_group: Mapping[str, Sequence[float]]) -> bytes:
    """The lesson's 2.1.2.3 box plot of test MSE, with the lesson's labels."""
    # the lesson's order (unscaled, normalized, standardized), then anything else
    names = [k for k in INPUT_SCALING_LABELS if k in values_by_group]
    names += [k for k in values_by_group if k not in INPUT_SCALING_LABELS]
    relabeled = {INPUT_SCALING_LABELS.get(k, k): values_by_group[k] for k in names}
    return metric_distribution(relabeled, "test MSE", "test MSE by input scaling (lesson 2.1.2.3)")
