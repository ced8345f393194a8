"""matrix's second counts are checked like a scenario's durations: one line, exit 2, nothing started."""

from __future__ import annotations

import pytest

from tests.run.conftest import ROOT, run_cli


@pytest.mark.parametrize("flag,value", [("--baseline", "-1"), ("--baseline", "nan"), ("--fault-time", "0"),
                                        ("--fault-time", "inf"), ("--settle", "-2")])
def test_bad_second_counts_are_refused(tmp_path, isolated_state, flag, value):
    res = run_cli(["matrix", "--stack", str(ROOT / "tests/fixtures/stacks/echo.yaml"), "--faults", "down",
                   "--users", "2", "--baseline", "1", "--fault-time", "1", "--settle", "0",
                   flag, value, "--report-dir", str(tmp_path / "r")], tmp_path, timeout=120)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    assert f"{flag} {value}" in res.stderr
    assert "starting stack" not in res.stderr
