"""`chaosdrill report` and `gameday --replay`: unusable inputs and outputs are one line, exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gameday.test_replay import crafted_journal

ROOT = Path(__file__).resolve().parents[2]
PASS = ROOT / "tests" / "fixtures" / "journals" / "pass.json"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})


def one_line_exit_2(res: subprocess.CompletedProcess, *needles: str) -> None:
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    for needle in needles:
        assert needle in res.stderr


def test_a_journal_that_is_not_utf8(tmp_path):
    bad = tmp_path / "journal.json"
    bad.write_bytes(b'{"format": "\x85\xff"}')
    one_line_exit_2(cli("report", str(bad), cwd=tmp_path), str(bad), "not UTF-8")


def test_report_out_that_is_a_file(tmp_path):
    afile = tmp_path / "out"
    afile.write_text("x")
    one_line_exit_2(cli("report", str(PASS), "--out", str(afile), cwd=tmp_path), f"--out {afile}")


def test_report_junit_that_is_a_folder(tmp_path):
    one_line_exit_2(cli("report", str(PASS), "--out", str(tmp_path / "o"), "--junit", str(tmp_path), cwd=tmp_path),
                    f"--junit {tmp_path}")


@pytest.mark.parametrize("where", ["folder", "under-a-file"])
def test_replay_out_that_cannot_be_written(tmp_path, where):
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps(crafted_journal()))
    (tmp_path / "afile").write_text("x")
    out = tmp_path if where == "folder" else tmp_path / "afile" / "x.yaml"
    one_line_exit_2(cli("gameday", "--replay", str(journal), "--out", str(out), cwd=tmp_path), f"--out {out}")
