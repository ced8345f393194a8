"""junit.xml (parsed with xml.etree as CI does), summary.md, GITHUB_STEP_SUMMARY, the suite."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from harness.report import render_all, render_suite


def suite_of(path):
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    return root, suites[0]


def test_junit_one_case_per_expectation_and_invariant(rendered, load):
    journal = load("fail")
    root, suite = suite_of(rendered["fail"]["junit"])
    cases = suite.findall("testcase")
    n_exp, n_inv = len(journal["expectations"]), len(journal["invariants"])
    assert len(cases) == n_exp + n_inv == int(suite.get("tests")) == int(root.get("tests"))
    failed_exp = [e for e in journal["expectations"] if not e["passed"]]
    failed_inv = [i for i in journal["invariants"] if not i["passed"]]
    assert int(suite.get("failures")) == len(failed_exp) + len(failed_inv) == 4
    assert suite.get("errors") == "0"
    assert suite.get("name") == "payment-gateway-outage"
    assert {c.get("classname") for c in cases} == {"payment-gateway-outage"}
    names = [c.get("name") for c in cases]
    assert "gateway-down: ungraceful == 0" in names
    assert "gateway-down POST /v1/loans: error_rate < 50%" in names
    assert "invariant: no_double_disbursement" in names


def test_junit_failure_messages_carry_measured_and_threshold(rendered, load):
    journal = load("fail")
    _, suite = suite_of(rendered["fail"]["junit"])
    by_name = {c.get("name"): c for c in suite.findall("testcase")}
    ungraceful = next(e for e in journal["expectations"] if e["phase"] == "gateway-down" and e["name"] == "ungraceful")
    fail = by_name["gateway-down: ungraceful == 0"].find("failure")
    assert fail is not None
    assert fail.get("message").startswith(f"measured {ungraceful['display']}, threshold == 0")
    assert ungraceful["why"] in fail.get("message")
    assert by_name["gateway-down: max_latency < 2500ms"].find("failure").get("message").startswith(
        "measured 3.12 s, threshold < 2500ms")
    inv = by_name["invariant: no_double_disbursement"].find("failure")
    assert "loan-7f3a91" in inv.get("message") and "duplicates 3" in inv.get("message")
    assert by_name["baseline: ungraceful == 0"].find("failure") is None


def test_junit_pass_has_no_failures_and_abort_fails_the_drill(rendered):
    _, suite = suite_of(rendered["pass"]["junit"])
    assert suite.get("failures") == "0" and suite.get("errors") == "0" and int(suite.get("tests")) == 12
    _, suite = suite_of(rendered["abort"]["junit"])
    drill = [c for c in suite.findall("testcase") if c.get("name") == "drill"]
    assert len(drill) == 1 and drill[0].find("failure").get("message").startswith("aborted: abort_if met")
    assert suite.get("failures") == "1"


def test_junit_path_is_honoured(tmp_path, load, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    paths = render_all(load("pass"), tmp_path / "run", junit_path=tmp_path / "ci" / "drills.xml")
    assert paths["junit"] == tmp_path / "ci" / "drills.xml" and paths["junit"].exists()
    assert not (tmp_path / "run" / "junit.xml").exists()


def test_summary_markdown_table(rendered, load):
    journal = load("fail")
    md = rendered["fail"]["summary"].read_text()
    assert md.startswith("## ❌ FAILED: Primary payment gateway outage")
    lines = md.splitlines()
    header = lines.index("| | Phase | Endpoint | Expectation | Measured | Threshold | Why |")
    assert re.fullmatch(r"\|(-+:?\|)+", lines[header + 1].replace("-:", "-:").replace("--:", "--:"))
    rows = lines[header + 2: header + 2 + len(journal["expectations"])]
    for row, exp in zip(rows, journal["expectations"]):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert len(cells) == 7, row
        assert cells[0] == ("✅" if exp["passed"] else "❌")
        assert cells[1] == exp["phase"] and cells[3] == exp["name"] and cells[4] == exp["display"]
        assert cells[5] == f"`{exp['threshold']}`"
    assert "| ❌ | `no_double_disbursement` |" in md and "`loan-80c2d4`" in md
    assert "**Expectations met: 4/7** · **Invariants held: 2/3**" in md


def test_summary_escapes_pipes_in_cells(tmp_path, load, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    journal = load("pass")
    journal["expectations"][0]["why"] = "a | b"
    md = render_all(journal, tmp_path)["summary"].read_text()
    assert "a \\| b" in md


def test_github_step_summary_is_appended(tmp_path, load, monkeypatch):
    target = tmp_path / "step_summary.md"
    target.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    render_all(load("pass"), tmp_path / "a")
    render_all(load("fail"), tmp_path / "b")
    text = target.read_text()
    assert text.startswith("earlier step\n")
    assert text.index("PASSED: Credit bureau outage") < text.index("FAILED: Primary payment gateway outage")


def test_suite_index_and_combined_junit(tmp_path, load, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    runs = []
    for name in ("pass", "fail", "abort"):
        run_dir = tmp_path / "runs" / name
        render_all(load(name), run_dir)
        runs.append((load(name), run_dir))
    paths = render_suite(runs, tmp_path / "suite", None)
    index = paths["index"].read_text()
    for name, title, word in (("pass", "Credit bureau outage", "PASSED"),
                              ("fail", "Primary payment gateway outage", "FAILED"),
                              ("abort", "Overload without load shedding", "ABORTED")):
        assert f'href="../runs/{name}/report.html">{title}</a>' in index
        row = index[index.rindex("<tr", 0, index.index(f"../runs/{name}/")):]
        assert word in row[:row.index("</tr>")]
    assert "1 of 3 drills passed" in index
    banner = index[index.index('class="banner'):index.index("<table")]
    # when (first start to last end), drill time (53.4 + 58.4 + 49.4 s), where, what ran it
    assert "2026-11-23 09:29:54 → 09:30:52 UTC" in banner and "2 min 41 s of drills" in banner
    assert "ci-runner-3, 2 CPUs" in banner and "chaosdrill 0.1.0" in banner
    root = ET.parse(paths["junit"]).getroot()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["credit-bureau-outage", "payment-gateway-outage", "overload"]
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites) == 12 + 10 + 3
    assert int(root.get("failures")) == 0 + 4 + 1
