"""Enough answers to decide: the estimate of each share's answers before a run, and where it is said."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.run.answers import estimate_answers
from harness.run.load_rate import users_over_time
from harness.run.plan import make_plan
from harness.scenario import Load, Scenario
from harness.stack.files import load_stack
from tests.run.conftest import ROOT, run_cli

LENDING = load_stack("lending")
LENDING_2 = load_stack(ROOT / "scenarios" / "stacks" / "lending-2.yaml")


def estimate(phases: list[dict], load: dict | None = None, stack=LENDING):
    scenario = Scenario.model_validate({"title": "t", "plan": "p", "stack": "lending",
                                        "load": load or {"users": 80, "spawn_rate": 80}, "phases": phases})
    return estimate_answers(make_plan(scenario, stack))


def window(result, text: str):
    hits = [w for w in result.windows if w.text == text]
    assert len(hits) == 1, [w.text for w in result.windows]
    return hits[0]


# ------------------------------------------------------------------ the answers a window holds


def test_a_short_baseline_warns_with_the_numbers_and_a_longer_one_does_not():
    # 80 users x 0.9 requests a second; a 2 s phase keeps 1 s after settling: ~72 answers
    short = estimate([{"name": "baseline", "duration": 2, "expect": {"error_rate": "< 1%"}}])
    assert window(short, "error_rate < 1%").answers == 72
    assert short.warnings() == ["warning: t: baseline error_rate < 1%: ~72 answers judged, one error is 1.39 %"]
    longer = estimate([{"name": "baseline", "duration": 3, "expect": {"error_rate": "< 1%"}}])
    assert window(longer, "error_rate < 1%").answers == 144 and longer.warnings() == []
    assert "none" not in longer.summary() and "closest: baseline error_rate < 1%: ~144 answers" in longer.summary()


def test_fault_changes_are_settled_as_the_judge_settles_them():
    # 6 s with a fault from 2 s to 4 s: seconds 0, 2 and 4 are left out, 3 remain
    result = estimate([{"name": "outage", "duration": 6, "expect": {"error_rate": "< 5%"},
                        "faults": [{"link": "lending->credit-bureau-a", "toxic": "down", "start": 2, "end": 4}]}])
    assert window(result, "error_rate < 5%").answers == 216


def test_only_shares_are_estimated_and_lower_bounds_count_the_answer_missing():
    result = estimate([{"name": "p", "duration": 3, "expect": {
        "ungraceful": "== 0", "errors": "<= 2", "p99_ms": "< 300", "codes": {"OVERLOADED": "< 1%"},
        "endpoints": {"POST /v1/loans": {"codes": {"APPROVED": "> 90%"}}}}}], load={"users": 20, "spawn_rate": 20})
    assert [w.text for w in result.windows] == ["codes.OVERLOADED < 1%", "[POST /v1/loans] codes.APPROVED > 90%"]
    # 20 users x 0.9 x 21 % applications x 2 s: 7 answers; all but one is 85.7 %
    assert result.warnings() == [
        "warning: t: p codes.OVERLOADED < 1%: ~36 answers judged, one OVERLOADED answer is 2.78 %",
        "warning: t: p [POST /v1/loans] codes.APPROVED > 90%: ~7 answers judged, one answer other than APPROVED "
        "is 14.3 %"]


def test_an_equality_on_a_share_is_exact_by_intent_and_never_warned():
    result = estimate([{"name": "p", "duration": 2, "expect": {"ungraceful": "== 0%"}}], {"users": 1, "spawn_rate": 1})
    assert window(result, "ungraceful == 0%").answers == 0 and result.warnings() == []


def test_stages_count_from_the_load_start_and_the_fewest_answers_are_taken():
    load = {"users": 10, "spawn_rate": 10, "stages": [{"duration": 5, "users": 10, "spawn_rate": 10},
                                                       {"duration": 60, "users": 100, "spawn_rate": 100}]}
    users = users_over_time(Load.model_validate(load), 10)
    assert users[50] == pytest.approx(5) and users[200] == pytest.approx(10)  # ramping at 10/s, then held
    assert users[560] == pytest.approx(70, abs=1)  # the second stage ramps from 5 s at 100/s
    # warmup 2 s: t0 lies 2-3 s into the load, so the crowd of 100 arrives 2-3 s after t0
    result = estimate([{"name": "before", "duration": 2, "expect": {"error_rate": "< 10%"}},
                       {"name": "crowd", "duration": 5, "expect": {"error_rate": "< 10%"}}], load)
    before, crowd = result.windows
    assert before.answers == 9  # 1 settled second of 10 users
    # seconds 3-6: fewest when t0 is 2 s into the load: second 3 spans the ramp from 10 to 100
    # users (5 s to 5.9 s of the load), seconds 4-6 have 100: (59.5 + 300) x 0.9
    assert crowd.answers == 323


def test_pacing_gives_every_user_one_task_a_second():
    classes = {"users": 30, "spawn_rate": 30, "user_classes": ["BorrowerUser", "CrossBorrowerUser"]}
    own = estimate([{"name": "p", "duration": 3, "expect": {"error_rate": "< 1%"}}], classes)
    paced = estimate([{"name": "p", "duration": 3, "expect": {"error_rate": "< 1%"}}], {**classes, "pacing": "constant"})
    # 20 borrowers at 1 task/s and 10 cross-borrowers at 2, against 30 users at 1 task/s
    assert window(own, "error_rate < 1%").answers == 72 and window(paced, "error_rate < 1%").answers == 54


def test_an_instance_gets_its_share_of_the_users():
    result = estimate([{"name": "p", "duration": 3, "expect": {"instances": {"lending#1": {"error_rate": "< 1%"}}}}],
                      stack=LENDING_2)
    assert window(result, "[instance lending#1] error_rate < 1%").answers == 72


def test_a_locustfile_of_ones_own_has_no_known_rate_unless_paced(tmp_path: Path):
    phases = [{"name": "p", "duration": 3, "expect": {"error_rate": "< 1%",
                                                      "endpoints": {"GET /a": {"error_rate": "< 1%"}}}}]
    unpaced = estimate(phases, {"users": 10, "spawn_rate": 10, "locustfile": "mine.py"})
    assert [w.answers for w in unpaced.windows] == [None, None]
    assert unpaced.warnings() == ["note: t: answers not estimated for 2 rate expectation(s): locustfile mine.py "
                                  "paces its own users; give load.pacing to estimate answers"]
    assert unpaced.summary().startswith("answers: not estimated (locustfile mine.py")
    paced = estimate(phases, {"users": 100, "spawn_rate": 100, "locustfile": "mine.py", "pacing": "poisson"})
    assert window(paced, "error_rate < 1%").answers == 180
    # its request mix is its own: an endpoint's share of the answers is not guessed
    assert window(paced, "[GET /a] error_rate < 1%").answers is None
    assert paced.warnings() == ["note: t: p [GET /a] error_rate < 1%: answers not estimated: the locustfile's "
                                "request mix is its own, so GET /a's share is unknown"]


# ------------------------------------------------------------------ where it is said


FRAGILE = """\
title: Fragile
plan: A baseline too short for its bound.
stack: lending
load: {users: 30, spawn_rate: 30}
phases:
  - name: baseline
    duration: 3s
    expect: {error_rate: "< 1%"}
  - name: after
    duration: 10s
    expect: {error_rate: "< 2%"}
"""
FRAGILE_LINE = "warning: {path}: baseline error_rate < 1%: ~54 answers judged, one error is 1.85 %"


def test_the_library_gate_warns_of_nothing(tmp_path, isolated_state):
    library = run_cli(["gate", str(ROOT / "scenarios"), "--dry-run"], tmp_path)
    assert library.returncode == 0, library.stdout + library.stderr
    assert "warning:" not in library.stdout + library.stderr and "note:" not in library.stdout
    assert "expect error_rate < 1%  (~" in library.stdout  # each share says its answers
    full = run_cli(["validate", str(ROOT / "scenarios")], tmp_path)  # nor at full length
    assert full.returncode == 0 and "warning:" not in full.stdout, full.stdout


def test_a_fragile_drill_gets_exactly_its_line_and_the_exit_code_stays(tmp_path, isolated_state):
    folder = tmp_path / "drills"
    folder.mkdir()
    (folder / "fragile.yaml").write_text(FRAGILE)
    fragile = run_cli(["gate", str(folder), "--profile", "none", "--dry-run"], tmp_path)
    assert fragile.returncode == 0, fragile.stdout + fragile.stderr  # a warning: the exit code stays
    warnings = [line for line in fragile.stdout.splitlines() if line.startswith("warning:")]
    assert warnings == [FRAGILE_LINE.format(path=folder / "fragile.yaml")]


def test_validate_warns_for_the_file_and_each_profile_and_still_exits_0(tmp_path):
    path = tmp_path / "fragile.yaml"
    path.write_text(FRAGILE + "profiles:\n  gate: {phase_durations: {baseline: 10s}}\n")
    done = run_cli(["validate", str(path)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [f"ok {path}", FRAGILE_LINE.format(path=path)]  # the gate profile is long enough
