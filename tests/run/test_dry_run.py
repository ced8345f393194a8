"""`run --dry-run` and `gate --dry-run`: every check a run makes before it starts, then the
timeline it would follow, and nothing started, written or left behind."""

from __future__ import annotations

from harness.run.plan import describe_plan, make_plan
from harness.scenario import load_scenario
from tests.run.conftest import ROOT, run_cli


def test_the_timeline_is_printed_with_the_profile_applied_and_nothing_starts(tmp_path, isolated_state):
    res = run_cli(["run", str(ROOT / "scenarios" / "credit-bureau-outage.yaml"), "--profile", "gate", "--dry-run",
                   "--service-arg", "lending=--no-fallback", "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert "service args: lending --no-fallback" in out
    # the gate profile's offsets (baseline 3s, bureau-down 5s), in the words the run's progress uses
    assert "[   3.0s] phase bureau-down (5s)" in out
    assert "[   3.0s] fault on: down on lending->credit-bureau-a" in out
    assert "[   8.0s] fault off: down on lending->credit-bureau-b" in out
    assert "expect [POST /v1/loans/{id}/repayments] errors == 0" in out
    # a share says how many answers its settled window will judge (80 users, 2 of the baseline's 3 s)
    assert "expect error_rate < 1%  (~144 answers judged)" in out
    assert "expect codes.APPROVED_DEGRADED > 0" in out
    assert "abort if: ungraceful > 50% for 10s" in out
    assert "dry run: 1 drill(s), 13s of phases in all; nothing was started" in out
    assert not (tmp_path / "r").exists()  # no run folder
    assert not list(isolated_state.glob("*.json"))  # no run state: nothing was started


def test_what_a_run_would_refuse_a_dry_run_refuses(tmp_path, isolated_state):
    res = run_cli(["gate", str(ROOT / "scenarios"), "--only", "gray-release", "--dry-run",
                   "--replicas", "lending=1"], tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "unknown link 'client->lending#1'" in res.stderr and "Traceback" not in res.stderr
    res = run_cli(["gate", str(ROOT / "scenarios"), "--only", "gray-release", "--dry-run",
                   "--replicas", "lending=3"], tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "lending x3; entry lending" in res.stdout and "client->lending#2" in res.stdout


def test_a_fault_ending_at_a_phase_boundary_is_said_before_the_next_phase(tmp_path):
    scenario = load_scenario(ROOT / "scenarios" / "lending-crash.yaml")
    lines = describe_plan(make_plan(scenario, scenario.resolved_stack()))
    timeline = [line for line in lines if line.startswith("[")]
    assert timeline[0] == "[   0.0s] phase baseline (10s)"
    # the kill starts 1 s into `crash` and ends 3 s in; the run ends after the last phase
    assert timeline.index("[  11.0s] fault on: kill lending") < timeline.index("[  13.0s] fault off: kill lending")
    assert timeline[-1] == "[  30.0s] end: load stops, invariants are audited"
    flash = load_scenario(ROOT / "scenarios" / "flash-crowd.yaml")
    timeline = [line for line in describe_plan(make_plan(flash, flash.resolved_stack())) if line.startswith("[")]
    off = timeline.index("[  10.0s] fault off: latency latency=200ms on lending->credit-bureau-a")
    assert off < timeline.index("[  10.0s] phase crowd (15s)")
