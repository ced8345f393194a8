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


def test_links_of_extra_replicas_are_known_only_with_replicas(tmp_path, isolated_state):
    """`--replicas lending=2` makes the edge link client->lending#1 exist; without it the link is a typo."""
    base = ["matrix", "--links", "client->lending#1", "--faults", "down", "--report-dir", str(tmp_path / "r")]
    res = run_cli(base, tmp_path, timeout=120)
    assert res.returncode == 2 and "unknown link 'client->lending#1'" in res.stderr, res.stderr
    # With the replica the links pass, and the next check (users) is the one that speaks.
    res = run_cli([*base, "--replicas", "lending=2", "--users", "0"], tmp_path, timeout=120)
    assert res.returncode == 2 and "--users must be at least 1" in res.stderr, res.stderr
    res = run_cli([*base, "--replicas", "lendin=2"], tmp_path, timeout=120)
    assert res.returncode == 2 and "--replicas: unknown service 'lendin'" in res.stderr, res.stderr


def test_master_options_are_not_matrix_options(tmp_path, isolated_state):
    """The matrix's load has no remote workers: a master address would be ignored, so it is refused."""
    res = run_cli(["matrix", "--master-port", "5599", "--report-dir", str(tmp_path / "r")], tmp_path, timeout=60)
    assert res.returncode == 2 and "--master-port" in res.stderr and "Traceback" not in res.stderr, res.stderr
