"""--history and --no-history on run, gate and matrix (and the game day), and the suite index's trends."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import harness.commands.common as common
from harness.cli import build_parser
from harness.history import record
from harness.report import render_all

JOURNALS = Path(__file__).resolve().parents[1] / "fixtures" / "journals"


@pytest.mark.parametrize("command", [["run", "a.yaml"], ["gate"], ["matrix"], ["gameday"]])
def test_every_recording_command_takes_the_history_options(command, capsys):
    parser = build_parser()
    args = parser.parse_args([*command, "--report-dir", "out"])
    assert (args.history, args.no_history) == (None, False)
    assert parser.parse_args([*command, "--history", "h.sqlite"]).history == Path("h.sqlite")
    assert parser.parse_args([*command, "--no-history"]).no_history
    with pytest.raises(SystemExit):
        parser.parse_args([*command, "--history", "h.sqlite", "--no-history"])
    assert "not allowed with argument" in capsys.readouterr().err


def _args(report_dir: Path, **kw) -> argparse.Namespace:
    return argparse.Namespace(quiet=True, report_dir=report_dir, junit=None, fault_proxy=None, backend=None,
                              master_bind=None, master_port=None, allow_remote=False, **kw)


def test_run_suite_hands_each_run_the_history_and_the_index_its_trends(monkeypatch, tmp_path):
    """The runs append where --history says (REPORT_DIR/history.sqlite by default), and the suite's
    index draws each drill's trend from it."""
    given = []

    def run_one(path, scenario, report_dir, *args, history=None, **kwargs):
        given.append(history)
        journal = json.loads((JOURNALS / "pass.json").read_text())
        journal.update(run_id=f"run-{len(given)}", started_at=f"2026-11-0{len(given)}T09:00:00Z",
                       score={"value": 100 - len(given), "classes": {}})
        run_dir = Path(report_dir) / journal["run_id"]
        render_all(journal, run_dir, trend=record(journal, history) if history else None)
        return journal, run_dir

    monkeypatch.setattr(common, "run_one", run_one)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    reports = tmp_path / "reports"
    loaded = [(Path("a.yaml"), None), (Path("b.yaml"), None)]
    common.run_suite(loaded, _args(reports, history=None, no_history=False), {}, {})
    assert given == [reports / "history.sqlite"] * 2
    index = (reports / "index.html").read_text()
    assert "<th>Score, last runs</th>" in index and index.count('<svg class="spark"') == 1  # the 2nd has an earlier run
    common.run_suite(loaded, _args(reports, history=tmp_path / "elsewhere.sqlite", no_history=False), {}, {})
    common.run_suite(loaded, _args(reports, history=None, no_history=True), {}, {})
    assert given[2:] == [tmp_path / "elsewhere.sqlite"] * 2 + [None] * 2
