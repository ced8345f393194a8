"""`chaosdrill report`: re-render from saved journals, clear one-line errors."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.cli import main

JOURNALS = Path(__file__).resolve().parents[1] / "fixtures" / "journals"


def test_report_next_to_the_journal(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    run = tmp_path / "20261123T093512Z-gw"
    run.mkdir()
    shutil.copy(JOURNALS / "fail.json", run / "journal.json")
    assert main(["report", str(run / "journal.json")]) == 0
    for name in ("report.html", "summary.md", "junit.xml"):
        assert (run / name).exists()
    assert "FAILED: Primary payment gateway outage" in capsys.readouterr().out


def test_report_out_and_junit_options(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert main(["report", str(JOURNALS / "abort.json"), "--out", str(tmp_path / "o"),
                 "--junit", str(tmp_path / "j.xml")]) == 0
    assert (tmp_path / "o" / "report.html").exists() and not (tmp_path / "o" / "junit.xml").exists()
    assert ET.parse(tmp_path / "j.xml").getroot().find("testsuite").get("name") == "overload"


def test_several_journals_make_a_suite(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    files = [str(JOURNALS / f"{n}.json") for n in ("pass", "fail", "abort")]
    assert main(["report", *files, "--out", str(tmp_path)]) == 0
    index = (tmp_path / "index.html").read_text()
    assert 'href="fail/report.html"' in index and (tmp_path / "fail" / "report.html").exists()
    assert len(ET.parse(tmp_path / "junit.xml").getroot().findall("testsuite")) == 3


def test_bad_journals_are_usage_errors(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "chaosdrill-journal",\n  "version": }')
    assert main(["report", str(bad)]) == 2
    assert f"{bad}:2:" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": 1}))
    assert main(["report", str(other)]) == 2
    assert "not a chaosdrill journal" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.json")]) == 2
    assert "no such journal file" in capsys.readouterr().err


def test_a_step_summary_that_cannot_be_appended_to_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    """An unwritable $GITHUB_STEP_SUMMARY was a FileNotFoundError traceback and exit 1."""
    target = tmp_path / "no-such-dir" / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    assert main(["report", str(JOURNALS / "pass.json"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"GITHUB_STEP_SUMMARY={target}: cannot append summary.md" in err and "Traceback" not in err
    assert (tmp_path / "o" / "report.html").exists() and (tmp_path / "o" / "summary.md").exists()
