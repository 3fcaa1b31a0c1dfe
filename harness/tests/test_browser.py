"""The report as a reader sees it: headless Chromium (Debian's package) renders index.html at 1280 px.

The page itself holds no script.  The test renders a full-size report (the
committed real results, every seed's run; see ``test_report.full_size_results``),
copies index.html, injects a probe script into the copy only, lets Chromium load
it (``--virtual-time-budget``) and reads what the probe wrote into the DOM
(``--dump-dom``): the document's scroll width against the viewport, each
image's natural width, and the claim sections with their verdict badges.
"""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.report import reader_label, write_report
from harness.tests.test_report import full_size_results, labelled_results

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed, so the report cannot be rendered as a reader sees it "
           "(Debian: apt-get install -y chromium; .ci/run installs it before the harness tests)")

WIDTH = 1280

_PROBE = """<script>
window.addEventListener('load', function () {
  var d = document.documentElement, view = d.clientWidth;
  var images = Array.prototype.map.call(document.images, function (i) {
    return {name: i.getAttribute('data-figure') || i.alt, natural: i.naturalWidth, complete: i.complete,
            right: i.getBoundingClientRect().right};
  });
  var wide = [];
  document.querySelectorAll('body *').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.right > view + 0.5) wide.push(e.tagName + (e.id ? '#' + e.id : '') + ' right=' + Math.round(r.right));
  });
  var sections = Array.prototype.map.call(document.querySelectorAll('section.claim'), function (s) {
    var badge = s.querySelector('h3 .badge');
    return {id: s.id, verdict: badge ? badge.textContent : null};
  });
  var rows = Array.prototype.map.call(document.querySelectorAll('table.summary tbody tr'), function (tr) {
    var link = tr.querySelector('a'), badge = tr.querySelector('.badge');
    return {claim: link && link.textContent, verdict: badge && badge.textContent};
  });
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({scrollWidth: d.scrollWidth, clientWidth: view, images: images,
                                    wide: wide.slice(0, 20), sections: sections, rows: rows});
  document.body.appendChild(out);
});
</script>"""


def _probe(page: Path, tmp: Path) -> dict:
    copy = tmp / "probed.html"
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text  # the page itself stays script-free; only the copy is probed
    copy.write_text(text.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    out = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--window-size={WIDTH},2000", "--virtual-time-budget=30000", "--dump-dom", copy.as_uri()],
        capture_output=True, text=True, timeout=180)
    match = re.search(r'<pre id="probe">(.*?)</pre>', out.stdout, flags=re.S)
    assert match, f"the probe did not run (chromium exit {out.returncode}): {out.stderr[-2000:]}"
    return json.loads(html.unescape(match.group(1)))


@pytest.fixture(scope="module")
def seen(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser")
    results, runs = full_size_results()
    index = write_report(results, runs, out)
    return results, _probe(index, out)


def test_no_horizontal_overflow_at_1280px(seen):
    _, probe = seen
    assert probe["clientWidth"] == WIDTH
    assert probe["scrollWidth"] <= probe["clientWidth"], f"wider than the window: {probe['wide']}"
    assert probe["wide"] == []


def test_every_figure_loaded(seen):
    results, probe = seen
    images = probe["images"]
    # the forest plot, one metric figure per claim, curves, the lesson's three figures
    assert len(images) >= 1 + len(results.claims) + 3
    broken = [i["name"] for i in images if not i["complete"] or i["natural"] <= 0]
    assert broken == []
    assert images[0]["name"] == "summary__forest.png"
    assert all(i["right"] <= WIDTH for i in images)


def test_every_claim_section_and_summary_row_present_with_its_verdict(seen):
    results, probe = seen
    want = [(c.id, reader_label(c)) for c in results.claims]
    assert [(s["id"], s["verdict"]) for s in probe["sections"]] == want
    assert [(r["claim"], r["verdict"]) for r in probe["rows"]] == want


def test_labelled_page_fits_and_shows_every_label(tmp_path):
    """ON THE LINE, NOT TESTABLE HERE, the tags and the zone and amendment tables, as a reader sees them."""
    results, runs = labelled_results()
    probe = _probe(write_report(results, runs, tmp_path), tmp_path)
    assert probe["scrollWidth"] <= probe["clientWidth"] == WIDTH, f"wider than the window: {probe['wide']}"
    want = [(c.id, reader_label(c)) for c in results.claims]
    assert {"ON THE LINE", "NOT TESTABLE HERE", "INCONCLUSIVE"} <= {label for _, label in want}
    assert [(s["id"], s["verdict"]) for s in probe["sections"]] == want
    assert [(r["claim"], r["verdict"]) for r in probe["rows"]] == want
