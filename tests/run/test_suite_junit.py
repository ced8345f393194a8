"""Several drills (`run A B`, `gate`): the suite's junit.xml is in the report folder, and --junit gets a copy.

docs/running.md and docs/ci-gate.md say the suite index and one junit.xml
are written in the report folder, and `--help` says --junit "also" writes
JUnit XML there; with --junit the suite's file went only to --junit and the
report folder (the CI artifact) had none. --junit naming the report folder's
own junit.xml (docs/ci-gate.md's workflow) must not fail as a copy onto itself.
"""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import harness.commands.common as run_command
from harness.report import render_all

JOURNALS = Path(__file__).resolve().parents[1] / "fixtures" / "journals"


def _fake_run_one(monkeypatch, tmp_path):
    names = iter(["pass", "fail"])

    def run_one(path, scenario, report_dir, *args, **kwargs):
        name = next(names)
        journal = json.loads((JOURNALS / f"{name}.json").read_text())
        run_dir = Path(report_dir) / name
        render_all(journal, run_dir)
        return journal, run_dir

    monkeypatch.setattr(run_command, "run_one", run_one)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def _args(report_dir: Path, junit: Path | None) -> argparse.Namespace:
    return argparse.Namespace(quiet=True, report_dir=report_dir, junit=junit, fault_proxy=None, backend=None,
                              master_bind=None, master_port=None, allow_remote=False)


def _cases(path: Path) -> int:
    return len(ET.parse(path).getroot().findall("testsuite/testcase"))


def test_suite_junit_is_in_the_report_folder_and_copied_to_junit(monkeypatch, tmp_path):
    _fake_run_one(monkeypatch, tmp_path)
    reports, junit = tmp_path / "reports", tmp_path / "ci" / "junit.xml"
    loaded = [(Path("a.yaml"), None), (Path("b.yaml"), None)]
    _, worst = run_command.run_suite(loaded, _args(reports, junit), {}, {})
    assert worst == 1
    assert (reports / "index.html").exists()
    assert (reports / "junit.xml").exists(), "the report folder has no suite junit.xml"
    assert junit.read_bytes() == (reports / "junit.xml").read_bytes()
    assert _cases(junit) > 0


def test_junit_naming_the_report_folders_own_file_is_fine(monkeypatch, tmp_path):
    _fake_run_one(monkeypatch, tmp_path)
    reports = tmp_path / "reports"
    loaded = [(Path("a.yaml"), None), (Path("b.yaml"), None)]
    run_command.run_suite(loaded, _args(reports, reports / "junit.xml"), {}, {})
    assert _cases(reports / "junit.xml") > 0
