"""Claim specs as checked data: expectations with pinned numbers, amendments,
indifference zones, the strict-xfail marks, and the README's generated table."""
from __future__ import annotations

import re

from pathlib import Path

import pytest

from harness import collect
from harness.spec import (Amendment, ClaimInconclusive, ClaimNotTestable, ClaimRefuted, Decision, Expectation,
                            Verdict, assert_supported)
from harness.pytest_plugin import parametrize_with_claims
from harness.statistics.rates import RateRule

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = collect.all_claims()


def test_expectation_checks_pins_for_its_environment_only():
    e = Expectation(Verdict.REFUTED, {"tf2.21.0-keras3.15.1-cpu": {"effect": (0.1, 0.3), "seeds": (100, 1000)}})
    fp = "tf2.21.0-keras3.15.1-cpu-26c161f2"
    assert e.check(fp, {"effect": 0.2, "seeds": 300}) == []
    missed = e.check(fp, {"effect": 0.05, "seeds": 300})
    assert len(missed) == 1 and "effect = 0.05 outside the range [0.1, 0.3]" in missed[0]
    assert e.check(fp, {"effect": None, "seeds": 300})  # a missing number is a miss, not a pass
    assert e.check("tf2.18.1-keras3.15.1-cpu-64cba6eb", {"effect": 0.9, "seeds": 1}) == []  # not pinned there


def test_strict_xfail_marks_follow_the_expected_verdict():
    by_id = {c.id: c for c in CLAIMS}
    mark = parametrize_with_claims([by_id["shallow_tanh_about_80_percent-literal"], by_id["relu20_no_longer_learns"],
                                    by_id["unscaled_target_nan"]])
    params = mark.args[1]
    refuted, inconclusive = params[0].marks[0], params[1].marks[0]
    assert refuted.kwargs["strict"] is True and refuted.kwargs["raises"] is ClaimRefuted
    assert inconclusive.kwargs["strict"] is True and inconclusive.kwargs["raises"] is ClaimInconclusive
    assert params[2].marks == ()
    import dataclasses

    expected_untestable = dataclasses.replace(by_id["clipping_no_general_improvement-clipvalue"],
                                              expect=Expectation(Verdict.INCONCLUSIVE, label="NOT TESTABLE HERE"))
    untestable = parametrize_with_claims([expected_untestable]).args[1][0].marks[0]
    assert untestable.kwargs["raises"] is ClaimNotTestable


def test_an_expected_label_is_checked_beside_the_verdict():
    on_line = Expectation(Verdict.INCONCLUSIVE, label="ON THE LINE")
    assert on_line.check_label("ON THE LINE") == []
    assert on_line.check_label("NOT TESTABLE HERE") == ["label NOT TESTABLE HERE where ON THE LINE was expected"]
    assert on_line.check_label("REFUTED") == []  # a verdict that moved is the xfail's business, not the label's
    with pytest.raises(ValueError):
        Expectation(Verdict.SUPPORTED, label="ON THE LINE")
    with pytest.raises(ValueError):
        Expectation(Verdict.INCONCLUSIVE, label="MAYBE")
    assert "observed, pinned" in Expectation(Verdict.REFUTED, {"tf2.21": {"effect": (0, 1)}}).describe()


def test_counts_and_sentences_name_real_claims():
    ids = {c.id for c in CLAIMS}
    for c in CLAIMS:
        assert c.counts in ("claim", "derived", "duplicate", "finding")
        if c.sentence:
            assert c.sentence in ids and c.sentence != c.id
            assert next(x for x in CLAIMS if x.id == c.sentence).sentence is None  # one level: the sentence's own test
    assert [c.id for c in CLAIMS if c.counts == "duplicate"] == ["standardized_target_rmse_original_units"]
    assert sorted(c.id for c in CLAIMS if c.counts == "derived") == [
        "dead_layers_explain_failed_deep_relu", "smaller_target_scale_smaller_gradients",
        "standardized_vs_normalized_target"]
    # the literal code on today's Keras: a finding of the sentence the author's initializer decides
    findings = [c for c in CLAIMS if c.counts == "finding"]
    assert sorted(c.id for c in findings) == sorted(f"{s}-literal" for s in (
        "shallow_tanh_about_80_percent", "shallow_tanh_slows_around_200", "deep_tanh_does_not_learn",
        "deep_relu_beats_deep_tanh"))
    for c in findings:
        owner = next(x for x in CLAIMS if x.id == c.sentence)
        assert owner.id.endswith("-fresh_init") and owner.counts == "claim"
        assert all("fresh" in e for e in owner.experiments if e.startswith("circles_tanh"))


def test_every_rule_has_a_zone_around_its_threshold():
    for c in CLAIMS:
        low, high = c.decide.zone
        assert low < c.decide.threshold < high, c.id


def collect_spec(tmp_path, claims_source: str):
    """pytest run on a spec module whose CLAIMS list is ``claims_source`` (after the usual imports)."""
    import subprocess
    import sys

    spec = tmp_path / "test_bad_spec.py"
    spec.write_text(
        "from harness.spec import Claim, Reading\n"
        "from harness.pytest_plugin import parametrize_with_claims\n"
        "from harness.statistics.rates import RateRule\n"
        + claims_source +
        "@parametrize_with_claims(CLAIMS)\n"
        "def test_claim(claim):\n"
        "    pass\n", encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(spec)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_a_spec_with_a_bad_zone_fails_at_collection_naming_the_claim(tmp_path):
    out = collect_spec(tmp_path,
                       "CLAIMS = [Claim(id='zone_misses_p0', section='1', quote='q', interpretation='i', rule='r',\n"
                       "                experiments=('reg_unscaled',), metric='m', metric_fn=float,\n"
                       "                decide=RateRule('reg_unscaled', bool, 0.5, 'greater', 'hit', (0.6, 0.7)))]\n")
    assert out.returncode != 0
    assert "claim zone_misses_p0: zone [0.6, 0.7] does not contain the threshold 0.5" in out.stdout + out.stderr


def _decision(verdict, **kw):
    return Decision(verdict=verdict, test="t", p_value=0.5, alpha=0.005, effect_name="e", effect=0.1, **kw)


def test_assert_supported_raises_by_verdict_and_says_why():
    claim = CLAIMS[0]
    assert_supported(claim, _decision(Verdict.SUPPORTED))
    with pytest.raises(ClaimRefuted):
        assert_supported(claim, _decision(Verdict.REFUTED))
    with pytest.raises(ClaimInconclusive, match="inside the indifference zone"):
        assert_supported(claim, _decision(Verdict.INCONCLUSIVE, at_threshold=True, zone=(0.05, 0.15)))
    with pytest.raises(ClaimInconclusive, match="about 40 seeds to show"):
        assert_supported(claim, _decision(Verdict.INCONCLUSIVE, seeds_needed=40, seeds_needed_for="to show x"))
    with pytest.raises(ClaimInconclusive, match="no test"):
        assert_supported(claim, Decision(verdict=Verdict.INCONCLUSIVE, test="t", p_value=None, alpha=0.005,
                                         effect_name="e", effect=None, detail="not decidable: all NaN"))


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_every_spec_is_complete(claim):
    assert claim.quote and claim.interpretation and claim.rule and claim.experiments
    if isinstance(claim.decide, RateRule):
        low, high = claim.decide.zone
        assert low < claim.decide.p0 < high
    assert claim.decide.reachable(1000, 0.00125) == (True, True), "the design's last look can decide both ways"
    for a in claim.amendments:
        assert isinstance(a, Amendment)
        assert a.date and a.old_rule and a.new_rule and a.reason and a.old_verdict
        assert a.old_rule != a.new_rule
    for env, pins in claim.expect.pins.items():
        assert env.startswith("tf") and pins
        assert all(lo <= hi for lo, hi in pins.values())


def test_generated_tables_are_current():
    from harness.maintainer import readme

    for name, path in readme.DOCS.items():
        text = path.read_text(encoding="utf-8")
        assert readme.render(text, [name]) == text, f"{path}: run `python -m harness.maintainer.readme --write`"
    table = collect.claims_table()
    for c in CLAIMS:
        assert f"`{c.id}`" in table
    with pytest.raises(ValueError, match="no claims table markers"):
        readme.render("no markers here", ["claims"])


def test_the_readme_is_for_users():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    prose = re.sub(r"<!-- (\w+): generated.*?<!-- /\1 -->", "", text, flags=re.S)  # generated tables are data
    assert len(prose.split()) <= 1500 and len(prose) < len(text)
    assert "../" not in text  # no link leaves the repository


def test_every_quote_is_in_the_lessons_copy():
    # docs/lesson/better-learning.md is the lesson as given (docs/lesson/SOURCE.md); markdown emphasis and
    # line breaks aside, each part of a quote ("..." separates them) is there word for word.
    import re

    def plain(text: str) -> str:
        return re.sub(r"\s+", " ", re.sub(r"\*\*|<[^>]+>", "", text))

    lesson = plain((ROOT / "docs" / "lesson" / "better-learning.md").read_text(encoding="utf-8"))
    for c in CLAIMS:
        for part in c.quote.split("..."):
            assert plain(part).strip() in lesson, (c.id, part)


def test_the_readmes_hand_written_numbers_are_their_sources():
    """The numbers of the README's prose that are not generated: each against where it is defined."""
    from harness.certification import certificate, sweep_check, windows
    from harness.spec import CLAIM_ALPHA
    from harness.statistics import sequential
    from harness.training import sweeps

    text = re.sub(r"\s+", " ", (ROOT / "README.md").read_text(encoding="utf-8"))
    words = {2: "two", 3: "three", 6: "six"}
    looks = sequential.LOOKS
    assert (f"looked at on {looks[0]} seeds (the lesson's `n_repeats`), then "
            f"{', '.join(map(str, looks[1:-1]))} and {looks[-1]}") in text
    assert f"| `--claims-seeds=N` | {looks[0]} |" in text and f"| `--claims-max-seeds=N` | {looks[-1]} |" in text
    assert f"each test is wrong with chance at most {CLAIM_ALPHA:.0%}" in text
    assert f"Keras' own `fit` on {words[len(certificate.SEEDS)]} seeds of every configuration with its state every " \
           f"{windows.WINDOW_EPOCHS} epochs" in text
    assert f"a reduced certificate ({len(sweep_check.SEEDS)} seeds each, `certify --sweep`)" in text
    thorough = [c for c in CLAIMS if c.profile == "thorough"]
    assert f"decides all claims but {words[len(thorough)]}" in text
    relu, tanh = sweeps.RELU_DEPTHS, sweeps.TANH_DEPTHS
    assert f"ReLU at {relu[0]}-{relu[-1]} hidden layers, tanh at {tanh[0]}-{tanh[-1]}" in text
    from harness.maintainer.readme import DEFAULT_BASELINE
    from harness.results import summaries

    baseline = summaries.load(DEFAULT_BASELINE)
    undecided = [c for c in baseline.claims if c.label == "INCONCLUSIVE" and c.seeds == looks[-1]]
    assert f"{words[len(undecided)]} claims stay undecided at {looks[-1]} seeds" in text


def test_the_readmes_matrix_summary_names_the_default_cell_and_what_differs(tmp_path):
    from harness import results as res
    from harness.maintainer import readme
    from harness.spec import RULES

    def claim(cid, verdict=Verdict.SUPPORTED, value=0.3):
        return res.ClaimResult(id=cid, verdict=verdict, metric="m", seeds=30,
                               effect=res.Effect(name="e", value=value, ci_low=value - 0.1, ci_high=value + 0.1))

    def write(env, *claims):
        summary = res.Results(claims=claims, environment=res.Environment(fingerprint=env), rules=RULES)
        (tmp_path / f"{env}.json").write_text(res.encode(res.Cell(env=env, status="decided", summary=summary)))

    write("py311-tf221-k3new-cpu", claim("a"), claim("b"))
    write("py311-tf221-k3-cpu", claim("a"), claim("b"))
    write("py311-tf220-k3-cpu", claim("a", value=0.5), claim("b", Verdict.REFUTED))
    text = readme.matrix_summary(tmp_path, default="py311-tf221-k3new-cpu")
    assert text.startswith(f"{len(readme.celllib.declared_environments())} cells in `tox.ini`, 3 decided (not decided:")
    assert "`py311-tf212-k2-cpu`, not run yet" in text
    assert "labels differ in `py311-tf220-k3-cpu`: b REFUTED (default SUPPORTED)" in text
    assert "1 give every claim the same effect [interval] too (`py311-tf221-k3-cpu`)" in text
    assert "1 differ in effect [interval] in 1 claim (`py311-tf220-k3-cpu`): a 0.5 [0.4, 0.6] against 0.3 [0.2, 0.4]" \
        in text
