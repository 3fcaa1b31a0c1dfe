"""The report's "Inside training" section: the probes the mechanism claims read, and the depth sweep's curves.

Drawn from the runs sidecar (each run's ``extra["inside"]``, harness.training.inside): the per-layer gradient
norms of the deep tanh and deep ReLU models as epoch x layer heatmaps side by side, a table of what the probes
read in the runs that learned and in those that failed, and, where the sweep was run (the thorough profile),
the learned rate and the epoch reaching test accuracy 0.75 over depth with the lesson's own depths marked.
Every figure shows the values its axes name; a diverged run's NaN is counted, never drawn as a number.  Laid out
by ``templates/mechanisms.html``.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from harness.report.figure_files import Drawn
from harness.report.figures import png
from harness.statistics import stats
from harness.training import sweeps

HEATMAPS = (("circles_tanh5_fresh", "5 tanh layers (author's initializer)"), ("circles_relu5", "5 ReLU layers (He)"))
LEARNED = 0.75  # claims.common.LEARNED_ACCURACY: the report does not import the specs
GRADIENT_FIGURE = "inside_gradient_heatmaps.png"
DEPTH_FIGURE = "inside_depth_sweep.png"


def _by_experiment(runs: Sequence[Mapping]) -> dict[str, list[Mapping]]:
    """Runs with probes by experiment, each seed once (a sidecar of older code may hold a run twice: a sweep
    point at the lesson's own depth is the same training as the suite's configuration)."""
    out: dict[str, dict[int, Mapping]] = {}
    for r in runs:
        if (r.get("extra") or {}).get("inside"):
            out.setdefault(r["experiment"], {}).setdefault(r["seed"], r)
    return {e: list(by_seed.values()) for e, by_seed in out.items()}


def median_log_gradients(runs: Sequence[Mapping]) -> tuple[list[int], np.ndarray, int]:
    """(probe epochs, (epochs, layers) median over seeds of log10 of the full-set gradient norm, NaN seeds):
    a seed with any non-finite norm is left out of the median and counted."""
    epochs = list(runs[0]["extra"]["inside"]["epochs"])
    g = np.array([np.asarray(r["extra"]["inside"]["grad_norm"], dtype=float) for r in runs])
    finite = np.isfinite(g).all(axis=(1, 2))
    if not finite.any():
        return epochs, np.full(g.shape[1:], np.nan), int((~finite).sum())
    with np.errstate(divide="ignore"):  # a dead layer's gradient is exactly 0: log10 -inf, ranked lowest
        return epochs, np.median(np.log10(g[finite]), axis=0), int((~finite).sum())


def gradient_heatmaps_figure(by_exp: Mapping[str, Sequence[Mapping]]) -> Figure:
    panels = [(e, t) for e, t in HEATMAPS if e in by_exp]
    fig = Figure(figsize=(5.2 * len(panels), 4.6))
    grids = {e: median_log_gradients(by_exp[e]) for e, _ in panels}
    values = np.concatenate([g[1].ravel() for g in grids.values()])  # -inf (no gradient) is drawn blank
    values = values[np.isfinite(values)]
    vmin, vmax = (float(values.min()), float(values.max())) if values.size else (-1.0, 0.0)
    for i, (e, title) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        epochs, grid, bad = grids[e]
        im = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap="viridis", vmin=vmin, vmax=vmax,
                       origin="upper", gid=f"heat:{e}")
        layers = grid.shape[1]
        ax.set_xticks(range(layers), [str(k + 1) for k in range(layers - 1)] + ["out"])
        ax.set_yticks(range(len(epochs)), [str(x) for x in epochs])
        ax.set_xlabel("layer (1 = first hidden, out = output)")
        ax.set_ylabel("epoch (0 = initial weights)")
        n = len(by_exp[e])
        ax.set_title(f"{title}\n{n - bad} seeds" + (f" ({bad} diverged, left out)" if bad else ""), fontsize=9)
        for y in range(grid.shape[0]):
            for x in range(layers):
                if math.isfinite(grid[y, x]):
                    ax.text(x, y, f"{grid[y, x]:.1f}", ha="center", va="center", fontsize=6.5,
                            color="white" if grid[y, x] < (vmin + vmax) / 2 else "black")
                elif grid[y, x] == -math.inf:
                    ax.text(x, y, "0", ha="center", va="center", fontsize=6.5)  # most seeds: no gradient at all
        fig.colorbar(im, ax=ax, label="log10 gradient norm (median over seeds)")
    fig.suptitle("Gradient norm of each layer's kernel on the full training set, at every tenth of the run",
                 fontsize=10)
    fig.tight_layout()
    return fig


def _dead_layers(r: Mapping) -> float:
    inside = r["extra"]["inside"]
    dead = np.asarray(inside["dead_units"][-1], dtype=float)
    return float(np.sum(dead >= inside["units"])) if np.isfinite(dead).all() else math.nan


def _ratio(r: Mapping) -> float:
    """As the mechanism claims read it: no gradient at the first layer (a dead layer above it) is -inf."""
    g = np.asarray(r["extra"]["inside"]["grad_norm"][0], dtype=float)
    if not np.isfinite(g).all():
        return math.nan
    if g[0] == 0:
        return -math.inf
    return float(np.log10(g[0] / g[-1])) if g[-1] > 0 else math.inf


def _mean_at_end(key: str):
    def read(r: Mapping) -> float:
        v = np.asarray(r["extra"]["inside"][key][-1], dtype=float)
        return float(v.mean()) if np.isfinite(v).all() else math.nan
    return read


# (heading, per-run value, the activation it exists for, the statistic over runs)
PROBE_COLUMNS = (
    ("log10 first-hidden / output gradient, start (median)", _ratio, None, np.median),
    ("hidden outputs saturated (|a| > 0.99), end (mean)", _mean_at_end("saturated"), "tanh", np.mean),
    ("hidden outputs exactly 0, end (mean)", _mean_at_end("zeros"), "relu", np.mean),
    ("wholly dead hidden layers, end (mean)", _dead_layers, "relu", np.mean),
)


def _learned(r: Mapping) -> bool:
    acc = r["metrics"].get("test_accuracy")
    return acc is not None and math.isfinite(acc) and acc >= LEARNED


def _cell(values: list[float], statistic=np.mean) -> dict:
    """The statistic over the runs' values; a diverged run's NaN counted beside it, never dropped silently
    (an infinite value, no gradient at all, stays in the median)."""
    finite = [v for v in values if not math.isnan(v)]
    if not values:
        return {"text": "no run", "nan": 0}
    return {"text": f"{statistic(finite):.3g}" if finite else "no value", "nan": len(values) - len(finite)}


def learned_vs_failed_table(by_exp: Mapping[str, Sequence[Mapping]]) -> dict:
    """Per configuration, the runs that learned and those that failed: how many, and each probe's statistic
    over them (None where the probe is not for its activation)."""
    rows = []
    for e in sorted(n for n in by_exp if n.startswith("circles_")):
        runs = by_exp[e]
        activation = "tanh" if "tanh" in e else "relu"
        for group, members in (("learned", [r for r in runs if _learned(r)]),
                               ("failed", [r for r in runs if not _learned(r)])):
            rows.append({"experiment": e, "group": group, "seeds": len(members),
                         "cells": [_cell([fn(r) for r in members], stat) if kind in (None, activation) else None
                                   for _, fn, kind, stat in PROBE_COLUMNS]})
    return {"header": [name for name, _, _, _ in PROBE_COLUMNS], "rows": rows}


def _epoch_reaching(r: Mapping) -> float:
    acc = np.asarray(r["history"]["val_accuracy"], dtype=float)
    hit = np.flatnonzero(acc >= LEARNED)
    return float(hit[0] + 1) if hit.size else math.inf


def depth_points(by_exp: Mapping[str, Sequence[Mapping]], activation: str) -> list[dict]:
    """Per depth of the sweep with runs: seeds, learned count and its interval (Clopper-Pearson, 98%), and the
    quartiles of the epoch reaching test accuracy 0.75 among the seeds that reach it."""
    out = []
    for depth, exp in sweeps.DEPTH[activation].items():
        runs = by_exp.get(exp.name) or by_exp.get(sweeps.same_as_suite(exp.name) or "")
        if not runs:
            continue
        k, n = sum(_learned(r) for r in runs), len(runs)
        low, high = stats.clopper_pearson(k, n, 0.98)
        reached = np.array([x for x in map(_epoch_reaching, runs) if math.isfinite(x)])
        q = np.percentile(reached, [25, 50, 75]) if reached.size else [math.nan] * 3
        out.append({"depth": depth, "seeds": n, "learned": k, "low": low, "high": high, "reached": int(reached.size),
                    "q25": float(q[0]), "median": float(q[1]), "q75": float(q[2])})
    return out


def depth_figure(points: Mapping[str, list[dict]]) -> Figure:
    fig = Figure(figsize=(10.5, 6.2))
    lessons = {"relu": sweeps.LESSON_RELU_DEPTHS, "tanh": sweeps.LESSON_TANH_DEPTHS}
    titles = {"relu": "ReLU + He", "tanh": "tanh, author's initializer"}
    for col, act in enumerate(("relu", "tanh")):
        pts = points.get(act) or []
        top = fig.add_subplot(2, 2, 1 + col)
        bottom = fig.add_subplot(2, 2, 3 + col, sharex=top)
        if not pts:
            top.text(0.5, 0.5, "not run", ha="center", transform=top.transAxes)
            continue
        d = np.array([p["depth"] for p in pts])
        rate = np.array([p["learned"] / p["seeds"] for p in pts])
        lo, hi = np.array([p["low"] for p in pts]), np.array([p["high"] for p in pts])
        top.fill_between(d, lo, hi, color="#9ecae1", alpha=0.6, gid="ci", label="98% interval")
        top.plot(d, rate, "o-", color="#08519c", ms=3.5, gid="value", label="learned rate")
        top.axhline(0.1, color="#c62828", ls=":", lw=1, gid="threshold", label="'no longer capable' line (0.1)")
        mark = [i for i, x in enumerate(d) if x in lessons[act]]
        top.plot(d[mark], rate[mark], "s", mfc="none", mec="black", ms=9, gid="lesson", label="the lesson's depths")
        top.set_ylim(-0.02, 1.02)
        top.set_ylabel("share of seeds learned\n(final test accuracy >= 0.75)")
        n = sorted({p["seeds"] for p in pts})
        top.set_title(f"{titles[act]}: {'/'.join(map(str, n))} seeds per depth", fontsize=9)
        top.legend(fontsize=7, loc="upper right")
        med = np.array([p["median"] for p in pts])
        ok = np.isfinite(med)
        bottom.fill_between(d[ok], np.array([p["q25"] for p in pts])[ok], np.array([p["q75"] for p in pts])[ok],
                            color="#c7e9c0", alpha=0.7, gid="iqr", label="quartiles")
        bottom.plot(d[ok], med[ok], "o-", color="#238b45", ms=3.5, gid="median", label="median")
        for x, p in zip(d, pts):
            bottom.annotate(str(p["reached"]), (x, 0), xycoords=("data", "axes fraction"), xytext=(0, 2),
                            textcoords="offset points", ha="center", fontsize=6, color="#555555")
        bottom.set_xlabel("hidden layers (small numbers: seeds that reach 0.75)")
        bottom.set_ylabel("epoch reaching test accuracy 0.75\n(seeds that reach it)")
        bottom.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def inside_section(runs: Sequence[Mapping], drawn: Drawn) -> dict | None:
    by_exp = _by_experiment(runs)
    if not by_exp:
        return None
    heatmaps = None
    if any(e in by_exp for e, _ in HEATMAPS):
        heatmaps = drawn.show(GRADIENT_FIGURE, png(gradient_heatmaps_figure(by_exp)), "median log10 gradient norm "
                              "per layer and probe epoch, deep tanh beside deep ReLU")
    table = learned_vs_failed_table(by_exp)
    points = {act: depth_points(by_exp, act) for act in ("relu", "tanh")}
    sweep = None
    if any(len(p) > len(sweeps.LESSON_RELU_DEPTHS) for p in points.values()):
        sweep = drawn.show(DEPTH_FIGURE, png(depth_figure(points)), "learned rate and epoch reaching 0.75 over depth")
    return {"heatmaps": heatmaps, "table": table, "sweep": sweep}
