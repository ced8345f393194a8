from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "fixtures" / "scenarios"


@pytest.fixture
def isolated_state(tmp_path, monkeypatch):
    """Each test gets its own run-state folder, so runs of parallel tests never meet."""
    state = tmp_path / "state"
    monkeypatch.setenv("CHAOSDRILL_STATE_DIR", str(state))
    return state


def run_cli(args: list[str], cwd: Path, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def only_journal(report_dir: Path) -> dict:
    journals = list(report_dir.glob("*/journal.json"))
    assert len(journals) == 1, journals
    return json.loads(journals[0].read_text())
