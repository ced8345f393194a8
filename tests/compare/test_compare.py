"""Runs that remember: comparing two runs, and the resilience score.

The margins come from the gate's repeated healthy runs (harness/compare/rules.py);
these tests hold each kind's rule to its documented behaviour on hand-made
journals. The real pair (a bureau-slow drill run without lending's circuit
breaker regresses `all-slow: p90_ms`, and the history shows both runs) is
checked beside the gate's detection power, on the runs that test makes
anyway (tests/drills/test_detection_power.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.compare.rules import regression
from harness.judge.score import drill_score, matrix_score, suite_score
from tests.run.conftest import run_cli


def journal(drill: str, expectations: list[dict], invariants: list[dict] | None = None,
            status: str = "passed") -> dict:
    data = {"format": "chaosdrill-journal", "version": 1, "run_id": f"20261207T000000Z-{drill}", "status": status,
            "started_at": "2026-12-07T00:00:00Z", "scenario": {"title": drill, "path": f"scenarios/{drill}.yaml"},
            "expectations": expectations, "invariants": invariants or []}
    data["score"] = drill_score(data)
    return data


def exp(name: str, threshold: str, measured: float, passed: bool = True, phase: str = "p") -> dict:
    return {"phase": phase, "endpoint": None, "name": name, "threshold": threshold, "measured": measured,
            "display": str(measured), "passed": passed}


@pytest.mark.parametrize("name, threshold, base, new, regressed", [
    ("error_rate", "< 5%", 0.001, 0.023, False),      # healthy noise: 2.3 points
    ("error_rate", "< 50%", 0.01, 0.20, True),       # x20, +19 points
    ("ungraceful", "< 30%", 0.104, 0.225, False),    # a broken canary's share: x2.2
    ("ungraceful", "== 0", 0, 0, False),
    ("codes.OVERLOADED", "> 0", 91, 1, False),        # a required answer still there
    ("p90_ms", "< 800", 210.0, 228.0, False),          # x1.09
    ("p90_ms", "< 2000", 210.0, 700.0, True),         # x3.3, +490 ms
    ("p99_ms", "< 2000", 200.0, 380.0, False),        # x1.9: p99 of a short window moves that much
    ("max_latency", "< 3s", 500.0, 912.0, False),      # +412 ms
    ("recovers_within", "<= 10s", 1.0, 6.0, True),
    ("goodput", "> 0.5x", 1.0, 0.67, False),
    ("goodput", "> 0.1x", 1.0, 0.3, True),
])
def test_each_kind_of_measure_regresses_by_its_own_rule(name, threshold, base, new, regressed):
    assert bool(regression(name, threshold, base, new, True, True)) is regressed


def test_an_expectation_that_now_fails_regressed_whatever_the_margin():
    assert regression("error_rate", "< 1%", 0.009, 0.011, True, False) == "now fails"
    assert regression("error_rate", "< 1%", 0.011, 0.009, False, True) == ""  # improved


def test_a_share_moved_by_fewer_than_three_answers_moved_by_chance():
    assert regression("codes.QUOTA_FROZEN", "< 15%", 0.0, 1 / 30, True, True, answers=30) == ""
    assert regression("codes.QUOTA_FROZEN", "< 15%", 0.0, 4 / 30, True, True, answers=30) != ""


def test_the_score_weighs_integrity_over_ungraceful_over_degraded_over_latency():
    # the worked example of docs/score.md
    data = {"status": "failed",
            "expectations": [exp("ungraceful", "== 0", 0), exp("slow", "== 0", 0),
                             exp("error_rate", "< 1%", 0.004), exp("codes.OVERLOADED", "> 0", 3, passed=False),
                             exp("p99_ms", "< 300", 410.0, passed=False)],
            "invariants": [{"name": "no_lost_loans", "passed": True}, {"name": "ledger_balanced", "passed": False}]}
    score = drill_score(data)
    # integrity 1/2 x4 + ungraceful 2/2 x3 + degraded 1/2 x2 + latency 0/1 x1 = 6 of 10
    assert score["value"] == 60
    assert score["classes"]["integrity"] == {"passed": 1, "judged": 2, "weight": 4}
    assert drill_score({"status": "error", "expectations": []}) is None
    assert drill_score({"status": "passed", "expectations": [exp("p99_ms", "< 300", 1.0)]})["value"] == 100
    assert matrix_score({"cells": [{"outcome": "unaffected"}, {"outcome": "graceful"}, {"outcome": "ungraceful"},
                                   {"outcome": "integrity"}]}) == 50
    assert suite_score([{"score": {"value": 100}}, {"score": {"value": 60}}, {"score": None}]) == 80


def write(folder: Path, data: dict) -> Path:
    run = folder / data["run_id"]
    run.mkdir(parents=True)
    (run / "journal.json").write_text(json.dumps(data))
    return run


def test_compare_names_a_regression_with_both_values_and_exits_1(tmp_path):
    base = write(tmp_path / "base", journal("slow", [exp("p90_ms", "< 800", 120.0, phase="all-slow")]))
    new = write(tmp_path / "new", journal("slow", [exp("p90_ms", "< 800", 1630.0, False, phase="all-slow")],
                                          status="failed"))
    res = run_cli(["compare", str(base), str(new), "--markdown", str(tmp_path / "c.md")], tmp_path,
                  env={"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")})
    assert res.returncode == 1, res.stdout + res.stderr
    assert "REGRESSED (now fails)" in res.stdout and "all-slow: p90_ms < 800: 120.0 -> 1630.0" in res.stdout
    assert res.stdout.strip().splitlines()[-1].startswith("compare: 1 regression(s)")
    md = (tmp_path / "c.md").read_text()
    assert "1 regression(s)" in md and "all-slow: p90_ms: 120.0 → 1630.0" in md
    assert (tmp_path / "summary.md").read_text() == md + "\n"


def test_two_healthy_runs_compare_with_no_regression_and_bad_input_is_one_line(tmp_path):
    one = write(tmp_path / "a", journal("outage", [exp("error_rate", "< 5%", 0.004), exp("p99_ms", "< 2s", 80.0)]))
    two = write(tmp_path / "b", journal("outage", [exp("error_rate", "< 5%", 0.02), exp("p99_ms", "< 2s", 130.0)]))
    res = run_cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")], tmp_path)
    assert res.returncode == 0 and "no regression" in res.stdout, res.stdout + res.stderr
    other = write(tmp_path / "c", journal("crash", [exp("error_rate", "< 5%", 0.0)]))
    res = run_cli(["compare", str(one), str(other)], tmp_path)
    assert res.returncode == 2 and "BASE is a run of outage and NEW of crash" in res.stderr
    (tmp_path / "v2.json").write_text(json.dumps({**journal("outage", []), "version": 2}))
    res = run_cli(["compare", str(tmp_path / "v2.json"), str(two)], tmp_path)
    assert res.returncode == 2 and "journal version 2 is not supported" in res.stderr
    assert "Traceback" not in res.stderr
