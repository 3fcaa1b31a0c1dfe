"""``--junitxml`` carries each claim's verdict: label, effect, interval, zone and seeds as the testcase's
properties, and the whole suite's XML stays under 50 KB.  (A real claims session's XML is checked in
test_results.py's plugin test.)"""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from harness import all_claims
from harness import results as res
from harness.spec import Verdict
from harness.results import summaries
from harness.pytest_plugin import junit_properties

ROOT = Path(__file__).resolve().parents[2]
# a whole default run, every claim decided (the default cell's committed summary)
CELL = ROOT / "reports" / "baselines" / "tf2.21.0-keras3.15.1-cpu-26c161f2.json"
LIMIT = 50_000


def test_the_properties_say_label_effect_interval_zone_and_seeds():
    supported = res.ClaimResult(id="c", verdict=Verdict.SUPPORTED, seeds=30, effect=res.Effect(
        name="rate of seeds that learn", value=0.96667, ci_low=0.73729, ci_high=0.99996, confidence=0.9975,
        threshold=0.5, zone=(0.4, 0.6)))
    assert junit_properties(supported) == [
        ("label", "SUPPORTED"), ("effect", "0.9667 (rate of seeds that learn)"), ("interval", "[0.7373, 1] at 0.9975"),
        ("zone", "[0.4, 0.6] around 0.5"), ("seeds", "30")]
    on_line = res.ClaimResult(id="l", verdict=Verdict.INCONCLUSIVE, at_threshold=True, seeds=1000, effect=res.Effect(
        name="d", value=-0.002, ci_low=-0.02, ci_high=0.015, threshold=0.1, zone=(0.05, 0.15), absolute=True))
    props = dict(junit_properties(on_line))
    assert props["label"] == "ON THE LINE" and props["seeds"] == "1000"
    assert props["zone"] == "[0.05, 0.15] around 0.1 on |effect|" and props["interval"] == "[-0.02, 0.015]"
    untested = res.ClaimResult(id="u", verdict=Verdict.INCONCLUSIVE, untestable="the treatment never acted",
                               seeds=30, effect=res.Effect(name="d", threshold=0.1, zone=(0.05, 0.15)))
    props = dict(junit_properties(untested))  # no test ran: no number is made up
    assert props["label"] == "NOT TESTABLE HERE" and props["effect"] == "none (d)" and props["interval"] == "none"


SUITE = '''
import pytest

from harness import all_claims
from harness.pytest_plugin import junit_properties, parametrize_with_claims
from harness.results import summaries

RESULTS = {{c.id: c for c in summaries.load({cell!r}).claims}}


@parametrize_with_claims([c for c in all_claims() if c.profile == "default"])  # the baseline's run
def test_claim(claim, request, record_property):
    """The suite's own parametrization; each test records what the plugin records for its claim's committed
    result, and ends as the plugin ends it (a strict xfail raises the exception its mark expects)."""
    for name, value in junit_properties(RESULTS[claim.id]):
        record_property(name, value)
    for mark in request.node.iter_markers("xfail"):
        raise mark.kwargs["raises"]("as expected")
'''


def test_the_whole_suites_junit_xml_stays_under_50_kb(tmp_path):
    # The suite's test ids, as long as they are: "claims" itself would shadow the claims package.
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # this folder is the rootdir
    (tmp_path / "lesson").mkdir()
    (tmp_path / "lesson" / "test_claims.py").write_text(SUITE.format(cell=str(CELL)))
    junit = tmp_path / "junit.xml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "lesson/test_claims.py", "-q", "-p", "no:xdist",
                           "-p", "no:cacheprovider", f"--junitxml={junit}"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    cases = ET.parse(junit).getroot().findall(".//testcase")
    expected = {c.id: c for c in summaries.load(CELL).claims}
    specs = [c for c in all_claims() if c.profile == "default"]
    assert len(cases) == len(specs) == len(expected)
    for case in cases:
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        cid = case.get("name")[len("test_claim["):-1]
        assert props == dict(junit_properties(expected[cid])), cid
        assert case.get("classname") == "lesson.test_claims"
    xfails = [c for c in specs if c.expect.verdict is not Verdict.SUPPORTED]
    assert sum(case.find("skipped") is not None for case in cases) == len(xfails) > 0  # with their reasons
    assert junit.stat().st_size < LIMIT, junit.stat().st_size
