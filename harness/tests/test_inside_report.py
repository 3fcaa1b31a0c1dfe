"""The report's "Inside training" figures show the values their axes name (read back from the artists)."""
from __future__ import annotations

import math

import numpy as np

from harness.report import mechanisms as m
from harness.report.figure_files import Drawn
from harness.report.render import section
from harness.training import sweeps


def _run(exp, seed, grad, acc=0.5, dead=None, units=5, sat=None, zeros=None):
    inside = {"epochs": [0, 250, 500], "units": units, "grad_norm": grad}
    if dead is not None:
        inside.update(dead_units=dead, zeros=zeros or [[0.5] * len(dead[0])] * 3)
    if sat is not None:
        inside["saturated"] = sat
    hist = [0.5] * 500 if acc < 0.75 else [0.5] * 99 + [0.8] * 401
    return {"experiment": exp, "seed": seed, "metrics": {"test_accuracy": acc}, "history": {"val_accuracy": hist},
            "extra": {"inside": inside}}


def test_heatmaps_plot_the_median_log_gradient_of_each_layer_and_epoch_and_count_nan_seeds():
    g = lambda k: [[10.0 ** (-k - j) for j in range(6)] for _ in range(3)]  # noqa: E731
    tanh = [_run("circles_tanh5_fresh", s, g(s), sat=[[0.1] * 5] * 3) for s in range(3)]
    tanh.append(_run("circles_tanh5_fresh", 3, [[math.nan] * 6] * 3, sat=[[0.1] * 5] * 3))
    relu = [_run("circles_relu5", s, g(0), dead=[[0] * 5] * 3) for s in range(2)]
    by = m._by_experiment(tanh + relu)
    fig = m.gradient_heatmaps_figure(by)
    images = {im.get_gid(): np.ma.filled(im.get_array(), np.nan) for ax in fig.axes for im in ax.get_images()}
    want = np.log10(np.median([np.asarray(g(s)) for s in range(3)], axis=0))
    assert np.allclose(images["heat:circles_tanh5_fresh"], want)
    assert np.allclose(images["heat:circles_relu5"], np.log10(np.asarray(g(0))))
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert any("3 seeds (1 diverged, left out)" in t for t in titles)


def test_learned_and_failed_runs_are_tabled_apart_with_nan_counted():
    runs = [_run("circles_relu20", 0, [[1.0] * 21] * 3, acc=0.9, dead=[[0] * 20] * 3),
            _run("circles_relu20", 1, [[1.0] * 21] * 3, acc=0.5, dead=[[0] * 19 + [5]] * 3),
            _run("circles_relu20", 2, [[1.0] * 21] * 3, acc=0.5, dead=[[math.nan] * 20] * 3)]
    html = section(m.learned_vs_failed_table, m._by_experiment(runs))
    import re

    rows = {(r[0], r[1]): r for r in (re.findall(r"<td[^>]*>(.*?)</td>", row) for row in html.split("<tr>")[2:])}
    learned, failed = rows["circles_relu20", "learned"], rows["circles_relu20", "failed"]
    assert learned[1:3] == ["learned", "1"] and learned[-1] == "0"  # no dead layer in the run that learned
    assert failed[1:3] == ["failed", "2"]
    assert failed[-1].startswith("1 ") and "(1 NaN)" in failed[-1]  # one dead layer; the diverged seed counted


def test_depth_figure_plots_learned_rates_with_their_intervals_and_marks_the_lesson_depths():
    runs = []
    for d in (1, 5, 10, 15, 20):
        name = sweeps.DEPTH["relu"][d].name
        runs += [_run(name, s, [[1.0] * (d + 1)] * 3, acc=0.9 if s < 10 - d // 3 else 0.5) for s in range(10)]
    pts = {"relu": m.depth_points(m._by_experiment(runs), "relu"), "tanh": []}
    rates = [p["learned"] / p["seeds"] for p in pts["relu"]]
    assert [p["depth"] for p in pts["relu"]] == [1, 5, 10, 15, 20]
    fig = m.depth_figure(pts)
    ax = fig.axes[0]
    line = next(l for l in ax.get_lines() if l.get_gid() == "value")
    assert np.allclose(line.get_xdata(), [1, 5, 10, 15, 20]) and np.allclose(line.get_ydata(), rates)
    lesson = next(l for l in ax.get_lines() if l.get_gid() == "lesson")
    assert list(lesson.get_xdata()) == [5, 15, 20]
    median = next(l for l in fig.axes[1].get_lines() if l.get_gid() == "median")
    assert np.allclose(median.get_ydata(), 100.0)  # the learned seeds reach 0.75 at epoch 100
    html = section(m.inside_section, runs, Drawn())
    assert "The depth sweep" in html


def test_a_dead_layers_zero_gradient_is_drawn_as_no_gradient_not_dropped():
    dead = [[0.0] + [1e-2] * 5 for _ in range(3)]
    relu = [_run("circles_relu5", s, dead, dead=[[5, 0, 0, 0, 0]] * 3) for s in range(3)]
    fig = m.gradient_heatmaps_figure(m._by_experiment(relu))
    ax = fig.axes[0]
    grid = ax.get_images()[0].get_array()
    assert np.ma.is_masked(grid[0, 0]) and np.allclose(grid[:, 1:], -2.0)
    assert "3 seeds" in ax.get_title() and "left out" not in ax.get_title()
    assert sum(t.get_text() == "0" for t in ax.texts) == 3  # every probe epoch of layer 1: no gradient


def test_a_run_held_twice_counts_once():
    runs = [_run("circles_relu5", s, [[1.0] * 6] * 3, acc=0.9, dead=[[0] * 5] * 3) for s in range(4)]
    pts = m.depth_points(m._by_experiment(runs + runs[:2]), "relu")
    assert [(p["depth"], p["seeds"], p["learned"]) for p in pts] == [(5, 4, 4)]
