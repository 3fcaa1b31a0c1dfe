"""The TensorFlow matrix: cell records, which cells are neighbours, and why neighbours differ."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from harness import results as res
from harness.spec import RULES, Verdict
from harness.maintainer import cells
from harness.report import compare


def _claim(cid="c", verdict=Verdict.SUPPORTED, values=(0.8,) * 30, experiments=("x",)):
    return res.ClaimResult(id=cid, verdict=verdict, metric="m", experiments=experiments,
                           metric_samples={e: list(values) for e in experiments}, seeds=len(values))


def _cell(env, *claims, status="decided", rules=RULES, cert=None):
    summary = res.Results(claims=tuple(claims), environment=res.Environment(fingerprint=f"fp-{env}"),
                          rules=rules) if status == "decided" else None
    return res.Cell(env=env, status=status, summary=summary, certificate=cert,
                    reason="" if status == "decided" else "install failed: no matching distribution")


class FakeCertificate:
    """The two parts of a certificate the explanation reads: epoch-0 states and the Keras references."""

    def __init__(self, init: dict[int, str], losses: dict[int, list[float]]):
        self.data = {"experiments": {"x": {"windows": [{"seed": s, "epoch": 0, "source": "keras", "state": st}
                                                       for s, st in init.items()]}}}
        self._losses = losses

    def runs(self, name):
        return [SimpleNamespace(seed=s, history={"loss": v}) for s, v in self._losses.items()]


LOSS = [1.0, 0.5, 0.25, 0.2, math.nan]


@pytest.mark.parametrize("init_r, loss_r, kind, words", [
    ({0: "A", 1: "B"}, {0: LOSS, 1: LOSS}, "identical", "bit-identical losses over every epoch"),
    ({0: "A", 1: "Z"}, {0: LOSS, 1: LOSS}, "behaviour", "initial weights differ (seeds [1])"),
    ({0: "A", 1: "B"}, {0: [1.1] + LOSS[1:], 1: LOSS}, "behaviour", "differ from the first epoch"),
    ({0: "A", 1: "B"}, {0: LOSS[:3] + [0.21, math.nan], 1: LOSS}, "numerics", "seed 0: epoch 4, seed 1: never"),
    # a first epoch off by an ulp is another kernel's rounding, not another training step
    ({0: "A", 1: "B"}, {0: [1.0 + 1e-7] + LOSS[1:], 1: LOSS}, "numerics", "by 1.0e-07 relative in the first epoch"),
])
def test_trajectory_evidence_tells_behaviour_from_numerics(init_r, loss_r, kind, words):
    left = FakeCertificate({0: "A", 1: "B"}, {0: LOSS, 1: LOSS})
    got_kind, sentence = cells.trajectory_evidence(left, FakeCertificate(init_r, loss_r), "x")
    assert got_kind == kind and words in sentence


def test_neighbours_differ_in_one_thing():
    found = [_cell(e) for e in ("py311-tf215-k2-cpu", "py311-tf216-k2-cpu", "py311-tf216-k3-cpu",
                                "py311-tf217-k3-cpu", "py311-tf220-k3-cpu", "py311-tf221-k3new-cpu")]
    found.append(_cell("py311-tf217-k2-cpu", status="not run"))  # never a neighbour
    found.append(_cell("py311-tf218-k3-cpu", _claim(), rules="2026-11-28"))  # other rules: never compared
    pairs = {(a.env, b.env) for a, b in cells.neighbour_pairs(found)}
    assert pairs == {("py311-tf215-k2-cpu", "py311-tf216-k2-cpu"), ("py311-tf216-k3-cpu", "py311-tf217-k3-cpu"),
                     ("py311-tf217-k3-cpu", "py311-tf220-k3-cpu"), ("py311-tf216-k2-cpu", "py311-tf216-k3-cpu"),
                     ("py311-tf220-k3-cpu", "py311-tf221-k3new-cpu")}  # a missing cell is skipped over


def test_explain_says_nothing_when_neighbours_agree_and_names_a_real_difference(monkeypatch):
    same = (_cell("py311-tf215-k2-cpu", _claim(), cert="a"), _cell("py311-tf216-k2-cpu", _claim(), cert="b"))
    assert cells.explain(*same, "c") is None  # must say no: same label, same metric
    certs = {"a": FakeCertificate({0: "A"}, {0: LOSS}), "b": FakeCertificate({0: "A"}, {0: LOSS[:2] + [0.3] * 3})}
    monkeypatch.setattr(cells.certlib, "read_for_comparison", lambda path: certs[path.name])
    moved = _cell("py311-tf216-k2-cpu", _claim(verdict=Verdict.INCONCLUSIVE, values=[0.4 + i / 100 for i in range(30)]),
                  cert="b")
    d = cells.explain(same[0], moved, "c")
    assert d.kind == "numerics" and "label SUPPORTED -> INCONCLUSIVE" in d.what and "metric moved" in d.what
    assert "seed 0: epoch 3" in d.evidence[0]
    # a label flip while the metric stays put is chance, with the drift numbers as its evidence
    flip = _cell("py311-tf216-k2-cpu", _claim(verdict=Verdict.INCONCLUSIVE), cert="a")
    certs["a"] = FakeCertificate({0: "A"}, {0: LOSS})
    d = cells.explain(same[0], flip, "c")
    assert d.kind == "chance" and "did not move beyond the drift tolerance" in d.evidence[-1]


def test_a_cell_record_round_trips_and_knows_when_it_is_stale(tmp_path):
    from harness.training import provenance
    from harness.version import __version__

    summary = res.Results(claims=(_claim(),), rules=RULES, suite_version=__version__,
                          environment=res.Environment(fingerprint="fp", code_digest=provenance.record_digest("batched")))
    cell = res.Cell(env="py311-tf216-k3-cpu", status="decided", summary=summary, certify_seconds=1200.0)
    back = res.as_type(res.Cell, res.to_data(cell), "cell")
    assert back == cell and cells.current(back)
    assert not cells.current(res.Cell(env="e", status="decided", summary=res.Results(
        claims=summary.claims, rules="2026-11-28", suite_version=__version__, environment=summary.environment)))
    assert not cells.current(res.Cell(env="e", status="not run", reason="install failed"))
    with pytest.raises(ValueError, match="status 'maybe'"):
        res.Cell(env="e", status="maybe")


def test_the_matrix_shows_cells_not_run_with_their_reason_and_the_differences(tmp_path):
    found = [_cell("py311-tf215-k2-cpu", _claim()), _cell("py311-tf216-k2-cpu", status="not run")]
    diff = res.Difference(claim="c", left="py311-tf215-k2-cpu", right="py311-tf216-k2-cpu", what="label",
                          kind="numerics", evidence=("x: bit-identical losses until seed 0: epoch 9",))
    html = compare.render([compare.Column.of(c) for c in found], tmp_path, [diff]).read_text()
    assert "Cells not decided" in html and "install failed: no matching distribution" in html
    assert "Why neighbours differ" in html and "bit-identical losses until seed 0: epoch 9" in html


def test_install_failure_reason_keeps_the_installers_words():
    log = "collecting\nERROR: Could not find a version that satisfies the requirement tensorflow-cpu==2.12.*\n" \
          "ERROR: No matching distribution found for tensorflow-cpu==2.12.*\n  py311: exit 1"
    assert "No matching distribution found for tensorflow-cpu==2.12.*" in cells._tail(log)


def test_cells_order_follows_tf_then_keras():
    envs = ["py311-tf221-k3new-cpu", "py311-tf216-k3-cpu", "py311-tf216-k2-cpu", "py311-tf212-k2-cpu"]
    assert sorted(envs, key=cells.order_key) == ["py311-tf212-k2-cpu", "py311-tf216-k2-cpu", "py311-tf216-k3-cpu",
                                                 "py311-tf221-k3new-cpu"]


def test_neighbours_compared_configuration_by_configuration(monkeypatch):
    class Two(FakeCertificate):
        def __init__(self, losses_x, init_y="A"):
            super().__init__({0: "A"}, {0: losses_x})
            self.data["experiments"]["y"] = {"windows": [{"seed": 0, "epoch": 0, "source": "keras", "state": init_y}]}

        def runs(self, name):
            return super().runs(name) if name == "x" else [SimpleNamespace(seed=0, history={"loss": LOSS})]

    certs = {"a": Two(LOSS), "b": Two(LOSS[:3] + [0.5, 0.5], init_y="Z")}
    monkeypatch.setattr(cells.certlib, "read_for_comparison", lambda path: certs[path.name])
    pair = cells.compare_pair(_cell("py311-tf215-k2-cpu", cert="a"), _cell("py311-tf216-k2-cpu", cert="b"))
    assert (pair.identical, pair.numerics, pair.behaviour, pair.first_parting) == ((), ("x",), ("y",), (4, 4))
    monkeypatch.setattr(cells.certlib, "read_for_comparison",
                        lambda path: (_ for _ in ()).throw(cells.certlib.CertificateError("checksum")))
    assert "checksum" in cells.compare_pair(_cell("a", cert="a"), _cell("b", cert="b")).unknown


def test_a_cell_record_is_a_baseline_when_decided(tmp_path):
    from harness.results import summaries
    from harness.version import __version__

    summary = res.Results(claims=(_claim(),), rules=RULES, suite_version=__version__,
                          environment=res.Environment(fingerprint="fp"))
    decided = tmp_path / "decided.json"
    decided.write_text(res.encode(res.Cell(env="py311-tf220-k3-cpu", status="decided", summary=summary)))
    assert summaries.load(decided).claims[0].metric_samples == {"x": [0.8] * 30}
    failed = tmp_path / "failed.json"
    failed.write_text(res.encode(res.Cell(env="py311-tf215-k2-cpu", status="certification failed",
                                          reason="circles_relu20: FAILED")))
    with pytest.raises(summaries.SummaryError, match="cell py311-tf215-k2-cpu was not decided"):
        summaries.load(failed)


def test_a_record_with_diverged_runs_reads_back(tmp_path, monkeypatch):
    """NaN and inf per-seed values (diverged runs) are counted, never dropped: they survive the record."""
    monkeypatch.setattr(cells, "CELLS_DIR", tmp_path)
    cell = _cell("py311-tf216-k3-cpu", _claim(values=[math.inf, math.nan, 0.5]))
    path = tmp_path / "py311-tf216-k3-cpu.json"
    path.write_text(res.encode(cell))
    back = cells.load(path).summary.claims[0].metric_samples["x"]
    assert back[0] == math.inf and math.isnan(back[1]) and back[2] == 0.5
    assert [c.env for c in cells.load_all(tmp_path)] == ["py311-tf216-k3-cpu"]


def test_the_committed_extracts_compare_but_never_certify():
    """A cell's committed extract holds the Keras references and the initial states, with its own checksum;
    it is read for comparison, refused as a certificate, and a changed byte is caught."""
    from harness.certification import certificate as certlib
    from harness.training import environment

    path = cells.ROOT / "reports" / "cells" / "py311-tf220-k3-cpu.references.json.gz"
    cert = certlib.read_for_comparison(path)
    assert {w["epoch"] for e in cert.data["experiments"].values() for w in e["windows"]} == {0}
    assert len(cert.runs("circles_relu20")) == 3 and cert.data["extract_of"] != cert.data["sha256"]
    with pytest.raises(certlib.CertificateError, match="comparison extract"):
        certlib.load(path, {**environment.describe(), "fingerprint": cert.data["environment"]["fingerprint"]})


def test_a_tampered_extract_is_never_used(tmp_path):
    import gzip
    import json

    from harness.certification import certificate as certlib

    data = json.loads(gzip.decompress((cells.ROOT / "reports" / "cells" / "py311-tf220-k3-cpu.references.json.gz")
                                      .read_bytes()))
    data["experiments"]["reg_unscaled"]["windows"][0]["state"] = "AAAA"
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(certlib.CertificateError, match="checksum"):
        certlib.read_for_comparison(bad)


def test_the_readme_table_puts_keras_2_first_and_marks_what_differs_from_its_left(tmp_path):
    from harness.maintainer import readme

    def write(cell, tf, keras):
        cell = res.Cell(env=cell.env, status=cell.status, summary=cell.summary, reason=cell.reason,
                        tensorflow=tf, keras=keras)
        (tmp_path / f"{cell.env}.json").write_text(res.encode(cell))

    write(_cell("py311-tf218-k3-cpu", _claim(verdict=Verdict.REFUTED)), "2.18.1", "3.6.0")
    write(_cell("py311-tf219-k3-cpu", _claim()), "2.19.1", "3.9.0")
    write(_cell("py311-tf221-k2-cpu", _claim()), "2.21.0", "2.21.0")
    write(_cell("py311-tf216-k2-cpu", status="certification failed"), "2.16.2", "2.16.0")
    text = readme.cells_table(tmp_path)
    head = next(line for line in text.splitlines() if line.startswith("| claim"))
    assert head.index("tf-keras 2.21.0") < head.index("Keras 3.6.0")  # the Keras 2 chain first
    row = next(line for line in text.splitlines() if line.startswith("| c |"))
    cells_ = [x.strip() for x in row.strip("|").split("|")]
    assert cells_[1] == "30" and cells_[2].startswith("S ")
    assert cells_[3].startswith("R ")  # the first cell of the Keras 3 line: no left neighbour to differ from
    assert cells_[4].startswith("**S ")  # differs from TF 2.18 on its line
    assert "- `py311-tf216-k2-cpu`: CERTIFICATION FAILED: install failed" in text
    assert "- `py311-tf212-k2-cpu`: not run yet" in text
    assert "Columns, left to right: `py311-tf221-k2-cpu`, `py311-tf218-k3-cpu`, `py311-tf219-k3-cpu`." in text


def test_a_certification_failure_says_how_many_checks_failed_first():
    log = ("checking\n  a: FAILED (42 windows)\nchecks: 1 passed, 15 failed\n  FAILED a: window check failed at seed 0"
           "\n  FAILED b: window check failed at seed 1\nwrote cert.json")
    reason = cells._tail(log)
    assert reason.startswith("checks: 1 passed, 15 failed | ") and reason.endswith("FAILED b: window check failed at seed 1")


def test_every_committed_cell_has_the_extract_it_names():
    """A cell record that names its certificate's extract is committed with it, and the extract verifies."""
    from harness.certification import certificate as certlib

    named = [c for c in cells.load_all() if c.certificate]
    assert named
    for c in named:
        path = cells.ROOT / c.certificate
        assert path.is_file(), f"{c.env}: {c.certificate} is not committed"
        assert certlib.read_for_comparison(path).data["environment"]["fingerprint"] == c.fingerprint


class Checkpointed(FakeCertificate):
    """A certificate with Keras' training state at every checkpoint (an extract's ``state_digests``)."""

    def __init__(self, losses, digests, init="A"):
        super().__init__({0: init}, {0: losses})
        self.data["experiments"]["x"]["state_digests"] = [[0, e, d] for e, d in digests]


STATES = [(0, "s0"), (2, "s2"), (4, "s4")]


@pytest.mark.parametrize("right, kind", [
    # every weight and momentum the same, the History not: how Keras reports the loss
    (Checkpointed([1.1] + LOSS[1:], STATES), "reporting"),
    # must say no: one checkpoint's state differs, so the training itself changed
    (Checkpointed([1.1] + LOSS[1:], STATES[:2] + [(4, "other")]), "behaviour"),
    # must say no: only the initial states are known (an older extract), so nothing says the training is the same
    (Checkpointed([1.1] + LOSS[1:], STATES[:1]), "behaviour"),
    # same states and same losses: identical, not reporting
    (Checkpointed(LOSS, STATES), "identical"),
])
def test_trajectory_evidence_tells_reporting_from_training(right, kind):
    got, sentence = cells.trajectory_evidence(Checkpointed(LOSS, STATES), right, "x")
    assert got == kind
    if kind == "reporting":
        assert "bit-identical weights and momentum at all 3 checkpoints" in sentence and "seed 0: epoch 1" in sentence


def test_an_extract_keeps_a_digest_of_every_keras_checkpoint():
    from harness.certification import certificate as certlib

    full = {"schema": certlib.SCHEMA, "experiments": {"x": {"windows": [
        {"seed": 0, "epoch": e, "source": "keras", "state": f"S{e}"} for e in (0, 5, 10)]
        + [{"seed": 64, "epoch": 5, "source": "batched", "state": "B"}]}}}
    full["sha256"] = certlib.checksum(full)
    ext = certlib.comparison_extract(full)
    assert ext["sha256"] == certlib.checksum(ext) and ext["extract_of"] == full["sha256"]
    assert [w["epoch"] for w in ext["experiments"]["x"]["windows"]] == [0]
    digests = ext["experiments"]["x"]["state_digests"]
    assert [(s, e) for s, e, _ in digests] == [(0, 0), (0, 5), (0, 10)]  # Keras' own states only
    assert digests == certlib.state_digests(full["experiments"]["x"])  # the same from the full certificate
    assert len({d for _, _, d in digests}) == 3


def test_a_failed_certification_is_compared_with_the_nearest_decided_cell_on_its_line():
    found = [_cell("py311-tf216-k2-cpu", cert="a"), _cell("py311-tf217-k3-cpu", cert="b"),
             _cell("py311-tf221-k3new-cpu", cert="c"), _cell("py311-tf216-k3-cpu", status="certification failed",
                                                             cert="d"),
             _cell("py311-tf222-k3-cpu", status="certification failed", cert="e"),
             _cell("py311-tf215-k2-cpu", status="certification failed")]  # no certificate: nothing to compare
    got = [(a.env, b.env) for a, b in cells.failed_pairs(found)]
    assert got == [("py311-tf216-k3-cpu", "py311-tf217-k3-cpu"), ("py311-tf222-k3-cpu", "py311-tf221-k3new-cpu")]
    line = cells.pair_sentence(res.Neighbours("py311-tf216-k3-cpu", "py311-tf217-k3-cpu", identical=("a",),
                                              reporting=("b", "c")))
    assert "2 train bit-identically at every checkpoint" in line and "1 identical" in line
    assert "behaviour" not in line and "numerics" not in line


def test_the_matrix_explains_a_failed_certification_with_its_neighbour(tmp_path):
    failed = res.Cell(env="py311-tf216-k3-cpu", status="certification failed", certificate="d",
                      reason="checks: 1 passed, 15 failed | FAILED x: window check failed | FAILED y: too many")
    found = [_cell("py311-tf217-k3-cpu", _claim()), failed]
    pair = res.Neighbours("py311-tf216-k3-cpu", "py311-tf217-k3-cpu", identical=("a",), reporting=("b", "c"))
    html = compare.render([compare.Column.of(c) for c in found], tmp_path, [], [pair]).read_text()
    assert "certification failed</b>: checks: 1 passed, 15 failed. Against py311-tf217-k3-cpu" in html
    assert "2 reporting, 1 identical" in html and "numerics" not in html.split("Cells not decided")[1].split("</li>")[0]
    assert "<li>FAILED y: too many</li>" in html  # every failure kept, folded


def _effect_claim(cid, verdict=Verdict.SUPPORTED, value=0.9, p=0.003, seeds=30):
    return res.ClaimResult(id=cid, verdict=verdict, metric="m", experiments=("x",), p_value=p,
                           metric_samples={"x": [0.8] * seeds}, seeds=seeds,
                           effect=res.Effect(name="rate", value=value, ci_low=value - 0.1, ci_high=value + 0.05))


def test_the_matrix_grid_shows_labels_as_colour_and_effects_only_where_they_differ(tmp_path):
    from harness.report.format import BADGE_CLASSES

    hostile = 'c<script>alert("x")</script>&'
    found = [_cell("py311-tf215-k2-cpu", _effect_claim(hostile), _effect_claim("d", Verdict.REFUTED, -0.2)),
             _cell("py311-tf216-k2-cpu", _effect_claim(hostile), _effect_claim("d", Verdict.INCONCLUSIVE, -0.3)),
             _cell("py311-tf217-k2-cpu", _effect_claim(hostile, value=0.5, p=0.2, seeds=100)),
             _cell("py311-tf216-k3-cpu", _effect_claim(hostile, value=0.5)),  # the Keras 3 line's first cell
             _cell("py311-tf217-k3-cpu", _effect_claim(hostile, Verdict.REFUTED, value=0.5))]
    columns = [compare.Column.of(c) for c in found]
    columns = sorted(columns, key=lambda c: c.chain == "k3")
    rows = compare.matrix(columns)
    by_id = {r.id: r for r in compare.grid(columns, rows)}
    c, d = by_id[hostile].cells, by_id["d"].cells
    assert [x.css.split()[0] for x in c] == [BADGE_CLASSES[x] for x in
                                            ("SUPPORTED", "SUPPORTED", "SUPPORTED", "SUPPORTED", "REFUTED")]
    assert [x.css.split()[0] for x in d[:2]] == [BADGE_CLASSES["REFUTED"], BADGE_CLASSES["INCONCLUSIVE"]]
    assert d[2].css == "missing" and "not in this summary" in d[2].title
    # the first cell of each line gives its effect; the others only where theirs differs from it
    assert [x.text for x in c] == ["0.9", "", "0.5", "0.5", ""]
    assert "differs" in c[2].css and "differs" not in c[1].css + c[3].css + c[4].css
    assert [x.text for x in d] == ["-0.2", "-0.3", "", "", ""]
    # the numbers on hover: label, effect with interval, p-value, seeds
    assert "2.17 k2 (py311-tf217-k2-cpu): SUPPORTED; effect 0.5 [0.4, 0.55]; p = 0.2; 100 seeds" in c[2].title
    assert [compare.short_name(col) for col in columns] == ["2.15 k2", "2.16 k2", "2.17 k2", "2.16 k3", "2.17 k3"]

    page = compare.render(columns, tmp_path, [], []).read_text()
    grid_html = page.split('<table class="grid">')[1].split("</table>")[0]
    assert "<script>" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;" in grid_html
    assert 'title="2.17 k2 (py311-tf217-k2-cpu): SUPPORTED; effect 0.5 [0.4, 0.55]; p = 0.2; 100 seeds' in grid_html
    assert grid_html.count('class="ok"') == 3 and grid_html.count('class="ok differs"') == 1  # 2.17 k2's 0.5
    assert '<th colspan="3">Keras 2</th><th colspan="2">Keras 3</th>' in grid_html
    # every number again in the full table: the cells that share a result on one row
    full = page.split('<table class="full">')[1].split("</table>")[0]
    assert "2.15–2.16 k2" in full and "0.9 [0.8, 0.95]" in full and "p = 0.003" in full
    assert "2.16 k3" in full and "2.17 k3" in full and "label differs from the left neighbour" in full


def test_the_matrix_page_fits_a_1280_px_screen(tmp_path):
    """Every cell of tox.ini, the longest claim id, in headless Chromium at 1280 px: no horizontal scroll."""
    from harness.tests import test_browser

    if test_browser.CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    long_id = "input_scaling_unscaled_vs_standardized_little_difference"
    found = [_cell(env, _effect_claim(long_id, value=-0.00226 - i / 1000), _effect_claim("c", Verdict.REFUTED))
             for i, env in enumerate(cells.declared_environments())]
    page = compare.render([compare.Column.of(c) for c in found], tmp_path, [], [])
    seen = test_browser._probe(page, tmp_path)
    assert seen["scrollWidth"] <= test_browser.WIDTH, seen["wide"]
