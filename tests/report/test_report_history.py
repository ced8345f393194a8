"""The run history in the reports: a trend chart in report.html, sparklines in the suite index,
and `chaosdrill report` reading the history the run appended to (docs/history.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.cli import main
from harness.history.extract import record_of
from harness.history.store import append
from harness.history.trend import points
from harness.report import render_all, render_suite

REPORT = Path(__file__).resolve().parents[2] / "harness" / "report"


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def rows(n: int, current: int | None = None) -> list[dict]:
    statuses = ["passed", "passed", "failed", "aborted", "error"]
    out = [{"run_id": f"run-{i}", "started_at": f"2026-11-{1 + i:02d}T09:30:00Z", "status": statuses[i % 5],
            "score": None if statuses[i % 5] == "error" else 100 - 7 * i, "git_commit": "abcdef1234567"}
           for i in range(n)]
    return points(out, f"run-{current if current is not None else n - 1}")


def test_the_report_draws_the_drills_last_runs(load, tmp_path):
    page = render_all(load("fail"), tmp_path, trend=rows(12))["report"].read_text()
    assert '<section id="history">' in page and "the last 12 runs of this drill" in page
    (svg,) = re.findall(r'<svg class="chart trend".*?</svg>', page, re.S)
    assert svg.count('<g class="run">') == 12
    assert svg.count('stroke="#1d2430" stroke-width="1.5"') == 1  # this run, ringed
    assert "<title>2026-11-12 09:30 UTC · PASSED · score 23 · run-11 · commit abcdef1234</title>" in svg
    assert "<title>2026-11-05 09:30 UTC · ERROR · no score · run-4" in svg  # drawn hollow on the axis
    for word in ("passed", "failed", "aborted", "no score", "this run"):
        assert f">{word}</text>" in svg  # the legend names what the dots mean
    assert "11-12 09:30" in svg  # the newest run is always labelled
    assert "<script" not in page


def test_no_trend_without_earlier_runs(load, tmp_path):
    for trend in (None, [], rows(1)):
        page = render_all(load("pass"), tmp_path, trend=trend)["report"].read_text()
        assert 'id="history"' not in page and "chart trend" not in page


def test_the_suite_index_has_a_sparkline_per_drill(load, tmp_path):
    a, b = load("pass"), load("fail")
    index = render_suite([(a, tmp_path / "a"), (b, tmp_path / "b")], tmp_path,
                         trends={a["run_id"]: rows(5), b["run_id"]: rows(1)})["index"].read_text()
    assert "<th>Score, last runs</th>" in index
    assert index.count('<svg class="spark"') == 1 and index.count('<g class="run">') == 5
    plain = render_suite([(a, tmp_path / "a")], tmp_path / "plain")["index"].read_text()
    assert "Score, last runs" not in plain and "spark" not in plain.split("<style>")[0] + plain.split("</style>")[1]


def test_the_report_package_never_opens_the_store():
    """Callers read the history and hand the points in: rendering stays free of SQLite."""
    for module in REPORT.glob("*.py"):
        imports = re.findall(r"^\s*(?:from|import) (\S+)", module.read_text(), re.M)
        assert not [m for m in imports if m.startswith(("sqlite3", "harness.history"))], module.name


def _history_of_runs(load, reports: Path, n: int) -> list[dict]:
    """n runs of the fail drill appended to REPORTS/history.sqlite, each with its run folder's journal."""
    import json

    journals = []
    for i in range(n):
        j = load("fail")
        j.update(run_id=f"2026110{i + 1}T093000Z-payment-gateway-outage", started_at=f"2026-11-0{i + 1}T09:30:00Z",
                 score={"value": 90 - 10 * i, "classes": {}})
        append(reports / "history.sqlite", record_of(j))
        (reports / j["run_id"]).mkdir(parents=True)
        (reports / j["run_id"] / "journal.json").write_text(json.dumps(j))
        journals.append(j)
    return journals


def test_report_reads_the_history_beside_the_run_folder(load, tmp_path, capsys):
    reports = tmp_path / "reports"
    journals = _history_of_runs(load, reports, 3)
    second = reports / journals[1]["run_id"]
    assert main(["report", str(second)]) == 0
    svg = re.findall(r'<svg class="chart trend".*?</svg>', (second / "report.html").read_text(), re.S)
    assert len(svg) == 1 and svg[0].count('<g class="run">') == 2  # as the trend stood at that run
    assert main(["report", str(second), "--no-history"]) == 0
    assert "chart trend" not in (second / "report.html").read_text()
    # several journals: each report its own trend, the index a sparkline each
    assert main(["report", *(str(reports / j["run_id"]) for j in journals), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "index.html").read_text().count('<svg class="spark"') == 2  # the first had no earlier run
    capsys.readouterr()


def test_report_refusals_and_warnings_about_the_history(load, tmp_path, capsys):
    reports = tmp_path / "reports"
    (journal,) = _history_of_runs(load, reports, 1)
    run = reports / journal["run_id"]
    assert main(["report", str(run), "--history", str(tmp_path / "none.sqlite")]) == 2
    assert capsys.readouterr().err == f"chaosdrill: error: --history {tmp_path / 'none.sqlite'}: no history file there\n"
    (reports / "history.sqlite").write_text("not a database, not any more\n" * 50)
    for suffix in ("-wal", "-shm"):
        (reports / f"history.sqlite{suffix}").unlink(missing_ok=True)
    assert main(["report", str(run)]) == 0  # the reports are still written, without a trend
    err = capsys.readouterr().err
    assert err == (f"chaosdrill: warning: history not read: {reports / 'history.sqlite'}: cannot read it: "
                   "not a SQLite file (file is not a database)\n")
    assert (run / "report.html").exists()
