"""The evidence report, tested on the real producer's output.

``data/results-trimmed.json.gz`` is a real ``pytest -n 2`` run (TF 2.21 CPU,
batched engine, 30 seeds with looks up to 1000) written by the suite itself,
read through the results codec and trimmed only in its runs: the first 6 seeds
of each experiment, the histories rounded to 5 significant digits.  It holds
``{"results": <the results in the current schema>, "runs": [...]}``; every
claim is as the producer wrote it.  Regenerate it after a change of the
results schema with::

    python -m harness.tests.test_report reports/results.json

:func:`full_size_results` widens the runs back to 30 seeds per experiment
(seeds 6-29 are seeds 0-5 with per-epoch noise), for the page size a full run
gives (and for the browser test).
"""
from __future__ import annotations

import dataclasses
import gzip
import html.parser
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from harness import RESULTS_SCHEMA
from harness import results as res
from harness.spec import RULES, Amendment, Expectation, Verdict
from harness.report import (RUNS_NAME, claim_outcomes, claim_samples, figures, fmt_num, fmt_p, render_from_json,
                            write_report)
from harness.report.render import section
from harness.training import records

FIXTURE = Path(__file__).parent / "data" / "results-trimmed.json.gz"
FIXTURE_RUN_SEEDS = 6
PAGE_LIMIT = 2 * 1024 * 1024


def make_fixture(results_path: Path, out: Path = FIXTURE, seeds: int = FIXTURE_RUN_SEEDS) -> None:
    results, runs, note = res.read(Path(results_path))
    assert runs, note

    def rnd(x):
        return float(f"{x:.5g}") if isinstance(x, float) and math.isfinite(x) else x

    kept = [{**r, "history": {k: [rnd(v) for v in vals] for k, vals in r["history"].items()}}
            for r in runs if r["seed"] < seeds]
    data = {"results": res.to_data(dataclasses.replace(results, runs_file=None)), "runs": kept}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.compress(records.dumps(data, separators=(",", ":")).encode("utf-8"), 9, mtime=0))


def trimmed_results() -> tuple[res.Results, list[dict]]:
    data = records.loads(gzip.decompress(FIXTURE.read_bytes()).decode("utf-8"))
    results, _ = res.from_data(data["results"], str(FIXTURE))
    return results, data["runs"]


def full_size_results(seeds: int = 30) -> tuple[res.Results, list[dict]]:
    """The fixture with 30 runs per experiment, as a full run has (seed s >= 6 is seed s % 6, jittered)."""
    results, base = trimmed_results()
    runs = list(base)
    rng = np.random.default_rng(0)
    for run in base:
        for seed in range(run["seed"] + FIXTURE_RUN_SEEDS, seeds, FIXTURE_RUN_SEEDS):
            hist = {}
            for k, vals in run["history"].items():
                v = np.array(vals, dtype=float)
                noise = np.exp(rng.normal(0, 0.03, size=v.size))
                w = np.where(np.isfinite(v), v * noise, v)
                if "accuracy" in k:
                    w = np.clip(w, 0, 1)
                hist[k] = [float(x) for x in w]
            runs.append({**run, "seed": seed, "history": hist})
    return results, runs


# ------------------------------------------------------------------ helpers


class _Page(html.parser.HTMLParser):
    """The parts of the page a test reads: claim sections, their heading badge, the summary rows, images."""

    def __init__(self, text: str):
        super().__init__()
        self.sections: dict[str, str | None] = {}  # section id -> verdict badge text in its h3
        self.summary: list[list[str]] = []  # summary table rows, cell texts
        self.summary_badges: list[str] = []
        self.images: list[dict] = []
        self._section = None
        self._in_h3 = self._in_badge = False
        self._in_summary = self._in_cell = False
        self._row: list[str] | None = None
        self._table_depth = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "claim" in (a.get("class") or ""):
            self._section = a["id"]
            self.sections[self._section] = None
        elif tag == "h3" and self._section:
            self._in_h3 = True
        elif tag == "span" and "badge" in (a.get("class") or ""):
            self._in_badge = True
        elif tag == "table" and a.get("class") == "summary":
            self._in_summary = True
        elif tag == "tr" and self._in_summary:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._in_cell = True
            self._row.append("")
        elif tag == "img":
            self.images.append(a)

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = None
        elif tag == "h3":
            self._in_h3 = False
        elif tag == "span":
            self._in_badge = False
        elif tag == "table" and self._in_summary:
            self._in_summary = False
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.summary.append(self._row)
            self._row = None
        elif tag == "td":
            self._in_cell = False

    def handle_data(self, data):
        if self._in_badge and self._in_h3 and self._section and self.sections[self._section] is None:
            self.sections[self._section] = data
        if self._in_badge and self._in_cell and self._row is not None and len(self._row) == 2:
            self.summary_badges.append(data)
        if self._in_cell and self._row is not None:
            self._row[-1] += data


def _by_gid(fig, prefix: str):
    return [a for ax in fig.axes for a in ax.get_children() if str(a.get_gid() or "").startswith(prefix)]


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _section(page: str, cid: str) -> str:
    part = page[page.index(f'<section id="{cid}"'):]
    return part[:part.index("</section>")]


@pytest.fixture(scope="module")
def real():
    return trimmed_results()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    a = tmp_path_factory.mktemp("a")
    results, runs = trimmed_results()
    return results, runs, a, write_report(results, runs, a)


def _one_claim(cid: str) -> tuple[res.Results, list[dict]]:
    """The fixture cut to one claim and its runs (a cheap page)."""
    results, runs = trimmed_results()
    claim = results.claim(cid)
    return (dataclasses.replace(results, claims=(claim,)),
            [r for r in runs if r["experiment"] in claim.experiments])


# ------------------------------------------------------------------ the fixture is the producer's


def test_fixture_is_the_real_producers_shape(real):
    results, runs = real
    assert results.schema == RESULTS_SCHEMA
    ids = [c.id for c in results.claims]
    assert len(ids) >= 20 and "input_scaling_normalized_better" in ids and "input_scaling" not in ids
    for c in results.claims:
        assert isinstance(c.verdict, Verdict)
        assert set(c.metric_samples) <= set(c.experiments) and c.metric_samples
        assert c.looks and c.looks[-1].seeds == c.seeds
    rate = results.claim("clipvalue_sub_100_within_a_few_epochs")
    # the real metric (training MSE of a few hundred), not the 0/1 outcome the old figure showed
    assert min(rate.metric_samples["reg_unscaled_clipvalue"]) > 100
    assert rate.outcomes["reg_unscaled_clipvalue"] == [False] * 30
    # every label a reader can be told but NOT TESTABLE HERE, parts, a derived prediction and a duplicate
    assert {c.label for c in results.claims} == {"SUPPORTED", "REFUTED", "ON THE LINE", "INCONCLUSIVE"}
    assert {c.counts for c in results.claims} == {"claim", "derived", "duplicate"}
    assert {r["seed"] for r in runs} == set(range(FIXTURE_RUN_SEEDS))


# ------------------------------------------------------------------ the page

REAL_COUNTS = ("17 claims of the lesson: 12 SUPPORTED, 2 REFUTED, 1 ON THE LINE, 0 NOT TESTABLE HERE, "
               "2 INCONCLUSIVE (short of seeds); 24 tests (1 derived prediction and 1 duplicate, counted apart)")


def test_every_claim_has_its_section_and_summary_row_with_its_label(rendered):
    results, _, _, index = rendered
    text = index.read_text(encoding="utf-8")
    page = _Page(text)
    want = {c.id: c.label for c in results.claims}
    assert page.sections == want
    assert len(page.summary) == len(results.claims)
    for row, c in zip(page.summary, results.claims):
        assert row[0].strip().startswith(c.id + c.section)
    assert page.summary_badges == [c.label for c in results.claims]
    # the lesson's claims, each once with the label of its tests (the model's own grouping)
    per_sentence = [res.sentence_label(tests) for tests in results.sentences().values()]
    assert len(per_sentence) == 17 and per_sentence.count("SUPPORTED") == 12
    assert _counts_line(text) == REAL_COUNTS
    assert "carries no zone factors" not in text and "zone factor is how far" in text


def test_summary_table_is_short_and_quotes_live_in_the_sections(rendered):
    results, _, _, index = rendered
    text = index.read_text(encoding="utf-8")
    page = _Page(text)
    summary = text[text.index('<table class="summary">'):]
    summary = summary[:summary.index("</table>")]
    for c in results.claims:
        assert html_escape(c.quote) not in summary
        section = _section(text, c.id)
        assert f"<blockquote>{html_escape(c.quote)}" in section
        assert html_escape(c.interpretation) in section
    assert all(len(row) == 6 for row in page.summary)


def test_first_screen_is_the_forest_plot_then_the_table(rendered):
    _, _, _, index = rendered
    text = index.read_text(encoding="utf-8")
    page = _Page(text)
    assert page.images[0]["data-figure"] == "summary__forest.png"
    assert text.index('data-figure="summary__forest.png"') < text.index('<table class="summary">') \
        < text.index('id="how-to-read"') < text.index('<section id=')


def test_looks_amendments_design_and_findings_are_shown(rendered):
    results, _, _, index = rendered
    text = index.read_text(encoding="utf-8")
    for c in results.claims:
        section = _section(text, c.id)
        for look in c.looks:
            assert f'<span class="num">{look.seeds}</span>' in section
        for a in c.amendments:
            assert f'id="{c.id}-amendments"' in section and html_escape(a.old_rule) in section
            assert html_escape(a.old_verdict) in section
        for f in c.findings:
            assert html_escape(f) in section
        if c.pairing:
            assert html_escape(c.pairing) in section
        if c.plan is not None:
            assert f"of the planned {', '.join(map(str, c.plan.looks))}" in section
    multi = [c for c in results.claims if len(c.looks) > 1]
    assert multi, "the fixture should hold a claim decided at a later look"
    summary = text[text.index('<table class="summary">'):text.index("</table>")]
    words = re.sub(r"<[^>]+>", "", summary)
    for c in multi:
        assert " → ".join(str(lk.seeds) for lk in c.looks) in words
    amended = [c for c in results.claims if c.amendments]
    assert summary.count(">amended</a>") == len(amended) > 0


def test_expectation_shows_the_numbers_pinned_for_this_environment(rendered):
    results, _, _, index = rendered
    text = index.read_text(encoding="utf-8")
    fp = results.environment.fingerprint
    pinned = [c for c in results.claims if c.expectation.pins_for(fp)]
    for c in results.claims:
        row = _section(text, c.id)
        row = row[row.index("<th>expectation</th>"):]
        row = row[:row.index("</tr>")]
        assert ('<span class="badge ok">PASS</span>' in row) == c.as_expected
        for q, (low, high) in c.expectation.pins_for(fp).items():
            assert f"{q} in [{fmt_num(low)}, {fmt_num(high)}]" in row
    missed = dataclasses.replace(results.claims[0], expectation_missed=("effect = 0.5 outside [0.9, 1]",))
    from harness.report.claim import expectation

    row = section(expectation, missed, fp)
    assert "FAIL" in row and "effect = 0.5 outside [0.9, 1]" in row
    assert pinned, "the fixture should hold claims with numbers pinned for its environment"


def test_index_is_self_contained(rendered):
    _, _, _, index = rendered
    page = index.read_text(encoding="utf-8")
    assert 'src="http' not in page and "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page


def test_figure_files_have_deterministic_names(rendered):
    results, _, a, _ = rendered
    names = {p.name for p in (a / "figures").iterdir()}
    assert {"summary__forest.png", "lesson_regression_histograms.png", "lesson_circles_scatter.png",
            "lesson_input_scaling_boxplot.png"} <= names
    for c in results.claims:
        assert f"{c.id}__metric.png" in names
        for exp in c.experiments:
            assert f"{c.id}__curves_{exp}.png" in names
    for n in names:
        assert (a / "figures" / n).read_bytes().startswith(b"\x89PNG")


# ------------------------------------------------------------------ results.json and its runs sidecar


def test_runs_go_to_a_compressed_sidecar(rendered):
    results, runs, a, _ = rendered
    back = records.loads((a / "results.json").read_text(encoding="utf-8"))
    assert "runs" not in back and back["runs_file"]["path"] == RUNS_NAME
    assert back["runs_file"]["runs"] == len(runs)
    assert [c["id"] for c in back["claims"]] == [c.id for c in results.claims]  # compare/drift read these
    read, read_runs, note = res.read(a / "results.json")
    assert note is None and len(read_runs) == len(runs)
    assert read_runs[0]["history"] == records.loads(records.dumps(runs[0]["history"]))
    assert res.encode(dataclasses.replace(read, runs_file=None)) == res.encode(results)  # the model round-trips
    assert gzip.decompress((a / RUNS_NAME).read_bytes())  # a plain gzip file


def test_render_from_json_rerenders_same_bytes(rendered, tmp_path):
    """The same input gives byte-identical files, and a re-render from results.json + sidecar is that input."""
    _, _, a, _ = rendered
    c = tmp_path / "c"
    c.mkdir()
    for name in ("results.json", RUNS_NAME):
        (c / name).write_bytes((a / name).read_bytes())
    (c / "figures").mkdir()
    (c / "figures" / "gone__metric.png").write_bytes(b"stale")
    index = render_from_json(c / "results.json")
    assert index == c / "index.html"
    assert _files(c) == _files(a)  # stale figure removed, the rest identical


def test_render_from_json_adds_a_mutants_table_written_since(rendered, tmp_path):
    results, _, a, _ = rendered
    for name in ("results.json", RUNS_NAME):
        (tmp_path / name).write_bytes((a / name).read_bytes())
    mutants = res.MutantsRun(environment=results.environment.fingerprint, certificate="c.json", mutants=(
        res.MutantResult("written_since", "d", killed=False, detail="passed every window"),))
    (tmp_path / "mutants.json").write_text(res.encode(mutants), encoding="utf-8")
    page = render_from_json(tmp_path / "results.json").read_text(encoding="utf-8")
    assert "<td>written_since</td>" in page and "killed: 0, survived: 1" in page
    other = dataclasses.replace(mutants, environment="another-environment")
    (tmp_path / "mutants.json").write_text(res.encode(other), encoding="utf-8")
    page = render_from_json(tmp_path / "results.json").read_text(encoding="utf-8")
    assert "written_since" not in page  # another environment's table is not this run's


def test_missing_or_foreign_sidecar_is_said_not_hidden(rendered, tmp_path):
    _, _, a, _ = rendered
    path = tmp_path / "results.json"
    path.write_bytes((a / "results.json").read_bytes())
    assert res.read(path)[1:] == ([], f"sidecar {RUNS_NAME} missing")
    (tmp_path / RUNS_NAME).write_bytes(gzip.compress(b'{"schema": "x", "runs": []}', mtime=0))
    _, runs, note = res.read(path)
    assert runs == [] and "is not the one written with this results.json" in note
    one = tmp_path / "one"
    write_report(*_one_claim("relu20_no_longer_learns"), one)
    (one / RUNS_NAME).unlink()
    page = render_from_json(one / "results.json").read_text(encoding="utf-8")
    assert f"No runs of this experiment in the results file (sidecar {RUNS_NAME} missing)" in page


def _as_schema_1(results: res.Results, runs: list[dict]) -> dict:
    """``results`` as a schema-1 file held them: runs inline, the verdict expected, flat looks, the comparison
    under ``design``, and ``metric_values`` for what was then a rate rule's per-seed 0/1 hits."""
    data = res.to_data(results)
    data.update(schema="lesson-claims/results/1", runs=runs)
    data.pop("runs_file")
    for c, claim in zip(data["claims"], results.claims):
        c["expected_verdict"] = c.pop("expectation")["verdict"]
        c["design"] = c.pop("comparison")
        c["looks"] = [{"seeds": lk.seeds, "verdict": lk.decision.verdict.value, "p_value": lk.decision.p_value,
                       "alpha": lk.decision.alpha, "effect": lk.decision.effect, "ci_low": lk.decision.ci_low,
                       "ci_high": lk.decision.ci_high, "at_threshold": lk.decision.at_threshold,
                       "untestable": lk.decision.untestable, "seconds": lk.seconds} for lk in claim.looks]
        c["sequential"] = claim.plan.to_dict()
        c["metric_values"] = {e: [int(x) for x in v] for e, v in c.pop("outcomes").items()}  # 0/1 hits
        for key in ("metric_samples", "expectation_missed", "plan"):
            c.pop(key)
    return data


def test_older_results_with_inline_runs_still_render(tmp_path):
    """An older file is migrated by the codec; the page renders the migrated model, with its inline runs."""
    results, runs = _one_claim("clipvalue_sub_100_within_a_few_epochs")
    (claim,) = results.claims
    (tmp_path / "results.json").write_text(records.dumps(_as_schema_1(results, runs)), encoding="utf-8")
    page = render_from_json(tmp_path / "results.json").read_text(encoding="utf-8")
    assert "No runs of this experiment" not in page  # the inline runs were used
    (old,) = res.read(tmp_path / "results.json")[0].claims
    assert claim_outcomes(old) == claim.outcomes  # a rate rule's old 0/1 values are read as outcomes
    assert claim_samples(old) == {}  # and never as the metric
    assert old.label == claim.label and [lk.seeds for lk in old.looks] == [lk.seeds for lk in claim.looks]
    assert _Page(page).sections == {claim.id: claim.label}


def test_full_run_page_is_at_most_2_mb(tmp_path):
    results, runs = full_size_results()
    assert len(runs) == 30 * len(results.experiments)
    index = write_report(results, runs, tmp_path)
    size = index.stat().st_size
    assert size <= PAGE_LIMIT, f"index.html is {size / 2 ** 20:.2f} MiB"
    assert (tmp_path / "results.json").stat().st_size < 1024 * 1024


# ------------------------------------------------------------------ figures show the values their labels name


def test_metric_figure_plots_the_real_per_seed_values_with_threshold_and_outcomes(real):
    results, _ = real
    for c in results.claims:
        samples, outcomes = claim_samples(c), claim_outcomes(c)
        fig = figures.metric_figure(samples, c.metric, c.id, outcomes=outcomes, threshold=c.metric_threshold,
                                    paired=c.comparison == "paired")
        try:
            ax = fig.axes[0]
            assert ax.get_ylabel() == c.metric
            for exp, vals in samples.items():
                arr = np.array(vals, dtype=float)
                finite = np.isfinite(arr)
                drawn = _by_gid(fig, f"seeds:{exp}")
                if not finite.any():
                    assert not drawn
                    continue
                (points,) = drawn
                ys = points.get_offsets()[:, 1]
                np.testing.assert_array_equal(ys, arr[finite])
                lo, hi = ax.get_ylim()
                assert lo <= ys.min() and ys.max() <= hi  # the axis shows them
                if outcomes and exp in outcomes:
                    want = [figures.OUTCOME_COLORS[bool(o)] for o, f in zip(outcomes[exp], finite) if f]
                    got = [matplotlib_hex(rgba) for rgba in points.get_facecolors()]
                    assert got == [w.lower() for w in want]
                n_inf = int(np.isinf(arr).sum())
                notes = _by_gid(fig, f"nonfinite:{exp}")
                assert (f"{n_inf} diverged (inf)" in notes[0].get_text()) if n_inf else not notes
            threshold = _by_gid(fig, "threshold")
            if c.metric_threshold is not None:
                assert list(threshold[0].get_ydata()) == [c.metric_threshold] * 2
                lo, hi = ax.get_ylim()
                assert lo <= c.metric_threshold <= hi
            else:
                assert not threshold
        finally:
            figures.close(fig)


def test_input_scaling_figure_is_drawn_from_the_real_claims(rendered, real):
    _, _, a, index = rendered
    samples = claim_samples(real[0].claim("input_scaling_normalized_better"))
    assert set(samples) == set(figures.INPUT_SCALING_LABELS)
    fig = figures.input_scaling_figure(samples)
    try:
        ax = fig.axes[0]
        assert ax.get_ylabel() == "test MSE"
        labels = [t.get_text() for t in ax.get_xticklabels()]
        for i, exp in enumerate(figures.INPUT_SCALING_LABELS):  # the lesson's order and labels
            assert labels[i].startswith(figures.INPUT_SCALING_LABELS[exp])
            (points,) = _by_gid(fig, f"seeds:{exp}")
            np.testing.assert_array_equal(points.get_offsets()[:, 1], samples[exp])
    finally:
        figures.close(fig)
    assert (a / "figures" / "lesson_input_scaling_boxplot.png").exists()
    assert 'data-figure="lesson_input_scaling_boxplot.png"' in index.read_text(encoding="utf-8")


def _forest_rows(claims) -> list[figures.ForestRow]:
    from harness.report.overview import anchors, forest

    rows = []
    real_forest = figures.forest_figure

    def keep(r, title):
        rows.extend(r)
        return real_forest(r, title)

    figures.forest_figure = keep
    try:
        from harness.report.figure_files import Drawn

        forest(anchors(tuple(claims)), Drawn())
    finally:
        figures.forest_figure = real_forest
    return rows


def test_forest_plot_rows_show_each_effect_its_interval_and_threshold(real):
    from harness.report import effect_threshold

    results, _ = real
    rows = _forest_rows(results.claims)
    assert [(r.label, r.verdict, r.effect.value, r.effect.threshold) for r in rows] == [
        (c.id, c.label, c.effect.value, effect_threshold(c)) for c in results.claims]
    assert all(c.effect.value is not None for c in results.claims)
    from harness.report.format import zone_on_abs

    fig = figures.forest_figure(rows, "t")
    try:
        assert len(fig.axes) == len(rows)
        for ax, row in zip(fig.axes, rows):
            n = figures.LABEL_CHARS
            name = row.effect.name if len(row.effect.name) <= n else row.effect.name[:n - 2] + "…"
            assert ax.get_ylabel() == name
            lo, hi = ax.get_xlim()
            colors = figures.VERDICT_COLORS[row.verdict]
            (value,) = [a for a in ax.get_lines() if a.get_gid() == "value"]
            assert list(value.get_xdata()) == [row.effect.value] and lo <= row.effect.value <= hi
            assert matplotlib_hex(value.get_color()) == colors.lower()
            ci = [a for a in ax.get_lines() if a.get_gid() == "ci"]
            if row.effect.ci_low is not None and row.effect.ci_high is not None:
                assert list(ci[0].get_xdata()) == [row.effect.ci_low, row.effect.ci_high]
                assert lo <= row.effect.ci_low and row.effect.ci_high <= hi
            thr = [a for a in ax.get_lines() if a.get_gid() == "threshold"]
            if row.effect.threshold is not None:
                want = [row.effect.threshold, -row.effect.threshold] if zone_on_abs(row.effect) else [row.effect.threshold]
                assert [t.get_xdata()[0] for t in thr] == pytest.approx(want)
                assert all(lo <= x <= hi for x in want)
            zone = [a for a in ax.patches if a.get_gid() == "zone"]
            if row.effect.zone:
                x0, x1 = zone[0].get_x(), zone[0].get_x() + zone[0].get_width()  # an axvspan Rectangle
                assert (x0, x1) == pytest.approx(tuple(row.effect.zone))
        # different kinds of effect get different axes: a rate's [0, 1] is not a ratio's or a difference's
        xlims = {tuple(ax.get_xlim()) for ax in fig.axes}
        assert len(xlims) > 3
    finally:
        figures.close(fig)


def test_learning_curves_plot_each_seeds_history_coloured_by_outcome(real):
    results, all_runs = real
    claim = results.claim("relu15_learns_some_of_the_time")
    exp = claim.experiments[0]
    runs = sorted((r for r in all_runs if r["experiment"] == exp), key=lambda r: r["seed"])
    outcomes = [claim.outcomes[exp][r["seed"]] for r in runs]
    assert len(set(outcomes)) == 2, "pick a claim whose first seeds differ in outcome"
    keys = figures.curve_keys(runs, claim.metric)
    assert keys == ["accuracy", "val_accuracy"]
    fig = figures.curves_figure(runs, keys, "t", outcomes)
    try:
        for ax, key in zip(fig.axes, keys):
            assert ax.get_ylabel() == key and ax.get_xlabel() == "epoch"
            for run, outcome in zip(runs, outcomes):
                (line,) = [a for a in ax.get_lines() if a.get_gid() == f"seed:{run['seed']}"]
                want = np.array(run["history"][key], dtype=float)
                np.testing.assert_array_equal(line.get_ydata(), np.where(np.isfinite(want), want, np.nan))
                np.testing.assert_array_equal(line.get_xdata(), np.arange(1, want.size + 1))
                assert matplotlib_hex(line.get_color()) == figures.OUTCOME_COLORS[outcome].lower()
            lo, hi = ax.get_ylim()
            finite = np.concatenate([np.array(r["history"][key], dtype=float) for r in runs])
            finite = finite[np.isfinite(finite)]
            assert lo <= finite.min() and finite.max() <= hi
    finally:
        figures.close(fig)


def test_learning_curves_without_outcomes_and_with_diverged_seeds(real):
    runs = [r for r in real[1] if r["experiment"] == "reg_unscaled"]
    assert any(not all(math.isfinite(v) for v in r["history"]["loss"]) for r in runs)
    fig = figures.curves_figure(runs, ["loss", "val_loss"], "t")
    try:
        ax = fig.axes[0]
        assert "non-finite" in ax.get_title()
        for run in runs:
            (line,) = [a for a in ax.get_lines() if a.get_gid() == f"seed:{run['seed']}"]
            want = np.array(run["history"]["loss"], dtype=float)
            np.testing.assert_array_equal(line.get_ydata(), np.where(np.isfinite(want), want, np.nan))
    finally:
        figures.close(fig)


def test_lesson_figures_plot_the_lessons_data():
    from harness.training.data import raw_circles, raw_regression

    x, y = raw_regression()
    fig = figures.regression_histograms_figure()
    try:
        for ax, values, label in zip(fig.axes, (x[:, 0], x[:, 1], y), ("Feature 0", "Feature 1", "Output")):
            assert ax.get_ylabel() == label
            heights = [p.get_height() for p in ax.patches]
            counts, _ = np.histogram(values)
            assert heights == list(counts)
    finally:
        figures.close(fig)
    x, y = raw_circles()
    fig = figures.circles_scatter_figure()
    try:
        for k in (0, 1):
            (points,) = _by_gid(fig, f"class:{k}")
            np.testing.assert_array_equal(points.get_offsets(), x[y == k])
    finally:
        figures.close(fig)


# ------------------------------------------------------------------ labels, lesson claims, zones, amendments

NEVER_ACTED = "the 30 clipped runs were bit-identical to the unclipped ones: clipping never acted"
DIVERGED = "2 run(s) diverged: a spread needs finite values"
Z = "2026-11-30"


def _amend(old_verdict: str) -> Amendment:
    return Amendment(date=Z, old_rule=f"old rule of {Z}", new_rule="new rule", reason="why", old_verdict=old_verdict)


def labelled_results() -> tuple[res.Results, list[dict]]:
    """Twelve tests of the fixture made into eight lesson claims under the rules of 2026-11-30: a sentence
    of two parts (one SUPPORTED, one REFUTED: the lesson claim is REFUTED), a setting with a variant that is
    not testable (SUPPORTED: every testable one is), ON THE LINE, NOT TESTABLE HERE, INCONCLUSIVE short of
    seeds, a derived prediction and a duplicate; zone factors near and far; each amendment's old verdict (the
    fixture's own amendments of 2026-11-30 are replaced by these)."""
    results, runs = trimmed_results()
    by_id = {c.id: c for c in results.claims}
    expect_inconclusive = Expectation(verdict=Verdict.INCONCLUSIVE)

    def effect(cid, **changes):
        return dataclasses.replace(by_id[cid].effect, **changes)

    spec = {
        "shallow_tanh_about_80_percent": dict(  # mean in a band: the effect is mean - centre, zone on |.|
            verdict=Verdict.SUPPORTED, zone_factor=1.4, amendments=[_amend("SUPPORTED (mean 0.813)")],
            effect=effect("shallow_tanh_about_80_percent", name="mean test accuracy - 0.8", value=0.006,
                          ci_low=-0.003, ci_high=0.015, threshold=0.05, zone=(0.025, 0.075))),
        "shallow_tanh_slows_around_200": dict(verdict=Verdict.REFUTED, zone_factor=2.0,
                                              sentence="shallow_tanh_about_80_percent",
                                              amendments=[_amend("REFUTED (0/30)")]),
        "relu20_no_longer_learns": dict(verdict=Verdict.INCONCLUSIVE, at_threshold=True, zone_factor=0.7,
                                        expectation=expect_inconclusive,
                                        effect=effect("relu20_no_longer_learns", value=0.106, ci_low=0.08,
                                                      ci_high=0.135),
                                        amendments=[_amend("REFUTED (60/300 learn)"),
                                                    _amend("INCONCLUSIVE on the line (106/1000)")]),
        "clipping_no_general_improvement-clipnorm": dict(verdict=Verdict.SUPPORTED, zone_factor=3.0,
                                                         amendments=[_amend("INCONCLUSIVE (improvement -0.03)")]),
        "clipping_no_general_improvement-clipvalue": dict(
            verdict=Verdict.INCONCLUSIVE, untestable=NEVER_ACTED, p_value=None, expectation=expect_inconclusive,
            effect=effect("clipping_no_general_improvement-clipvalue", value=0.0, ci_low=None, ci_high=None),
            sentence="clipping_no_general_improvement-clipnorm", amendments=[_amend("SUPPORTED (effect 0, p=0)")]),
        "input_scaling_normalized_tighter": dict(
            verdict=Verdict.INCONCLUSIVE, untestable=DIVERGED, p_value=None,
            effect=effect("input_scaling_normalized_tighter", value=None, threshold=1.0, zone=(0.8, 1.25)),
            amendments=[_amend("SUPPORTED (IQR ratio 0.0535)")]),
        "standardized_target_converges": dict(verdict=Verdict.SUPPORTED, zone_factor=5.0,
                                              amendments=[_amend("SUPPORTED (effect 1)")]),
        "standardized_target_rmse_original_units": dict(counts="duplicate", sentence="standardized_target_converges",
                                                        zone_factor=5.0, amendments=[_amend("SUPPORTED (x)")]),
        "standardized_vs_normalized_target": dict(counts="derived", zone_factor=4.0),  # no amendment of Z
        "deep_relu_converges_about_200": dict(verdict=Verdict.REFUTED, zone_factor=1.2,
                                              expectation=Expectation(verdict=Verdict.REFUTED),
                                              effect=effect("deep_relu_converges_about_200", value=0.31,
                                                            ci_low=0.24, ci_high=0.38),
                                              amendments=[_amend("SUPPORTED (575/1000)")]),
        "relu15_learns_some_of_the_time": dict(verdict=Verdict.INCONCLUSIVE, expectation=Expectation(),
                                               seeds_needed=2400, amendments=[_amend("SUPPORTED (8/30)")]),
        "input_scaling_unscaled_vs_standardized_little_difference": dict(
            verdict=Verdict.SUPPORTED, zone_factor=1.2,
            effect=effect("input_scaling_unscaled_vs_standardized_little_difference", value=-0.01, ci_low=-0.04,
                          ci_high=0.014), amendments=[_amend("SUPPORTED (effect -0.0276)")]),
    }
    claims = []
    for cid, changes in spec.items():
        before = tuple(a for a in by_id[cid].amendments if a.date < Z)
        claims.append(dataclasses.replace(by_id[cid], **{**changes, "amendments": before + tuple(
            changes.get("amendments", ()))}))
    exps = {e for c in claims for e in c.experiments}
    variant = res.Variant(path="reports/variants/replayed/x.json", rules=Z, claims={
        "relu20_no_longer_learns": res.VariantClaim(verdict=Verdict.INCONCLUSIVE, at_threshold=True, seeds=1000),
        "deep_relu_converges_about_200": res.VariantClaim(verdict=Verdict.SUPPORTED, seeds=1000),
        # the same verdict, another label: short of seeds here, not testable there
        "relu15_learns_some_of_the_time": res.VariantClaim(verdict=Verdict.INCONCLUSIVE, untestable="no seed learnt",
                                                           seeds=1000)})
    return (dataclasses.replace(results, claims=tuple(claims), variants={"replayed": variant}),
            [r for r in runs if r["experiment"] in exps and r["seed"] < 2])


LABELLED_COUNTS = ("8 claims of the lesson: 3 SUPPORTED, 2 REFUTED, 1 ON THE LINE, 1 NOT TESTABLE HERE, "
                   "1 INCONCLUSIVE (short of seeds); 12 tests (1 derived prediction and 1 duplicate, counted apart)")


class _Tables(html.parser.HTMLParser):
    """Every table of a piece of HTML: rows of cell texts (th or td), and the page's text."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self.tables[-1][-1].append("")
            self._cell = self.tables[-1][-1]

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[-1] += data


def _words(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment))).strip()


def _counts_line(page: str) -> str:
    line = page[page.index('<p id="verdicts">'):]
    line = line[:line.index("</p>")]
    return _words(line[:line.index('<span class="muted small">')] if "muted small" in line else line)


def _part(page: str, anchor: str, end: str = "<h2") -> str:
    """The page from the element with id ``anchor`` to the next ``end``."""
    start = page.index(f'id="{anchor}"')
    return page[start:page.index(end, start + 1)]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    out = tmp_path_factory.mktemp("labelled")
    results, runs = labelled_results()
    return results, write_report(results, runs, out).read_text(encoding="utf-8")


def test_counts_are_of_the_lessons_claims_each_once(labelled):
    from harness.report import counts_text, lesson_claims, lesson_label

    results, page = labelled
    assert _counts_line(page) == LABELLED_COUNTS
    claims = lesson_claims(list(results.claims))
    # a sentence with one REFUTED part is REFUTED, though its first test is SUPPORTED
    assert lesson_label(claims["shallow_tanh_about_80_percent"]) == "REFUTED"
    # a setting whose variant was not testable is decided by the testable one
    assert lesson_label(claims["clipping_no_general_improvement-clipnorm"]) == "SUPPORTED"
    assert "standardized_vs_normalized_target" not in claims and "standardized_target_rmse_original_units" not in \
        sum(([t.id for t in ts] for ts in claims.values()), [])
    assert counts_text(list(results.claims[:1])) == ("1 claim of the lesson: 1 SUPPORTED, 0 REFUTED, 0 ON THE LINE, "
                                                     "0 NOT TESTABLE HERE, 0 INCONCLUSIVE (short of seeds); 1 test")


def test_counts_agree_with_the_results_model(labelled):
    """The report's grouping of tests into lesson claims is the model's, and survives the codec's round trip."""
    from harness.report import lesson_claims, lesson_label

    results, _ = labelled
    back = res.decode(res.encode(results))
    ours = lesson_claims(list(results.claims))
    theirs = back.sentences()
    assert list(ours) == list(theirs)
    assert {k: lesson_label(v) for k, v in ours.items()} == {k: res.sentence_label(v) for k, v in theirs.items()}
    assert [c.label for c in back.claims] == [_label(c) for c in results.claims]


def _label(c: res.ClaimResult) -> str:
    from harness.report import reader_label

    return reader_label(c)


def test_labels_and_tags_in_the_summary_and_sections(labelled):
    results, page = labelled
    parsed = _Page(page)
    labels = [_label(c) for c in results.claims]
    assert parsed.summary_badges == labels
    assert parsed.sections == dict(zip([c.id for c in results.claims], labels))
    assert {"ON THE LINE", "NOT TESTABLE HERE", "INCONCLUSIVE"} <= set(labels)
    rows = {row[0]: row for row in parsed.summary}

    def row(cid):
        return next(r for k, r in rows.items() if k.startswith(cid))

    assert "part of shallow_tanh_about_80_percent" in row("shallow_tanh_slows_around_200")[0]
    assert "counted with its parts: REFUTED" in row("shallow_tanh_about_80_percent")[0]
    assert "part of clipping_no_general_improvement-clipnorm" in row("clipping_no_general_improvement-clipvalue")[0]
    assert "duplicate of standardized_target_converges, counted apart" in \
        row("standardized_target_rmse_original_units")[0]
    assert "derived prediction, counted apart" in row("standardized_vs_normalized_target")[0]
    assert "tag" not in row("deep_relu_converges_about_200")[0] and "counted" not in row("relu20_no_longer_learns")[0]
    # a not-testable claim shows its reason, never its placeholder 0 as an effect
    clipvalue = row("clipping_no_general_improvement-clipvalue")
    assert clipvalue[2] == f"none: {NEVER_ACTED}" and "= 0" not in clipvalue[2]
    section = _part(page, "clipping_no_general_improvement-clipvalue", "</section>")
    assert f"<th>not testable here</th><td>{html_escape(NEVER_ACTED)}" in section
    assert "seeds needed" not in section  # not a matter of seeds
    assert "seeds needed" in _part(page, "relu15_learns_some_of_the_time", "</section>")
    assert "seeds needed" not in _part(page, "relu20_no_longer_learns", "</section>")
    # the expected label where the expectation names one; a verdict-level expectation where it does not
    assert "expected SUPPORTED" in row("relu15_learns_some_of_the_time")[1]
    assert "expected" not in row("relu20_no_longer_learns")[1]  # INCONCLUSIVE expected: ON THE LINE is that
    # a claim whose zone applies to |effect| says so
    assert "vs ±0.1 (zone on |effect| [0.05, 0.15])" in row("input_scaling_unscaled_vs_standardized_little")[2]


def test_an_expected_label_is_held_to_the_label():
    from harness.report import expected_of

    results, _ = labelled_results()
    relu20 = results.claim("relu20_no_longer_learns")
    assert expected_of(relu20) == ("INCONCLUSIVE", False)
    on_the_line = Expectation(verdict=Verdict.INCONCLUSIVE, label="ON THE LINE")
    assert expected_of(dataclasses.replace(relu20, expectation=on_the_line)) == ("ON THE LINE", False)
    short = dataclasses.replace(relu20, at_threshold=False, expectation=on_the_line)
    assert expected_of(short) == ("ON THE LINE", True)  # the same verdict, not the label expected


def test_badges_have_the_figures_colours(labelled):
    from harness.report.format import BADGE_CLASSES
    _, page = labelled
    css = page[page.index("<style>"):page.index("</style>")]
    for lab, cls in BADGE_CLASSES.items():
        assert f".badge.{cls}{{background:{figures.VERDICT_COLORS[lab]}}}" in css
        assert f'<span class="badge {cls}">{lab}</span>' in page
    assert len(set(figures.VERDICT_COLORS.values())) == len(figures.VERDICT_COLORS) == 5


def test_zone_sensitivity_table_lists_the_near_and_the_on_the_line(labelled):
    _, page = labelled
    part = _part(page, "zone-sensitivity")
    assert "zone factor is how far" in part
    (table,) = _Tables(part).tables
    assert table[0] == ["test", "label", "effect [interval]", "zone", "zone factor"]
    assert table[1:] == [
        ["shallow_tanh_about_80_percent", "SUPPORTED", "0.006 [-0.003, 0.015]", "zone on |effect| [0.025, 0.075]",
         "holds for zones up to 1.4x as wide"],
        ["relu20_no_longer_learns", "ON THE LINE", "0.106 [0.08, 0.135]", "zone [0.05, 0.15]",
         "stays on the line for zones at least 0.7x as wide"],
        ["deep_relu_converges_about_200", "REFUTED", "0.31 [0.24, 0.38]", "zone [0.4, 0.6]",
         "holds for zones up to 1.2x as wide"],
        ["input_scaling_unscaled_vs_standardized_little_difference", "SUPPORTED", "-0.01 [-0.04, 0.014]",
         "zone on |effect| [0.05, 0.15]", "holds for zones up to 1.2x as wide"],
    ]  # not: factor 2 or more (2.0, 3.0, 4.0, 5.0), short of seeds, not testable
    assert page.index('id="summary"') < page.index('id="zone-sensitivity"') < page.index('id="how-to-read"')


def test_a_file_without_zone_factors_says_so(tmp_path):
    from harness.report.overview import anchors, zone_sensitivity

    results, _ = trimmed_results()
    claims = tuple(dataclasses.replace(c, zone_factor=None) for c in results.claims)
    assert "carries no zone factors" in section(zone_sensitivity, anchors(claims))


def test_amendment_table_says_which_way_each_label_moved(labelled):
    _, page = labelled
    part = _part(page, "amendment-moves")
    (table,) = _Tables(part).tables
    moves = {r[0]: r[1:] for r in table[1:]}
    assert table[0] == ["test", "before", "now", "moved"]
    assert moves["shallow_tanh_about_80_percent"] == ["SUPPORTED", "SUPPORTED", "unchanged"]
    assert moves["relu20_no_longer_learns"] == ["ON THE LINE", "ON THE LINE", "unchanged"]  # the last of the date
    assert moves["clipping_no_general_improvement-clipnorm"] == ["INCONCLUSIVE", "SUPPORTED", "toward SUPPORTED"]
    assert moves["clipping_no_general_improvement-clipvalue"] == ["SUPPORTED", "NOT TESTABLE HERE",
                                                                  "toward undecided"]
    assert moves["deep_relu_converges_about_200"] == ["SUPPORTED", "REFUTED", "toward REFUTED"]
    assert moves["relu15_learns_some_of_the_time"] == ["SUPPORTED", "INCONCLUSIVE", "toward undecided"]
    assert "standardized_vs_normalized_target" not in moves and len(moves) == 11
    words = _words(part)
    assert ("of 11 tests: 1 toward SUPPORTED, 1 toward REFUTED, 3 toward undecided, 6 unchanged" in words
            and "not amended): standardized_vs_normalized_target" in words)
    # each claim's own list says it too, for every amendment whose old verdict names a label
    section = _words(_part(page, "deep_relu_converges_about_200", "</section>"))
    assert "then SUPPORTED → now REFUTED (toward REFUTED)" in section
    assert "then INCONCLUSIVE → now REFUTED" in section  # its amendment of 2026-11-28
    assert page.index('id="amendment-moves"') < page.index('id="how-to-read"')


def test_old_verdict_words_and_directions():
    from harness.report import direction, old_label

    assert old_label("INCONCLUSIVE on the line (effect 0.106)") == "ON THE LINE"
    assert old_label("INCONCLUSIVE (3/30 learn)") == "INCONCLUSIVE"
    assert old_label("REFUTED (effect 0)") == "REFUTED"
    assert old_label("Under the old rule: 16 SUPPORTED, 2 REFUTED") is None
    assert direction("SUPPORTED", "SUPPORTED") == "unchanged"
    assert direction("REFUTED", "SUPPORTED") == "toward SUPPORTED"
    assert direction("ON THE LINE", "REFUTED") == "toward REFUTED"
    assert direction("SUPPORTED", "ON THE LINE") == "toward undecided"
    assert direction("ON THE LINE", "NOT TESTABLE HERE") == "still undecided"


def test_replayed_order_compares_labels(labelled):
    _, page = labelled
    (table,) = _Tables(_part(page, "replayed-order")).tables
    rows = {r[0]: r for r in table[1:]}
    assert set(rows) == {"relu20_no_longer_learns", "deep_relu_converges_about_200",
                         "relu15_learns_some_of_the_time"}  # only the claims the replayed summary holds
    assert rows["relu20_no_longer_learns"][1] == rows["relu20_no_longer_learns"][4] == "ON THE LINE"
    assert rows["relu20_no_longer_learns"][-1] == "same"
    assert rows["deep_relu_converges_about_200"][-1] == "differs"
    # INCONCLUSIVE both, but short of seeds here and not testable there: a different label
    assert rows["relu15_learns_some_of_the_time"][1:5:3] == ["INCONCLUSIVE", "NOT TESTABLE HERE"]
    assert rows["relu15_learns_some_of_the_time"][-1] == "differs"
    assert "2 of 3 verdicts differ" in _words(_part(page, "replayed-order"))
    section = _words(_part(page, "deep_relu_converges_about_200", "</section>"))
    assert "Under seeded Keras 3's replayed batch order: SUPPORTED" in section and "a different verdict" in section


def test_an_unusable_replayed_summary_says_why():
    from harness.report.overview import anchors, replayed_order

    results, _ = trimmed_results()
    broken = res.Variant(path="x.json", error="decided by other engine code")
    part = section(replayed_order, anchors(results.claims), broken)
    assert "cannot be used: decided by other engine code" in part and "<table" not in part
    assert section(replayed_order, anchors(results.claims), None) == ""


def _forest(results: res.Results):
    from harness.report.figure_files import Drawn
    from harness.report.overview import anchors, forest

    captured = {}
    real_png = figures.png

    def keep(fig):
        captured["fig"] = fig
        return b""

    figures.png = keep
    try:
        forest(anchors(results.claims), Drawn())
    finally:
        figures.png = real_png
    return captured["fig"]


def test_forest_plot_colours_each_label_and_draws_no_interval_where_none_was_tested():
    results, _ = labelled_results()
    fig = _forest(results)
    try:
        (legend,) = fig.legends
        texts = [t.get_text() for t in legend.get_texts()]
        assert texts == ["SUPPORTED", "REFUTED", "ON THE LINE (interval inside the zone)",
                         "NOT TESTABLE HERE (no interval: the reason in its row)", "INCONCLUSIVE (short of seeds)",
                         "threshold", "indifference zone"]
        for handle, lab in zip(legend.legend_handles, figures.VERDICT_COLORS):
            assert matplotlib_hex(handle.get_color()) == figures.VERDICT_COLORS[lab].lower()
        assert len(fig.axes) == len(results.claims)
        for ax, c in zip(fig.axes, results.claims):
            lab = _label(c)
            drawn = {a.get_gid() for a in ax.get_children() if a.get_gid()}
            texts = [t.get_text() for t in ax.texts]
            assert lab in texts  # the label under the claim's name
            if lab == "NOT TESTABLE HERE":
                assert not drawn & {"value", "ci", "threshold", "zone"}  # no fake interval at 0
                (why,) = [t for t in ax.texts if t.get_gid() == "untestable"]
                assert why.get_text().startswith("NOT TESTABLE HERE: " + c.untestable[:40])
                continue
            (value,) = [a for a in ax.get_lines() if a.get_gid() == "value"]
            assert matplotlib_hex(value.get_color()) == figures.VERDICT_COLORS[lab].lower()
        # |effect| in [0.05, 0.15]: the zone on both sides of 0, the threshold at +-0.1
        ax = fig.axes[[c.id for c in results.claims].index("input_scaling_unscaled_vs_standardized_little_difference")]
        zones = sorted((round(z.get_x(), 6), round(z.get_x() + z.get_width(), 6))
                       for z in ax.patches if z.get_gid() == "zone")
        assert zones == [(-0.15, -0.05), (0.05, 0.15)]
        thresholds = sorted(a.get_xdata()[0] for a in ax.get_lines() if a.get_gid() == "threshold")
        assert thresholds == pytest.approx([-0.1, 0.1])
    finally:
        figures.close(fig)


def test_terminal_summary_counts_the_lessons_claims():
    from harness.pytest_plugin import summary_lines

    results, _ = labelled_results()
    lines = summary_lines(list(results.claims))
    assert len(lines) == len(results.claims)
    by_id = dict(zip((c.id for c in results.claims), lines))
    assert by_id["relu20_no_longer_learns"].startswith("ON THE LINE       relu20_no_longer_learns  (")
    assert by_id["clipping_no_general_improvement-clipvalue"].startswith(
        "NOT TESTABLE HERE clipping_no_general_improvement-clipvalue  (no test,")
    assert by_id["shallow_tanh_slows_around_200"].endswith("[part of shallow_tanh_about_80_percent]")
    assert by_id["standardized_vs_normalized_target"].endswith("[derived prediction, counted apart]")
    assert by_id["relu15_learns_some_of_the_time"].endswith("(expected SUPPORTED)")
    assert "expected" not in by_id["relu20_no_longer_learns"]


def test_compare_matrix_shows_labels():
    from harness.report import compare

    def column(fp, tf, **claim):
        env = res.Environment(fingerprint=fp, tensorflow=tf, keras="3", device="cpu")
        c = res.ClaimResult(id="c", section="1", metric="m", **claim)
        return compare.Column(fp, res.Results(claims=(c,), environment=env, rules=RULES))

    (row,) = compare.matrix([column("a", "2.15", verdict=Verdict.INCONCLUSIVE),
                             column("b", "2.21", verdict=Verdict.INCONCLUSIVE, at_threshold=True)])
    first, second = row.cells
    assert (first.claim.label, second.claim.label) == ("INCONCLUSIVE", "ON THE LINE")
    assert second.changed  # short of seeds there, on the line here


# ------------------------------------------------------------------ the templates escape every value


def test_the_template_environment_escapes_every_value_and_refuses_a_missing_name():
    import jinja2

    from harness.report.render import ENV

    assert ENV.autoescape is True and ENV.undefined is jinja2.StrictUndefined
    assert ENV.from_string("<p>{{ x }}</p>").render(x="<b>a & 'b'</b>") == "<p>&lt;b&gt;a &amp; &#39;b&#39;&lt;/b&gt;</p>"
    with pytest.raises(jinja2.UndefinedError):
        ENV.from_string("{{ nowhere }}").render()
    with pytest.raises(jinja2.UndefinedError):  # a misspelt field of a section's values, too
        ENV.from_string("{{ row.nowhere }}").render(row={"id": "a"})
    for name in ENV.list_templates():  # every template of the page compiles
        ENV.get_template(name)
    assert {"index.html", "macros.html", "style.css"} <= set(ENV.list_templates())


def test_a_value_with_html_in_it_is_shown_as_text_never_as_markup():
    from harness.report.page import render_page

    results, runs = _one_claim("input_scaling_normalized_better")
    evil = "<script>alert('x')</script> & <b>bold</b>"
    claim = dataclasses.replace(results.claims[0], quote=evil, interpretation=evil, detail=evil,
                                findings=(evil,), test=evil)
    page, _ = render_page(dataclasses.replace(results, claims=(claim,), notes=(evil,)), runs)
    assert "<script" not in page and "<b>bold</b>" not in page
    shown = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    assert page.count(shown) >= 7  # quote, interpretation, detail, test (summary and facts), findings twice, notes
    assert f"<blockquote>{shown}<br>" in page and f"<li>{shown}</li>" in page


# ------------------------------------------------------------------ small pieces


def html_escape(s: str) -> str:
    """``s`` as the page's templates escape it (markupsafe, as Jinja2's autoescape)."""
    from markupsafe import escape

    return str(escape(s))


def matplotlib_hex(color) -> str:
    from matplotlib.colors import to_hex

    return to_hex(color).lower()


def test_formatting():
    assert fmt_p(3.2e-05) == "3.2e-05"
    assert fmt_p(0.041) == "0.041"
    assert fmt_p(3e-9) == "< 1e-6"
    assert fmt_p(math.nan) == "NaN" and fmt_p(None) == "—"
    assert fmt_num(math.inf) == "inf" and fmt_num(-math.inf) == "-inf" and fmt_num(math.nan) == "NaN"


def test_nan_majority_epoch_has_infinite_median():
    nan = math.nan
    series = [np.array([1.0, nan, nan]), np.array([1.0, 2.0, nan]), np.array([1.0, 0.5, 0.4])]
    q25, med, q75 = figures._epoch_bands(series)
    assert med[0] == 1.0 and med[1] == 2.0  # a NaN ranks as the worst value, never dropped
    assert math.isinf(med[2]) and math.isinf(q25[2])  # a NaN-majority epoch is not drawn
    # a run stopped on NaN stays non-finite afterwards; a merely shorter run is absent
    ones = np.ones(3)
    q25, med, q75 = figures._epoch_bands([ones, ones, np.array([3.0, nan]), np.array([2.0])])
    assert med[2] == 1.0 and math.isinf(q75[2])  # 3 values at epoch 3: 1, 1, +inf


def test_render_from_json_rejects_non_results_and_writes_nothing(rendered, tmp_path):
    _, _, a, _ = rendered
    good = (a / "results.json").read_text(encoding="utf-8")
    truncated = tmp_path / "truncated.json"
    truncated.write_text(good[: len(good) // 2], encoding="utf-8")
    with pytest.raises(res.ResultsError, match="truncated.json"):
        render_from_json(truncated)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(records.dumps({"schema": "something/else/9", "claims": []}), encoding="utf-8")
    with pytest.raises(res.ResultsError, match="wrong.json.*something/else/9"):
        render_from_json(wrong)
    missing = tmp_path / "noschema.json"
    missing.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(res.ResultsError, match="noschema.json"):
        render_from_json(missing)
    # a field of the wrong type: the file, the field and the type expected
    data = records.loads(good)
    data["claims"][1]["p_value"] = "small"
    typed = tmp_path / "typed.json"
    typed.write_text(records.dumps(data), encoding="utf-8")
    with pytest.raises(res.ResultsError,
                       match=r"typed\.json: claim 'unscaled_target_nan': p_value: .*expected a number"):
        render_from_json(typed)
    assert not (tmp_path / "index.html").exists() and not (tmp_path / "figures").exists()


def _certificate() -> res.CertificateSummary:
    widths = {"a": 10, "reg_unscaled_clipvalue": 2}
    return res.CertificateSummary(
        path="reports/certificates/x.json", fingerprint="fp", created="2026-11-30", code_digest="ab" * 32,
        digest_scheme="logical-modules/1", batch_order="lesson", seeds=(0, 1, 2), later_seeds=(64, 199, 649),
        window_epochs=widths,
        plan=res.CertificatePlan(windows=res.WindowPlan(
            trajectory_seeds=(0, 1, 2), later_seeds=(64, 199, 649), later_fractions=(0.2, 0.4, 0.6, 0.8),
            window_epochs=widths, rtol=1e-4, accuracy_tolerance="one sample")),
        checks=(res.EquivalenceCheck("a", "window", passed=True), res.EquivalenceCheck("b", "window", passed=False)),
        seed_independence=res.SeedIndependence(
            compared_with="the same seeds trained among 30", batch_sizes=(10, 1000), bit_identical_everywhere=False,
            by_experiment={"a": {"10": res.IndependenceRow(10, True, 0.0, 0.0)},
                           "b": {"1000": res.IndependenceRow(1000, False, 1e-9, 3e-7)}},
            verdicts_on_seeds_0_29={"c1": {"30": "SUPPORTED", "1000": "SUPPORTED", "same": True},
                                    "c2": {"30": "SUPPORTED", "1000": "REFUTED", "same": False}}),
        cost=res.CertificationCost(keras_core_seconds=9060, keras_core_seconds_by_experiment={},
                                   certify_wall_seconds=380, workers=2))


def test_certificate_and_mutants_sections_say_what_they_measured():
    from harness.report.engine import certificate_section, mutants_section

    page = section(certificate_section, _certificate())
    assert "1/2 checks of the batched engine passed" in page
    assert "<code>abababababababab</code> (logical-modules/1)" in page
    assert "<dt>batch order</dt><dd>lesson</dd>" in page
    assert "10 epochs each (other: reg_unscaled_clipvalue 2), tiling every epoch of seeds [0, 1, 2]" in page
    assert "[0.2, 0.4, 0.6, 0.8] of the run for the later looks&#39; seeds [64, 199, 649]" in page
    assert "relative tolerance 0.0001" in page and "chaos envelope" not in page  # this plan measured none
    assert "151 core-minutes" in page and "6.3 min on 2 workers" in page
    assert "bit-identical among 30 and among 10 or 1000 seeds on 1 of 2 configurations" in page
    assert "3e-07 (b)" in page and "DIFFERENT for c2" in page
    enveloped = dataclasses.replace(_certificate(), plan=res.CertificatePlan(windows=dataclasses.replace(
        _certificate().plan.windows, envelope=res.Envelope(perturbations=8, relative_nudge=2.4e-7, factor=10.0))))
    assert "or 10.0x the window&#39;s chaos envelope (how far 8 nudges" in section(certificate_section, enveloped)
    page = section(mutants_section, res.MutantsRun(environment="fp", certificate="x.json", mutants=(
        res.MutantResult("late_m1", "d1", late=True, killed=True, check="window", configuration="a", seed=1,
                         checkpoint=20, epoch=21, key="loss", detail="x"),
        res.MutantResult("m2", "d2", killed=False, detail="passed every window"))))
    assert "killed: 1, survived: 1" in page and "<strong>SURVIVED</strong>" in page
    assert "<th>seed</th><th>checkpoint</th>" in page
    assert "<td>window</td><td>a</td><td>1</td><td>20</td><td>21</td>" in page
    assert "<td>m2</td><td>d2</td><td><strong>SURVIVED</strong></td><td>—</td>" in page


def test_equivalence_section_shows_the_windows():
    from harness.report.engine import equivalence_section

    row = res.EquivalenceCheck("reg_target_standard", "window", passed=True, windows=42, window_epochs=10,
                               detail="reg_target_standard: 42 windows of 10 epochs agree")
    page = section(equivalence_section, (row,))
    assert "<th>windows</th><th>epochs each</th>" in page
    assert "<td>reg_target_standard</td><td>window</td><td>42</td><td>10</td>" in page
    assert "42 windows of 10 epochs agree" in page
    skipped = res.EquivalenceCheck("circles_relu20", "continuity", passed=True, ran=False, windows=0, window_epochs=10,
                                   detail="circles_relu20: continuity check not run: chaotic training")
    page = section(equivalence_section, (row, skipped))
    not_run = page[page.index("<td>circles_relu20</td>"):]
    assert "not run" in not_run[:400] and "PASS" not in not_run[:400]  # a check not run never shows as passed
    assert "No engine equivalence checks" in section(equivalence_section, ())


def test_report_without_certificate_or_mutants_says_so():
    from harness.report.engine import certificate_section, mutants_section

    assert "No certificate in this results file" in section(certificate_section, None)
    assert "python -m harness mutants" in section(mutants_section, None)


def test_real_certificate_section_renders(real):
    from harness.report.engine import certificate_section

    results, _ = real
    page = section(certificate_section, results.certificate)
    assert re.search(r"\d+/\d+ checks of the batched engine passed", page)
    assert "every seed&#39;s run is bit-identical" in page and "chaos envelope" in page


def test_design_drift_environment_and_notes_sections(real):
    from harness.report.about_run import design_section, drift_section, environment_section, notes_section

    results, _ = real
    design = section(design_section, results.design)
    assert "Sequential looks at 30, 100, 300, 1000 seeds" in design and "alpha = 0.00125" in design
    assert design.count('class="amendment"') == len(results.design.amendments) > 0
    assert section(design_section, None) == ""
    assert section(drift_section, ()) == ""  # no baseline in this run
    drifted = res.DriftResult(claim="c", drifted=True, message="moved", experiment="e")
    assert '<span class="badge bad">FAIL</span>' in section(drift_section, (drifted,))
    env = section(environment_section, results.schema, results.suite_version, results.environment)
    assert f"<th>fingerprint</th><td>{results.environment.fingerprint}</td>" in env
    assert "<th>determinism</th><td>{&#34;op_determinism&#34;: true" in env
    assert "None." in section(notes_section, ()) and "<li>a &amp; b</li>" in section(notes_section, ("a & b",))


if __name__ == "__main__":
    make_fixture(Path(sys.argv[1]))
    print(FIXTURE, FIXTURE.stat().st_size)
