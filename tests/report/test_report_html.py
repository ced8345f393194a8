"""report.html from the fixture journals: content, order, self-containment, robustness."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest

from harness.report import render_all
from harness.report.formatting import expectation_title


def text_of(page: str) -> str:
    """Visible-ish text: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.mark.parametrize("name,word", [("pass", "PASSED"), ("fail", "FAILED"), ("abort", "ABORTED"),
                                       ("recorded-credit-bureau-outage", "PASSED")])
def test_banner_shows_verdict_title_plan_and_host(rendered, name, word, load):
    journal = load(name)
    page = rendered[name]["report"].read_text()
    banner = page[page.index('<section id="verdict">'):page.index('<section id="timeline">')]
    assert f'class="banner {journal["status"]}"' in banner
    assert word in banner
    text = text_of(banner)
    assert journal["scenario"]["title"] in text
    assert journal["scenario"]["plan"][:60] in text
    assert journal["environment"]["host"] in text
    assert "Python " + journal["environment"]["python"] in text
    if journal["reason"]:
        assert journal["reason"] in text


def test_sections_come_in_the_documented_order(rendered):
    page = rendered["fail"]["report"].read_text()
    order = ["verdict", "timeline", "charts", "expectations", "endpoints", "integrity", "appendix"]
    positions = [page.index(f'<section id="{s}">') for s in order]
    assert positions == sorted(positions)


@pytest.mark.parametrize("name", ["pass", "fail", "abort", "recorded-credit-bureau-outage"])
def test_every_expectation_has_a_row_with_measured_threshold_and_verdict(rendered, name, load):
    page = rendered[name]["report"].read_text()
    section = page[page.index('<section id="expectations">'):page.index('<section id="endpoints">')]
    rows = re.findall(r"<tr class=\"(pass|fail)\">(.*?)</tr>", section, re.S)
    expectations = load(name)["expectations"]
    assert len(rows) == len(expectations)
    for (cls, row), exp in zip(rows, expectations):
        cells = text_of(row)
        assert cls == ("pass" if exp["passed"] else "fail")
        assert ("PASS" if exp["passed"] else "FAIL") in cells
        assert exp["phase"] in cells and exp["name"] in cells
        assert html.unescape(exp["threshold"]) in cells and exp["display"] in cells
        if exp["why"]:
            assert exp["why"] in cells


def test_failing_invariant_lists_offending_ids_and_counts(rendered):
    page = rendered["fail"]["report"].read_text()
    section = text_of(page[page.index('<section id="integrity">'):page.index('<section id="appendix">')])
    assert "VIOLATED" in section and "no_double_disbursement" in section
    for loan in ("loan-7f3a91", "loan-80c2d4", "loan-b1e077"):
        assert loan in section
    assert "duplicates: 3" in section
    # ids of passing invariants are not listed as offending
    assert section.count("offending ids") == 1


def test_timeline_labels_every_fault_and_marks_the_abort(rendered, load):
    fail = rendered["fail"]["report"].read_text()
    timeline = fail[fail.index('<section id="timeline">'):fail.index('<section id="charts">')]
    for fault in load("fail")["faults"]:
        assert html.escape(fault["label"], quote=False) in timeline
        assert fault["attributes"] and all(f"{k}={v}" in timeline for k, v in fault["attributes"].items())
    assert "ABORT" not in timeline

    abort = rendered["abort"]["report"].read_text()
    timeline = abort[abort.index('<section id="timeline">'):abort.index('<section id="charts">')]
    assert 'class="abort-line"' in timeline and "ABORT 0:31" in timeline
    assert "recovery (not run)" in timeline
    assert "N1" in timeline and "on-call paged" in timeline  # the note
    assert "Not judged" in abort and "surge" in text_of(abort[abort.index('<section id="expectations">'):])


def test_charts_share_the_time_axis_and_draw_fault_bands_on_each(rendered, load):
    page = rendered["fail"]["report"].read_text()
    charts = re.findall(r"<svg class=\"chart\".*?</svg>", page[page.index('<section id="charts">'):], re.S)
    assert len(charts) == 3  # throughput, latency, breaker/gateway states
    faults = [f for f in load("fail")["faults"]]
    for svg in charts:
        ET.fromstring(svg)  # well-formed SVG
        assert svg.count('class="fault-band"') >= len(faults) + 1  # one per fault + the legend swatch
        assert "time since the first phase started (m:ss)" in svg
        assert "0:00" in svg and "0:40" in svg
    throughput, latency, states = charts
    for label in ("success", "degraded (explicit)", "rejected (explicit)", "ungraceful", "requests / s"):
        assert label in throughput
    assert "latency (log scale)" in latency  # 10 ms .. 3 s spans decades
    for label in ("p50", "p95", "p99", "ms"):
        assert label in latency
    for label in ("breaker payment-gateway-primary (lending)", "gateway in use (lending)", "open",
                  "half-open", "closed", "backup", "primary"):
        assert label in states


def test_latency_axis_is_linear_when_it_does_not_span_decades(tmp_path, load):
    journal = load("pass")
    for sec in journal["metrics"]:  # flatten every latency into 20..60 ms
        for ep in sec["endpoints"].values():
            ep["hist"] = {"n": ep["n"], "sum_us": ep["n"] * 30000, "max_us": 60000,
                          "b": {"1000": max(ep["n"] - 1, 0), "1200": 1} if ep["n"] else {}}
    page = render_all(journal, tmp_path)["report"].read_text()
    assert ">latency</text>" in page and "log scale" not in page


def test_per_endpoint_tables_per_phase(rendered, load):
    page = rendered["pass"]["report"].read_text()
    section = page[page.index('<section id="endpoints">'):page.index('<section id="integrity">')]
    journal = load("pass")
    for phase in journal["phases"]:
        assert f"<h3>{phase['name']} " in section
    endpoints = {e for s in journal["metrics"] for e in s["endpoints"]}
    for ep in endpoints:
        assert section.count(f"<code>{html.escape(ep)}</code>") == len(journal["phases"])
    # the bureau-down phase shows the degraded share the fixture produced
    bureau = journal["phases"][1]
    n = sum(s["endpoints"]["POST /v1/loans"]["n"] for s in journal["metrics"]
            if bureau["start"] <= s["t"] < bureau["end"])
    assert f"{n:,}" in section


def test_appendix_has_scenario_versions_and_event_log(rendered, load):
    page = rendered["abort"]["report"].read_text()
    appendix = text_of(page[page.index('<section id="appendix">'):])
    assert "title: Overload without load shedding" in appendix  # YAML
    assert "abort_if:" in appendix
    assert "locust 2.32.4" in appendix
    for event in load("abort")["events"]:
        assert event["message"] in appendix


@pytest.mark.parametrize("name", ["pass", "fail", "abort", "recorded-credit-bureau-outage"])
def test_self_contained_nothing_to_fetch(rendered, name):
    page = rendered[name]["report"].read_text()
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", page, re.I)
    assert not re.search(r"\b(src|href)\s*=", page, re.I)
    assert "url(" not in page and "@import" not in page and "@font-face" not in page
    # no attribute holds a URL but the SVG namespace (an identifier, never fetched); URLs in
    # text (the event log names service addresses) are only text
    attributes = set(re.findall(r"""\s[\w:-]+\s*=\s*["']([^"']*://[^"']*)["']""", page))
    assert attributes <= {"http://www.w3.org/2000/svg"}, attributes


def test_print_css_present(rendered):
    page = rendered["pass"]["report"].read_text()
    assert "@media print" in page and "break-inside: avoid" in page


def test_hostile_text_is_escaped(tmp_path, load):
    journal = load("pass")
    journal["scenario"]["title"] = "<script>alert(1)</script>"
    journal["events"].append({"t": 3.0, "type": "note", "message": "<img src=x onerror=alert(2)>", "data": {}})
    page = render_all(journal, tmp_path)["report"].read_text()
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_journal_of_a_run_that_failed_early(tmp_path):
    """No metrics, phases, faults, invariants or environment: every report still renders and says so."""
    journal = {"format": "chaosdrill-journal", "version": 1, "run_id": "x", "status": "error", "exit_code": 3,
               "reason": "service lending never became healthy", "scenario": {"title": "Early death"}}
    paths = render_all(journal, tmp_path)
    page = paths["report"].read_text()
    assert "ERROR" in page and "service lending never became healthy" in page
    assert "No request metrics were recorded" in page and "No invariants were audited" in page
    suite = ET.parse(paths["junit"]).getroot().find("testsuite")
    assert suite.get("errors") == "1" and suite.find("testcase/error") is not None
    assert "⚠️ ERROR: Early death" in paths["summary"].read_text()


def test_expectation_title_names_phase_endpoint_and_threshold():
    assert expectation_title({"phase": "bureau-down", "name": "ungraceful", "threshold": "== 0"}) == \
        "bureau-down: ungraceful == 0"
    assert expectation_title({"phase": "p", "endpoint": "POST /v1/loans", "name": "error_rate",
                              "threshold": "< 1%"}) == "p POST /v1/loans: error_rate < 1%"


OPTIONAL_KEYS = ["run_id", "status", "exit_code", "reason", "started_at", "ended_at", "t0", "duration_s",
                 "environment", "scenario", "stack", "phases", "faults", "events", "metrics", "service_metrics",
                 "expectations", "invariants", "leftovers"]


@pytest.mark.parametrize("key", OPTIONAL_KEYS)
def test_any_missing_key_still_renders_everything(tmp_path, load, key, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    journal = load("abort")
    del journal[key]
    paths = render_all(journal, tmp_path)
    page = paths["report"].read_text()
    assert '<section id="appendix">' in page and "</html>" in page
    ET.parse(paths["junit"])
    assert paths["summary"].read_text().startswith("## ")


def test_endpoint_rows_name_the_codes_answered(rendered):
    page = rendered["fail"]["report"].read_text()
    section = page[page.index("<h3>gateway-down "):page.index("<h3>recovery ")]
    loans = section[section.index("<code>POST /v1/loans</code>"):]
    codes = loans[:loans.index("</div>")]
    assert "APPROVED" in codes and "PENDING_RECONCILIATION" in codes and "timeout" in codes
    assert 'class="num bad"' in section  # the ungraceful share of that phase is flagged


def test_a_fault_label_too_long_for_any_side_is_cut_to_fit_the_chart(load, tmp_path):
    from harness.report.svg import WIDTH, text_width

    journal = load("pass")
    long = "http_error stream=upstream status=500 body=canary build crashed toxicity=0.3 on client->lending#1 " * 2
    journal["faults"][0]["label"] = long.strip()
    page = render_all(journal, tmp_path)["report"].read_text()
    timeline = page[page.index('<section id="timeline">'):page.index('<section id="charts">')]
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", timeline, re.S).group(0))
    labels = [t for t in svg.iter("{http://www.w3.org/2000/svg}text") if "fault-label" in (t.get("class") or "")]
    assert labels, "no fault labels drawn"
    for text in labels:
        x, width = float(text.get("x")), text_width(text.text or "")
        left, right = (x - width, x) if text.get("text-anchor") == "end" else (x, x + width)
        assert 0 <= left and right <= WIDTH, (text.text, left, right)
    assert any(t.text.endswith("…") and long.startswith(t.text[:-1]) for t in labels)
    assert html.escape(long.strip(), quote=False) in timeline  # whole, in the band's tooltip


def test_state_rows_name_instances_as_links_do_and_list_instance_0_first():
    from harness.report.model import service_state_rows

    def sample(t: float, instance: int) -> dict:
        return {"t": t, "service": "lending", "instance": instance,
                "values": {'chaosdrill_breaker_state{dependency="payment-gateway-primary"}': 2.0 * instance,
                           'chaosdrill_gateway_in_use{gateway="primary"}': 1.0,
                           'chaosdrill_gateway_in_use{gateway="backup"}': 0.0}}

    rows = service_state_rows([sample(t, i) for t in (1.0, 2.0) for i in (1, 0)])
    assert [r.label for r in rows] == [
        "breaker payment-gateway-primary (lending)", "breaker payment-gateway-primary (lending#1)",
        "gateway in use (lending)", "gateway in use (lending#1)"]
    assert rows[1].spans[0][2] == "open" and rows[0].spans[0][2] == "closed"


def test_charts_end_with_the_last_phase_not_the_partial_second_the_load_stopped_in(load):
    """The metrics' last second is recorded while the load stops after the last phase (a few
    requests): drawn as a full second it read as traffic collapsing at the end of every drill."""
    import copy

    from harness.report import charts
    from harness.report.model import read

    journal = load("pass")
    end = max(p["end"] for p in journal["phases"])
    tail = copy.deepcopy(journal["metrics"][-1])
    tail["t"] = int(end)
    for ep in tail["endpoints"].values():  # 5 % of the traffic of a full second
        ep["n"] = max(1, ep["n"] // 20)
        ep["classes"] = {"success": ep["n"]}
        ep["codes"] = {}
        ep["hist"] = {"n": ep["n"], "sum_us": ep["n"] * 3000, "max_us": 3000, "b": {"900": ep["n"]}}
    journal["metrics"].append(tail)
    run = read(journal)
    assert run.t_end == end
    svg = charts.throughput(run)
    success = re.search(r'<path class="area" fill="[^"]+" d="([^"]+)"><title>success</title>', svg).group(1)
    xs = [float(x) for x in re.findall(r"[ML]([\d.]+) ", success)]
    assert max(xs) <= run_x(run, end) + 0.05
    latency = charts.latency(run)
    for d in re.findall(r'<path class="line"[^>]* d="([^"]+)"', latency):
        assert max(float(x) for x in re.findall(r"[ML]([\d.]+) ", d)) <= run_x(run, end) + 0.05
    assert f">{charts.fmt_clock(end + 1)}<" not in svg  # the axis ends with the phases


def run_x(run, t: float) -> float:
    from harness.report.svg import Frame

    return Frame(run.t_start, run.t_end, 100).x(t)


def test_throughput_areas_hold_each_second_so_a_class_starts_at_the_fault_not_before(rendered, load):
    """Per-second counts drawn between second midpoints made the degraded/ungraceful area start
    half a second before the fault band; every corner must sit on a whole second."""
    from harness.report.model import read

    run = read(load("fail"))
    page = rendered["fail"]["report"].read_text()
    svg = re.findall(r'<svg class="chart".*?</svg>', page[page.index('<section id="charts">'):], re.S)[0]
    whole = {round(run_x(run, t), 1) for t in range(int(run.t_start), int(run.t_end) + 1)}
    areas = re.findall(r'<path class="area" fill="[^"]+" d="([^"]+)">', svg)
    assert len(areas) >= 3
    for d in areas:
        xs = {float(x) for x in re.findall(r"[ML]([\d.]+) ", d)}
        assert xs <= whole, sorted(xs - whole)[:5]


def test_a_share_short_of_all_never_reads_100_percent():
    """315 ungraceful of 316 read '100%' (and 'http_500 100% · QUOTA_OK 0.3%') in the endpoint table."""
    from harness.report.formatting import pct

    assert pct(315 / 316) == "99.7%"
    assert pct(0.9996) == "99.96%"
    assert pct(0.999999) == ">99.99%"
    assert pct(1.0) == "100%" and pct(0.5) == "50%" and pct(0.994) == "99%" and pct(0.0004) == "0.04%"


def test_verdict_rows_name_the_seconds_judged_when_settling_left_some_out(load, tmp_path):
    """error_rate 1.63% in the verdict table beside 1.3% degraded in the same phase's endpoint
    table, with nothing saying the judge left the settling second out: the row names its seconds."""
    journal = load("fail")
    for e in journal["expectations"]:
        if e["phase"] == "gateway-down":
            e["window"] = [[11, 30]] if e["name"] == "error_rate" else [[10, 30]]
    page = render_all(journal, tmp_path)["report"].read_text()
    section = page[page.index('<section id="expectations">'):page.index('<section id="endpoints">')]
    rows = re.findall(r"<tr class=\"(?:pass|fail)\">.*?</tr>", section, re.S)
    error_rate = next(r for r in rows if ">error_rate<" in r)
    assert "judged on 0:11–0:30" in text_of(error_rate)
    assert all("judged on" not in r for r in rows if r is not error_rate)  # whole phase: nothing to say
    assert "endpoint tables below cover whole phases" in text_of(section)
    old = render_all(load("fail"), tmp_path / "old")["report"].read_text()  # journals without windows
    assert "judged on" not in old and "endpoint tables below cover whole phases" not in old


def test_a_run_against_changed_services_says_so_in_the_banner_summary_and_index(load, tmp_path):
    """`--service-arg lending="--no-fallback --no-breaker"` failed the drill on purpose; the page only
    had it in the appendix's argv, so its FAILED banner read like an outage of the real system."""
    from harness.report import render_suite

    new = load("fail")
    new["stack"] = {**(new.get("stack") or {}), "service_args": {"lending": ["--no-fallback", "--no-breaker"]},
                    "replicas": {"lending": 2}}
    old = load("fail")  # journals before the stack section recorded them: read from the command line
    old["stack"] = {k: v for k, v in (old.get("stack") or {}).items() if k not in ("service_args", "replicas")}
    old.setdefault("environment", {})["argv"] = [
        "run", "scenarios/x.yaml", "--service-arg", "lending=--no-fallback", "--service-arg=lending=--no-breaker",
        "--replicas", "lending=2"]
    for name, journal in (("new", new), ("old", old)):
        paths = render_all(journal, tmp_path / name)
        page = paths["report"].read_text()
        banner = text_of(page[page.index('<section id="verdict">'):page.index('<div class="facts">')])
        assert "Run with the stack changed: lending --no-fallback --no-breaker , lending x2" in banner, name
        assert "lending --no-fallback --no-breaker" in paths["summary"].read_text()
    index = render_suite([(new, tmp_path / "new"), (load("pass"), tmp_path / "pass")], tmp_path)["index"]
    rows = re.findall(r"<tr class=.*?</tr>", index.read_text(), re.S)
    assert "stack changed: lending --no-fallback --no-breaker" in text_of(rows[0])
    assert "stack changed" not in text_of(rows[1])
    plain = render_all(load("pass"), tmp_path / "plain")["report"].read_text()
    assert "stack changed" not in plain


def test_a_cut_fault_label_keeps_its_target(load, tmp_path):
    """credit-bureau-slow: four labels cut to '... on lending->credit-bure…' and '... on lending->…',
    so the lanes of replica a and b read the same; the target leads and survives the cut."""
    journal = load("pass")
    for f, replica in zip(journal["faults"], "ab"):
        f["kind"], f["stream"] = "http_latency", "upstream"
        f["attributes"] = {"latency": 5000, "jitter": 1000}
        f["toxicity"] = 0.3
        f["label"] = f"http_latency (upstream) latency=5000 jitter=1000 toxicity=0.3 on lending->credit-bureau-{replica}"
        f["applied_at"], f["removed_at"] = 10.0, 14.0  # a short band: the label goes beside it, cut
    page = render_all(journal, tmp_path)["report"].read_text()
    timeline = page[page.index('<section id="timeline">'):page.index('<section id="charts">')]
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", timeline, re.S).group(0))
    labels = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text") if "fault-label" in (t.get("class") or "")]
    assert len(labels) == 2 and any(t.endswith("…") for t in labels), labels
    assert labels[0].startswith("lending->credit-bureau-a: http_latency") and \
        labels[1].startswith("lending->credit-bureau-b: http_latency"), labels


def test_fault_attributes_carry_their_units_in_the_label_and_the_fault_table():
    """'latency=5000 jitter=1000' leaves a reader guessing; the unit is in the label and the table."""
    from harness.faults.toxic import ToxicFault
    from harness.report.model import _fault

    fault = ToxicFault("lending->credit-bureau-a", "latency", "f1", attributes={"latency": 5000, "jitter": 1000})
    assert fault.describe() == "latency latency=5000ms jitter=1000ms on lending->credit-bureau-a"
    record = {"id": "f1", "phase": "p", "target": fault.target, **fault.details(), "label": fault.describe(),
              "scheduled_at": 1.0, "applied_at": 1.0, "removed_at": 2.0, "result": "ok"}
    assert _fault(record, 3.0).attributes == "latency=5000ms jitter=1000ms"
    bandwidth = ToxicFault("a->b", "bandwidth", "f2", attributes={"rate": 1})
    assert "rate=1KB/s" in bandwidth.describe()
    old = {**record, "units": None}  # a journal from before units were recorded still renders
    assert _fault(old, 3.0).attributes == "latency=5000 jitter=1000"


def test_the_verdict_defines_its_outcome_words(rendered):
    """'ungraceful' and 'error_rate' are chaosdrill's words: the page a manager reads says what they mean."""
    page = rendered["fail"]["report"].read_text()
    terms = page[page.index('id="terms"'):]
    terms = text_of(terms[:terms.index("</p>")])
    for word in ("success", "degraded", "rejected", "ungraceful", "error_rate"):
        assert word in terms
