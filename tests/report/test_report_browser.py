"""report.html in headless Chromium: renders, no console errors, no network, readable labels.

Also keeps full-page screenshots under reports/screenshots/ (git-ignored;
CI keeps them as artifacts) so a person can look at what CI rendered.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                       reason="needs Debian's chromium and chromium-driver (installed by .ci/run)"),
]

# Every pair of SVG text boxes that overlap, and any label sticking out of its chart.
OVERLAPS_JS = """
const out = [];
document.querySelectorAll('svg.chart').forEach((svg, i) => {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text')]
      .map(t => ({t: t.textContent, r: t.getBoundingClientRect()})).filter(x => x.r.width > 0);
  for (const x of texts) {
    if (x.r.left < box.left - 1 || x.r.right > box.right + 1) out.push([i, x.t, 'outside the chart']);
  }
  for (let a = 0; a < texts.length; a++) for (let b = a + 1; b < texts.length; b++) {
    const A = texts[a].r, B = texts[b].r;
    const ox = Math.min(A.right, B.right) - Math.max(A.left, B.left);
    const oy = Math.min(A.bottom, B.bottom) - Math.max(A.top, B.top);
    if (ox > 1 && oy > 1) out.push([i, texts[a].t, texts[b].t]);
  }
});
return out;
"""


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chaosdrill-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1200,900",
                f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, path: Path) -> tuple[list[dict], list[str]]:
    """Load a file; return its console entries and every URL the page requested."""
    driver.get("about:blank")
    driver.get_log("browser")
    driver.get_log("performance")  # drop what came before
    uri = path.resolve().as_uri()
    driver.get(uri)
    driver.execute_script("return document.readyState")
    console = driver.get_log("browser")
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") != "Network.requestWillBeSent":
            continue
        params = message["params"]
        url = params["request"]["url"]
        # Chromium's own pages (the new-tab page of a fresh profile) load chrome:// resources of
        # their own; anything else, or anything asked for by our page, counts.
        if params.get("documentURL") == uri or not url.startswith("chrome://"):
            urls.append(url)
    return console, urls


def full_page_screenshot(driver, target: Path) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1200, min(int(height) + 40, 12000))
    target.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(target))
    driver.set_window_size(1200, 900)


@pytest.mark.parametrize("name", ["fail", "pass", "abort", "recorded-credit-bureau-outage", "gameday"])
def test_report_renders_offline_without_errors(browser, rendered, load, name):
    report = rendered[name]["report"]
    console, urls = open_page(browser, report)
    assert [e for e in console if e["level"] in ("SEVERE", "WARNING")] == []
    assert urls == [report.resolve().as_uri()]  # the file itself and nothing else
    charts = browser.execute_script(
        "return [...document.querySelectorAll('svg.chart')].map(s => s.getBoundingClientRect().height)")
    assert len(charts) == 4 and all(h > 60 for h in charts)  # timeline + three charts, laid out
    assert browser.execute_script("return document.querySelector('.banner h1').textContent") == \
        load(name)["scenario"]["title"]
    assert browser.execute_script(OVERLAPS_JS) == []
    full_page_screenshot(browser, SCREENSHOTS / f"report-{name}.png")
    assert (SCREENSHOTS / f"report-{name}.png").stat().st_size > 20_000


def test_suite_index_renders_offline(browser, rendered, load, tmp_path):
    from harness.report import render_suite

    runs = [(load(name), paths["report"].parent) for name, paths in rendered.items()]
    index = render_suite(runs, tmp_path, None)["index"]
    console, urls = open_page(browser, index)
    assert console == [] and urls == [index.resolve().as_uri()]
    links = browser.execute_script("return [...document.querySelectorAll('a')].map(a => a.href)")
    assert sorted(links) == sorted(paths["report"].resolve().as_uri() for paths in rendered.values())
    full_page_screenshot(browser, SCREENSHOTS / "index.png")


def test_the_checks_catch_a_bad_page(browser, tmp_path):
    """The same checks on a page that breaks every rule: they must all notice."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/logo.png">'
        "<script>console.error('boom')</script>"
        '<svg class="chart" viewBox="0 0 200 50" width="200" height="50">'
        '<text x="10" y="20">overlapping</text><text x="14" y="22">labels</text></svg></body></html>')
    console, urls = open_page(browser, bad)
    assert any("boom" in e["message"] for e in console)
    assert "http://127.0.0.1:9/logo.png" in urls
    assert browser.execute_script(OVERLAPS_JS) == [[0, "overlapping", "labels"]]


# Page-wide horizontal overflow, and table cells whose text runs out of the cell (into its neighbour).
NARROW_JS = """
const out = [];
const doc = document.documentElement;
if (doc.scrollWidth > window.innerWidth + 1) out.push(['page wider than the window', doc.scrollWidth, window.innerWidth]);
document.querySelectorAll('td, th').forEach(c => {
  if (c.scrollWidth > c.clientWidth + 1) out.push(['cell overflows', c.textContent.trim().slice(0, 40)]);
});
return out;
"""


@pytest.mark.parametrize("name", ["fail", "recorded-credit-bureau-outage", "gameday"])
def test_report_reads_on_a_phone_width(browser, rendered, tmp_path, load, name):
    """At 420 px the endpoint tables' numbers ran into each other ('5.3 ms5.3 ms') and the verdict
    table was cut off at the page's edge; wide parts now scroll on their own, inside the page."""
    from harness.report import render_suite

    try:
        browser.set_window_size(420, 900)
        width = browser.execute_script("return window.innerWidth")
        assert width <= 440, width  # the window really is narrow
        open_page(browser, rendered[name]["report"])
        assert browser.execute_script(NARROW_JS) == []
        # charts keep 2/3 of their drawn size at least (11 px labels stay >= 7 px) and scroll instead
        widths = browser.execute_script(
            "return [...document.querySelectorAll('svg.chart')].map(s => s.getBoundingClientRect().width)")
        assert len(widths) == 4 and min(widths) >= 640, widths
        index = render_suite([(load(name), rendered[name]["report"].parent)], tmp_path, None)["index"]
        open_page(browser, index)
        assert browser.execute_script(NARROW_JS) == []
    finally:
        browser.set_window_size(1200, 900)


@pytest.mark.parametrize("runs", [3, 20, 300])
def test_the_history_trend_reads_without_overlaps(browser, load, tmp_path, runs):
    """The trend chart (report.html) and the sparklines (index.html) from the run history: no label
    overlaps, whatever the number of runs, and the index's rows still fit a phone's width."""
    from harness.history.trend import points
    from harness.report import render_all, render_suite

    rows = [{"run_id": f"r{i}", "started_at": f"2026-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}T09:30:00Z",
             "status": ("passed", "failed", "aborted", "error")[i % 4], "score": None if i % 4 == 3 else 100 - i % 60}
            for i in range(runs)]
    trend = points(rows, f"r{runs - 1}")
    journal = load("fail")
    report = render_all(journal, tmp_path / "run", trend=trend)["report"]
    open_page(browser, report)
    assert browser.execute_script(OVERLAPS_JS) == []
    assert browser.execute_script("return document.querySelectorAll('svg.chart').length") == 5
    if runs == 20:
        full_page_screenshot(browser, SCREENSHOTS / "report-trend.png")
    index = render_suite([(journal, tmp_path / "run")], tmp_path, None, trends={journal["run_id"]: trend})["index"]
    try:
        browser.set_window_size(420, 900)
        open_page(browser, index)
        assert browser.execute_script(NARROW_JS) == []
    finally:
        browser.set_window_size(1200, 900)
