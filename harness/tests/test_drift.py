"""The drift check, result summaries and `python -m harness compare`."""
from __future__ import annotations

import math

import numpy as np
import pytest

from harness.spec import RULES
from scipy import stats as sps

from harness import RESULTS_SCHEMA, __version__
from harness.results import summaries, drift
from harness.report import compare
from harness.training import records


# -- the two-sample drift check ------------------------------------------------
def test_two_sample_matches_scipy_mann_whitney():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 25), rng.normal(0.5, 1, 30)
    p, prob = drift.two_sample(a, b)
    ref = sps.mannwhitneyu(b, a, alternative="two-sided")
    assert p == pytest.approx(ref.pvalue)
    assert prob == pytest.approx(ref.statistic / (a.size * b.size))


def test_fires_on_a_shifted_distribution():
    rng = np.random.default_rng(1)
    base = rng.normal(0.80, 0.02, 30)  # final accuracies, say
    shifted = rng.normal(0.74, 0.02, 30)  # three sd lower
    r = drift.check("c", "e", "accuracy", base, shifted, "SUPPORTED", "SUPPORTED")
    assert r.drifted and r.p_value < 1e-6 and r.prob_superiority < 0.1
    assert f"median {r.baseline_median:.4g} (baseline, n=30) -> {r.current_median:.4g} (now, n=30)" in r.message
    assert f"p={r.p_value:.3g}" in r.message


def test_quiet_on_a_resampled_distribution():
    """Fresh draws from the same distribution: no drift, for all of 50 draws at the same rng."""
    rng = np.random.default_rng(2)
    base = rng.normal(0.80, 0.02, 30)
    fired = sum(drift.check("c", "e", "m", base, rng.choice(base, 30, replace=True)).drifted for _ in range(50))
    assert fired == 0


def test_significant_but_small_shift_is_not_drift():
    """p < 0.01 alone is not enough: the effect must be large (Vargha-Delaney A outside [0.29, 0.71])."""
    rng = np.random.default_rng(3)
    base, now = rng.normal(0, 1, 3000), rng.normal(0.2, 1, 3000)
    r = drift.check("c", "e", "m", base, now)
    assert r.p_value < 0.01 and 0.29 <= r.prob_superiority <= 0.71 and not r.drifted


def test_changed_verdict_always_drifts():
    same = [1.0, 2.0, 3.0]
    r = drift.check("c", "e", "m", same, same, "SUPPORTED", "REFUTED")
    assert r.drifted and "verdict changed SUPPORTED -> REFUTED" in r.message


def test_nan_is_counted_not_dropped():
    """All-NaN baseline vs all-finite now: a total shift, and the counts are reported."""
    r = drift.check("c", "e", "m", [math.nan] * 30, list(np.linspace(0, 1, 30)))
    assert r.drifted and r.baseline_nonfinite == 30 and r.current_nonfinite == 0
    assert math.isinf(r.baseline_median)
    same = drift.check("c", "e", "m", [math.nan] * 10, [math.inf] * 10)  # both all non-finite: no change
    assert not same.drifted and same.p_value == 1.0


# -- summaries and compare -------------------------------------------------------
def _results(tf="2.21.0", keras="3.15.1", fp="fp-a", verdict="SUPPORTED", values=(0.8,) * 5) -> dict:
    return {
        "schema": RESULTS_SCHEMA, "suite_version": __version__, "rules": RULES,
        "environment": {"fingerprint": fp, "tensorflow": tf, "keras": keras, "keras_major": int(keras[0]),
                        "device": "cpu", "seeds": len(values)},
        "claims": [{"id": "claim_a", "section": "2.2", "verdict": verdict, "expected_verdict": "SUPPORTED",
                    "effect": {"name": "rate", "value": 0.9}, "p_value": 0.001, "seeds": len(values),
                    "metric": "accuracy", "metric_samples": {"exp": list(values)}}],
        "runs": [],
    }


def _write(path, obj):
    path.write_text(records.dumps(obj))
    return path


def test_summary_round_trip(tmp_path):
    from harness import results

    res, _ = results.from_data(_results(values=(0.8, math.nan, 0.7)))
    path = summaries.write_summary(res, tmp_path)
    assert path.name == "fp-a.json"
    s = summaries.load(path)
    assert math.isnan(s.claims[0].metric_samples["exp"][1])  # NaN kept
    assert s == summaries.summarize(res) and s.claims[0].looks == () and s.certificate is None


@pytest.mark.parametrize("content, message", [
    ('{"schema": "lesson-claims/results/1", "claims": [', "not valid JSON"),
    ('{"schema": "other/9"}', "schema 'other/9'"),
    ('[1, 2]', "no 'schema'"),
])
def test_bad_summary_names_the_file(tmp_path, content, message):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(summaries.SummaryError, match=message) as err:
        summaries.load(p)
    assert str(p) in str(err.value)


def test_other_suite_version_is_refused(tmp_path):
    res = _results()
    res["suite_version"] = "0.0.1"
    with pytest.raises(summaries.SummaryError, match="written by lesson-claims 0.0.1"):
        summaries.load(_write(tmp_path / "old.json", res))


def test_compare_goes_on_past_bad_files_and_highlights_changes(tmp_path, capsys):
    a = _write(tmp_path / "a.json", _results("2.15.1", "2.15.0", "fp-215", "SUPPORTED", [0.8, 0.81, 0.79] * 10))
    b = _write(tmp_path / "b.json", _results("2.21.0", "3.15.1", "fp-221", "REFUTED", [0.6, 0.61, 0.59] * 10))
    dup = _write(tmp_path / "dup.json", _results("2.21.0", "3.15.1", "fp-221"))
    torn = tmp_path / "torn.json"
    torn.write_text(a.read_text()[:40])

    class Args:
        files = [b, torn, a, dup]
        out_dir = tmp_path / "out"

    rc = compare.run_compare(Args)
    err = capsys.readouterr()
    assert rc == 1  # some files were left out ...
    assert f"skipped {torn}: not valid JSON" in err.err
    assert f"skipped {dup}: same environment (fp-221)" in err.err
    columns = compare.load_all([b, a])  # ... the rest was compared
    assert [c.summary.environment.tensorflow for c in columns] == ["2.15.1", "2.21.0"]  # ordered by version
    first, second = compare.matrix(columns)[0].cells
    assert not first.changed and second.changed
    assert second.drift[0].drifted
    html = (tmp_path / "out" / "matrix.html").read_text()
    assert 'class="changed drift"' in html and "data:image/png;base64," in html
    assert "label changes across environments: claim_a: SUPPORTED | REFUTED" in err.out


def test_compare_shows_summaries_of_other_rules_apart_and_never_compares_them(tmp_path, capsys):
    old = _results("2.15.1", "2.15.0", "fp-215", "SUPPORTED", [0.8, 0.81, 0.79] * 10)
    old["rules"] = None  # decided before the current rules
    a = _write(tmp_path / "a.json", old)
    b = _write(tmp_path / "b.json", _results("2.21.0", "3.15.1", "fp-221", "REFUTED", [0.6, 0.61, 0.59] * 10))

    class Args:
        files = [a, b]
        out_dir = tmp_path / "out"

    assert compare.run_compare(Args) == 0
    html = (tmp_path / "out" / "matrix.html").read_text()
    assert "Decided under other rules (not compared)" in html and "changed" not in html.split("<tbody>")[1]
    assert "label changes" not in capsys.readouterr().out


def test_a_baseline_of_another_batch_order_is_refused():
    """Drift across batch orders is the change of training, not a regression: refused, naming both."""
    import pytest

    from harness.results import summaries

    from harness import results

    lesson = results.Results(claims=(), environment=results.Environment(fingerprint="f", batch_order="lesson"))
    summaries.check_batch_order("b.json", lesson, "lesson")  # the same order: accepted
    with pytest.raises(summaries.SummaryError, match="b.json: decided on the 'lesson' batch order, this run trains "
                                                    "'replayed'"):
        summaries.check_batch_order("b.json", lesson, "replayed")
    old = results.Results(claims=(), environment=results.Environment(fingerprint="f"))  # before 2026-11-30
    with pytest.raises(summaries.SummaryError, match="before 2026-11-30.*--claims-batch-order=replayed"):
        summaries.check_batch_order("old.json", old, "lesson")
