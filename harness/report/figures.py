"""The report's figures.

Each ``*_figure`` function draws on a fixed-size matplotlib figure (Agg
backend) and returns the open :class:`~matplotlib.figure.Figure`; :func:`png`
turns it into compact, reproducible PNG bytes (palette-quantized, no
"Software" or time metadata) and closes it.  Keeping the two apart lets the
tests read back what each figure actually plotted: every artist that carries
data has a gid (``"value"``, ``"ci"``, ``"threshold"``, ``"seeds:<group>"``,
``"seed:<n>"``, ...), so a test finds it and compares its data with the input.

NaN policy (as in :mod:`harness.statistics.stats`): a diverged seed is never silently
dropped.  Learning-curve quantiles rank a non-finite value as +inf, so an
epoch where most seeds are NaN has an infinite median and is not drawn, and
every subplot says how many seeds went non-finite; metric figures plot the
finite values on the metric's own axis and count the non-finite ones (shown as
"diverged") beside them, never as a number they are not.
"""
from __future__ import annotations

import functools
import io
import math
import textwrap
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from PIL import Image

from harness.spec import NOT_TESTABLE, ON_THE_LINE
from harness.results.model import Effect

DPI = 80
PALETTE = 64  # colours per PNG: line plots need few, and a palette PNG is much smaller than an RGBA one
LABEL_CHARS = 60  # a forest row's effect name, cut beyond this
UNTESTABLE_CHARS = 64  # a not-testable forest row's reason, cut at a word beyond this (the report has it whole)
MAX_SEED_LINES = 30  # per-seed lines drawn per learning-curve panel (the medians use every seed)

_MEDIAN_COLOR = "black"
_SEED_COLOR = "#4c72b0"
# One colour per label a reader is told (harness.spec.LABELS); the report's badges use the same.
VERDICT_COLORS = {"SUPPORTED": "#2e7d32", "REFUTED": "#c62828", ON_THE_LINE: "#4f77a8", NOT_TESTABLE: "#757575",
                  "INCONCLUSIVE": "#d08c00"}
# What each label's legend entry adds, so the key explains the undecided ones apart.
LABEL_MEANINGS = {ON_THE_LINE: "interval inside the zone", NOT_TESTABLE: "no interval: the reason in its row",
                  "INCONCLUSIVE": "short of seeds"}
# A seed that satisfied the rule's per-seed condition, one that did not, and one without an outcome.
OUTCOME_COLORS = {True: "#1764ab", False: "#f28e2b", None: "#666666"}

# The lesson's 2.1.2.3 labels, keyed by this suite's experiment names.
INPUT_SCALING_LABELS = {
    "reg_target_standard": "unscaled input\nstandardized output",
    "reg_input_minmax": "normalized input\nstandardized output",
    "reg_input_standard": "standardized input\nstandardized output",
}


def close(fig: Figure) -> None:
    """Release a figure's artists (figures here are plain ``Figure`` objects: no pyplot state to close)."""
    fig.clear()


def png(fig) -> bytes:
    """The figure as a palette PNG (deterministic bytes); closes the figure."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    finally:
        close(fig)
    buf.seek(0)
    img = Image.open(buf).convert("RGB")
    out = io.BytesIO()
    # Octree, not median cut: median cut merged the few pixels of a colour (a forest row's dot, a label) into
    # its neighbours, so ON THE LINE's blue came out grey; octree keeps them, in fewer bytes.
    img.quantize(colors=PALETTE, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True)
    return out.getvalue()


def _as_float(v) -> float:
    if v is None or isinstance(v, bool):
        return math.nan if v is None else float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _floats(values) -> np.ndarray:
    return np.array([_as_float(v) for v in (values or [])], dtype=float)


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


def _series(runs: Sequence[Mapping], key: str) -> list[tuple[int, np.ndarray]]:
    """(index of the run in ``runs``, its ``key`` history) for the runs that recorded it."""
    out = []
    for i, run in enumerate(runs):
        hist = run.get("history") or {}
        if key in hist and hist[key] is not None:
            out.append((i, _floats(hist[key])))
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


def _outcome_label(outcome, k: int, n: int) -> str:
    if outcome is True:
        return f"met the rule's per-seed condition ({k} of {n})"
    if outcome is False:
        return f"did not ({k} of {n})"
    return f"seeds ({n})"


# ------------------------------------------------------------------ forest plot

def _is_unit_effect(name: str, numbers: list[float]) -> bool:
    """Rates and probabilities get the whole [0, 1] axis, so their rows read alike."""
    lowered = name.strip().lower()
    return (lowered.startswith(("rate", "p(", "share", "fraction", "proportion", "probability"))
            and all(0.0 <= x <= 1.0 for x in numbers))


def _forest_xlim(name: str, numbers: list[float]) -> tuple[float, float]:
    if _is_unit_effect(name, numbers):
        return (-0.03, 1.03)
    if numbers:
        a, b = min(numbers), max(numbers)
        pad = (b - a) * 0.12 if b > a else max(abs(a) * 0.25, 0.05)
        return (a - pad, b + pad)
    return (0.0, 1.0)


def _forest_legend(fig, y: float) -> None:
    """The key: every label a row can have (the same five in every report), the threshold and the zone."""
    # A not-testable row draws no interval, so its key is a plain swatch, not a dot on a bar.
    handles = [Line2D([], [], color=color, lw=0 if label == NOT_TESTABLE else 2.4,
                      marker="s" if label == NOT_TESTABLE else "o", ms=6,
                      label=label + (f" ({LABEL_MEANINGS[label]})" if label in LABEL_MEANINGS else ""))
               for label, color in VERDICT_COLORS.items()]
    handles += [Line2D([], [], color="#333333", ls="--", lw=1.0, label="threshold"),
                Patch(color="#9e9e9e", alpha=0.25, lw=0, label="indifference zone")]
    fig.legend(handles=handles, loc="center", bbox_to_anchor=(0.5, y), ncol=len(handles), fontsize=7.5,
               frameon=False, handlelength=1.8, columnspacing=1.4)


@dataclass(frozen=True)
class ForestRow:
    """One row of the forest plot: a test (``label``), the label a reader is told (``verdict``, one of
    :data:`harness.spec.LABELS`), its effect with its interval, threshold and zone, and for a test that could
    not run, why."""

    label: str
    verdict: str
    effect: Effect = Effect()
    untestable: str | None = None


def _forest_row(ax, row: ForestRow) -> None:
    verdict = row.verdict
    color = VERDICT_COLORS[verdict]
    effect = row.effect
    name = effect.name or "effect"
    ax.set_ylim(-1, 1)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.yaxis.set_label_position("right")
    ax.set_ylabel(name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 2] + "…", rotation=0, ha="left",
                  va="center", fontsize=8.5, labelpad=8)
    label = row.label if len(row.label) <= 46 else row.label[:44] + "…"
    ax.text(-0.03, 0.15, label, transform=ax.transAxes, ha="right", va="center", fontsize=9.5)
    ax.text(-0.03, -0.8, verdict, transform=ax.transAxes, ha="right", va="center", fontsize=7.5,
            color=color, fontweight="bold")
    if verdict == NOT_TESTABLE:
        # No test ran: whatever number the rule left (0, or none) is not an effect, so no dot, interval,
        # threshold or axis is drawn, only the label and why.
        why = textwrap.shorten(row.untestable or "", UNTESTABLE_CHARS, placeholder="…")
        text = NOT_TESTABLE + (f": {why}" if why else "")
        ax.text(0.0, 0, text, transform=ax.transAxes, ha="left", va="center", fontsize=8, color=color,
                gid="untestable")
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
        return
    value, lo, hi, threshold = map(_as_float, (effect.value, effect.ci_low, effect.ci_high, effect.threshold))
    zone = (_as_float(effect.zone[0]), _as_float(effect.zone[1])) if effect.zone is not None else None
    # A claim about |effect| (equivalence, mean in a band) has its zone and threshold on both sides of 0.
    signs = (1.0, -1.0) if effect.absolute and zone is not None else (1.0,)
    marks = [sign * x for sign in signs for x in (threshold, *(zone or ())) if math.isfinite(x)]
    xlim = _forest_xlim(name, [x for x in (value, lo, hi) if math.isfinite(x)] + marks)
    ax.set_xlim(*xlim)
    for sign in signs:
        if zone and all(math.isfinite(z) for z in zone):
            ax.axvspan(*sorted((sign * zone[0], sign * zone[1])), color="#9e9e9e", alpha=0.25, lw=0, gid="zone")
        if math.isfinite(threshold):
            ax.axvline(sign * threshold, color="#333333", ls="--", lw=1.0, gid="threshold")
    if math.isfinite(value):
        # an unbounded side of the interval runs to the edge of the row's axis
        left = lo if math.isfinite(lo) else (xlim[0] if lo == -math.inf else math.nan)
        right = hi if math.isfinite(hi) else (xlim[1] if hi == math.inf else math.nan)
        if math.isfinite(left) and math.isfinite(right):
            ax.plot([left, right], [0, 0], color=color, lw=2.4, solid_capstyle="butt", gid="ci")
        ax.plot([value], [0], "o", color=color, ms=6.5, mec="white", mew=0.8, gid="value")
    else:
        ax.text(0.5, 0, "no estimate", transform=ax.get_yaxis_transform(), ha="center", va="center",
                fontsize=7.5, color="#555555")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.tick_params(axis="x", labelsize=7.5, length=2, pad=1)


def forest_figure(rows: Sequence[ForestRow], title: str = "") -> Figure:
    """One row per claim: its effect (dot) with its interval (bar) against its
    threshold (dashed line) and indifference zone (shaded), coloured by its
    label, with a key of every label above the rows.

    Effects differ in kind (rates, probabilities, ratios, decades, accuracies),
    so every row has its own x axis with its own ticks and its effect's name as
    the axis label (on the right); no two rows share a scale.  A row labelled
    NOT TESTABLE HERE has no interval: it shows the label and ``untestable``.

    """
    n = max(1, len(rows))
    row_h, head_h, foot_h = 0.5, 1.05, 0.3
    height = row_h * n + head_h + foot_h
    fig = Figure(figsize=(14.0, height))
    gs = fig.add_gridspec(n, 1, left=0.30, right=0.66, top=1 - head_h / height, bottom=foot_h / height,
                          hspace=1.25)
    for i, row in enumerate(rows):
        _forest_row(fig.add_subplot(gs[i, 0]), row)
    if title:
        # a long title wraps inside the figure instead of running off its edges
        fig.suptitle("\n".join(textwrap.wrap(title, 150)), fontsize=10.5, y=1 - 0.1 / height, va="top")
    _forest_legend(fig, 1 - 0.75 / height)
    return fig


# ------------------------------------------------------------------ per-seed metric

def _metric_column(ax, pos: int, name: str, vals: Sequence[float], outcomes, rng) -> tuple[np.ndarray, np.ndarray]:
    """One experiment's column at ``pos``: its finite values as jittered points over a box of their quartiles,
    its non-finite ones counted above it; (its values, their jittered x)."""
    arr = _floats(vals)
    finite = np.isfinite(arr)
    oc = list(outcomes[name]) if outcomes and name in outcomes else []
    has_oc = len(oc) == arr.size and arr.size > 0
    jitter = rng.uniform(-0.16, 0.16, size=arr.size)
    if finite.any():
        ax.boxplot([arr[finite]], positions=[pos], widths=0.55, showfliers=False, whis=(0, 100),
                   medianprops={"color": _MEDIAN_COLOR}, boxprops={"color": "#888888"},
                   whiskerprops={"color": "#888888"}, capprops={"color": "#888888"})
        colors = [OUTCOME_COLORS[bool(o)] if has_oc else OUTCOME_COLORS[None] for o in (oc or [None] * arr.size)]
        ax.scatter((pos + jitter)[finite], arr[finite], s=14, zorder=3, alpha=0.85,
                   c=[c for c, f in zip(colors, finite) if f], edgecolors="none", gid=f"seeds:{name}")
    n_inf, n_nan = int(np.isinf(arr).sum()), int(np.isnan(arr).sum())
    note = ", ".join(t for t in (f"{n_inf} diverged (inf)" if n_inf else "", f"{n_nan} NaN" if n_nan else "") if t)
    if note:
        ax.text(pos, 0.97, note, transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=7.5,
                color="#c62828", gid=f"nonfinite:{name}")
    if not finite.any():
        ax.text(pos, 0.5, "no finite value", transform=ax.get_xaxis_transform(), ha="center", va="center",
                fontsize=8)
    return arr, pos + jitter


def _metric_legend(ax, names: list[str], outcomes: Mapping[str, Sequence[bool]] | None, threshold: float) -> None:
    """The seeds' outcomes counted over every column, and the threshold line, beside the axes."""
    handles = []
    if outcomes:
        counted = [outcomes[k] for k in names if k in outcomes]
        yes = sum(sum(bool(o) for o in oc) for oc in counted)
        total = sum(len(oc) for oc in counted)
        for o, k in ((True, yes), (False, total - yes)):
            handles.append(Line2D([], [], ls="", marker="o", color=OUTCOME_COLORS[o],
                                  label=_outcome_label(o, k, total)))
    if math.isfinite(threshold):
        handles += [h for h in ax.get_lines() if h.get_gid() == "threshold"]
    if handles:
        ax.legend(handles=handles, fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def metric_figure(samples: Mapping[str, Sequence[float]], metric: str, title: str,
                  outcomes: Mapping[str, Sequence[bool]] | None = None, threshold: float | None = None,
                  labels: Mapping[str, str] | None = None, paired: bool = False) -> Figure:
    """Every seed's value of the deciding metric, one column per experiment.

    Finite values are points on the metric's own axis (with a box of their
    quartiles), coloured by the seed's outcome when ``outcomes`` gives one;
    non-finite values (a diverged run) are counted above their column, never
    plotted as a number.  ``threshold`` is drawn as a dashed line; ``paired``
    joins seed s of two columns.
    """
    groups = list(samples.items())
    # Up to 4 columns (a claim's experiments) as before; more (environments side by side) get ~1.2 in each
    width = max(8.0, min(12.0, 1.9 * len(groups) + 4.5)) if len(groups) <= 4 else min(24.0, 1.2 * len(groups) + 7.2)
    fig = Figure(figsize=(width, 3.6))
    ax = fig.subplots()
    rng = np.random.default_rng(0)
    ticks, all_finite, xs_by_group = [], [], {}
    for pos, (name, vals) in enumerate(groups, start=1):
        arr, xs_by_group[name] = _metric_column(ax, pos, name, vals, outcomes, rng)
        if np.isfinite(arr).any():
            all_finite.append(arr[np.isfinite(arr)])
        ticks.append(f"{(labels or {}).get(name, name)}\n({arr.size} seeds)")
    if paired and len(groups) == 2:
        (na, a), (nb, b) = ((k, _floats(v)) for k, v in groups)
        if a.size == b.size:
            ok = np.isfinite(a) & np.isfinite(b)
            for xa, xb, ya, yb in zip(xs_by_group[na][ok], xs_by_group[nb][ok], a[ok], b[ok]):
                ax.plot([xa, xb], [ya, yb], color="#bbbbbb", lw=0.5, zorder=1)
    t = _as_float(threshold)
    if math.isfinite(t):
        ax.axhline(t, color="#333333", ls="--", lw=1.0, gid="threshold", label=f"threshold {t:g}")
    ax.set_xticks(range(1, len(groups) + 1))
    ax.set_xticklabels(ticks, fontsize=8)
    ax.set_xlim(0.4, len(groups) + 0.6)
    finite_all = np.concatenate(all_finite) if all_finite else np.array([])
    if finite_all.size and _wants_log(np.append(finite_all, t) if math.isfinite(t) and t > 0 else finite_all):
        ax.set_yscale("log")
    if finite_all.size:  # headroom for the non-finite counts
        lo, hi = ax.get_ylim()
        if ax.get_yscale() == "log":
            ax.set_ylim(lo, hi * (hi / lo) ** 0.12)
        else:
            ax.set_ylim(lo, hi + (hi - lo) * 0.12)
    ax.set_ylabel(metric, fontsize=9)
    ax.set_title("\n".join(textwrap.wrap(title, 90)), fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    _metric_legend(ax, [k for k, _ in groups], outcomes, t)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ learning curves

def curve_keys(runs: Sequence[Mapping], metric: str = "") -> list[str]:
    """The two History keys a claim's curves show: accuracy for classification, loss for regression."""
    present = set()
    for r in runs:
        present.update((r.get("history") or {}).keys())
    if {"accuracy", "val_accuracy"} & present and "loss" not in metric.lower():
        return [k for k in ("accuracy", "val_accuracy") if k in present]
    return [k for k in ("loss", "val_loss") if k in present] or sorted(present)[:2]


def curves_figure(runs: Sequence[Mapping], keys: Sequence[str], title: str,
                  outcomes: Sequence[bool] | None = None, max_lines: int = MAX_SEED_LINES) -> Figure:
    """One panel per History key: each seed's curve, coloured by its outcome
    (the seeds that met the rule's condition in blue, on top), and the median of
    each group; without outcomes, the median and the 25-75% band of all seeds.

    ``outcomes[i]`` belongs to ``runs[i]``.  At most ``max_lines`` seeds are drawn
    per group (the first ones, by seed); the medians use every seed.
    """
    keys = list(keys)[:2] or ["loss"]
    fig = Figure(figsize=(5.6 * len(keys), 3.1))
    axes = fig.subplots(1, len(keys), squeeze=False)
    is_regression = not any("accuracy" in (r.get("history") or {}) for r in runs)
    oc = list(outcomes) if outcomes is not None and len(outcomes) == len(runs) else None
    for ax, key in zip(axes.ravel(), keys):
        series = _series(runs, key)
        n = len(series)
        if n == 0:
            ax.set_title(f"{key}: no seed recorded it", fontsize=9)
            ax.set_axis_off()
            continue
        k_bad = sum(1 for _, s in series if s.size and not np.isfinite(s).all())
        groups = [(None, series)] if oc is None else [
            (False, [(i, s) for i, s in series if not oc[i]]), (True, [(i, s) for i, s in series if oc[i]])]
        alpha = max(0.25, min(0.7, 6.0 / max(1, min(n, max_lines))))
        drawn = 0
        for outcome, members in groups:
            color = OUTCOME_COLORS[outcome] if oc is not None else _SEED_COLOR
            for i, s in members[:max_lines]:
                seed = runs[i].get("seed", i)
                ax.plot(np.arange(1, s.size + 1), _finite_or_nan(s), color=color, lw=0.8,
                        alpha=alpha * (1.4 if outcome else 1.0), gid=f"seed:{seed}")
                drawn += 1
            if members and oc is not None:
                _, med, _ = _epoch_bands([s for _, s in members])
                ax.plot(np.arange(1, med.size + 1), _finite_or_nan(med), color=color, lw=2.2,
                        label=f"median, {_outcome_label(outcome, len(members), n)}", gid=f"median:{outcome}")
        if oc is None:
            q25, med, q75 = _epoch_bands([s for _, s in series])
            epochs = np.arange(1, med.size + 1)
            band = np.isfinite(q25) & np.isfinite(q75)
            if band.any():
                ax.fill_between(epochs, _finite_or_nan(q25), _finite_or_nan(q75), where=band,
                                color="tab:orange", alpha=0.3, lw=0, label="25-75%")
            ax.plot(epochs, _finite_or_nan(med), color=_MEDIAN_COLOR, lw=1.6, label="median", gid="median:None")
        all_vals = np.concatenate([s for _, s in series])
        if is_regression and "loss" in key and _wants_log(all_vals):
            ax.set_yscale("log")
        if not np.isfinite(all_vals).any():
            ax.text(0.5, 0.5, f"every seed's {key} is NaN or inf from epoch 1:\nnothing to draw",
                    transform=ax.transAxes, ha="center", va="center", fontsize=9, color="#c62828")
            ax.set_xticks([])
            ax.set_yticks([])
        shown = f"; lines: {drawn} of {n} seeds" if drawn < n else ""
        ax.set_title(f"{key}: {k_bad} of {n} seeds non-finite{shown}", fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_ylabel(key, fontsize=8)
        ax.tick_params(labelsize=7.5)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ the lesson's own figures

def regression_histograms_figure() -> Figure:
    """The lesson's 2.1.2 figure: histograms of features 0 and 1 and of the target."""
    from harness.training.data import raw_regression  # local: scikit-learn only when this figure is drawn

    x, y = raw_regression()
    fig = Figure(figsize=(9, 5))
    ax = fig.subplots(3, 1)
    for a, values, label in ((ax[0], x[:, 0], "Feature 0"), (ax[1], x[:, 1], "Feature 1"), (ax[2], y, "Output")):
        a.hist(values, gid=label)
        a.set_ylabel(label)
    fig.suptitle("make_regression(n_samples=1000, n_features=20, noise=0.1, random_state=1)", fontsize=10)
    fig.tight_layout()
    return fig


def circles_scatter_figure() -> Figure:
    """The lesson's 2.2.3 figure: the circles dataset colored by class."""
    from harness.training.data import raw_circles  # local: scikit-learn only when this figure is drawn

    x, y = raw_circles()
    fig = Figure(figsize=(6.4, 4.8))
    ax = fig.subplots()
    for i in range(2):
        ix = np.where(y == i)[0]
        ax.scatter(x[ix, 0], x[ix, 1], label=str(i), s=10, gid=f"class:{i}")
    ax.legend()
    ax.set_xlabel("x[:, 0]")
    ax.set_ylabel("x[:, 1]")
    ax.set_title("make_circles(n_samples=1000, noise=0.1, random_state=1)", fontsize=10)
    fig.tight_layout()
    return fig


def _drawn_once(draw: Callable[[], Figure]) -> Callable[[], bytes]:
    """``draw()`` as PNG bytes, drawn at the first call only: the lesson's own figures are the same in every run."""
    return functools.lru_cache(maxsize=1)(lambda: png(draw()))


regression_histograms = _drawn_once(regression_histograms_figure)
circles_scatter = _drawn_once(circles_scatter_figure)


def input_scaling_figure(values_by_group: Mapping[str, Sequence[float]]) -> Figure:
    """The lesson's 2.1.2.3 box plot of test MSE, in the lesson's order and with its labels."""
    names = [k for k in INPUT_SCALING_LABELS if k in values_by_group]
    names += [k for k in values_by_group if k not in INPUT_SCALING_LABELS]
    return metric_figure({k: values_by_group[k] for k in names}, "test MSE",
                         "test MSE by input scaling (lesson 2.1.2.3)", labels=INPUT_SCALING_LABELS)
