"""The drill library as a whole: every drill of the issue is there, valid,
with its plan written in it and a gate profile short enough for the
4-minute gate; the detection table covers every switch lending has."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.scenario import load_scenario, validate_scenario_file
from mock_services.lending.config import MECHANISMS

from .detection import CATCHES

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
DRILLS = ["maintenance-with-notice", "credit-bureau-outage", "credit-bureau-slow", "bureau-replica-loss",
          "payment-gateway-failover", "gateway-unknown-outcome", "flash-crowd", "network-congestion",
          "risk-control-freeze", "gray-release", "lending-crash"]
# Per drill, and all together: long enough that a share's window holds the answers its bound needs
# (flash-crowd: 18 s at 20 users), short enough that with ~8 s of start and stop per drill the 11 fit in
# 4 minutes.
GATE_PHASES_MAX_S = 18.0
GATE_PHASES_TOTAL_MAX_S = 150.0
ALL_INVARIANTS = {"no_double_disbursement", "no_lost_loans", "paid_by_recorded_gateway", "ledger_balanced",
                  "reconciliation_complete"}


def test_every_drill_of_the_issue_has_one_file_and_nothing_else_is_in_the_gate() -> None:
    assert sorted(p.stem for p in SCENARIOS.glob("*.yaml")) == sorted(DRILLS)


@pytest.mark.parametrize("drill", DRILLS)
def test_drill_is_valid_with_a_plan_a_short_gate_profile_and_every_invariant(drill: str) -> None:
    path = SCENARIOS / f"{drill}.yaml"
    scenario, issues = validate_scenario_file(path)
    assert scenario is not None and not issues, [str(i) for i in issues]
    assert scenario.plan and len(scenario.plan) > 100
    gate = load_scenario(path).with_profile("gate")
    total = sum(p.duration for p in gate.phases)
    assert 5 <= total <= GATE_PHASES_MAX_S, f"{drill}: gate phases last {total:.0f}s"
    assert len(gate.phases) >= 2 and gate.phases[0].expect is not None
    assert set(scenario.invariants) == ALL_INVARIANTS
    # every phase says what must hold, and no drill tolerates unexplained errors after its faults
    assert all(p.expect is not None for p in gate.phases)
    assert "ungraceful" in gate.phases[-1].expect.model_dump(exclude_none=True)


def test_the_gate_phases_of_all_drills_fit_the_4_minute_gate() -> None:
    total = sum(p.duration for drill in DRILLS
                for p in load_scenario(SCENARIOS / f"{drill}.yaml").with_profile("gate").phases)
    assert total <= GATE_PHASES_TOTAL_MAX_S, f"the gate's phases last {total:.0f}s"


def test_every_lending_switch_has_a_catching_drill_and_expectation() -> None:
    assert set(CATCHES) == set(MECHANISMS)
    for switch, (drill, expected) in CATCHES.items():
        scenario = load_scenario(SCENARIOS / f"{drill}.yaml")
        phases = {p.name for p in scenario.phases}
        for name in expected:
            where = name.split(":", 1)[0]
            assert where == "invariant" or where.split(" ", 1)[0] in phases, f"{switch}: {name}"
        assert f"--no-{switch}" in scenario.plan, f"{drill}'s plan does not say it catches --no-{switch}"


def test_gate_refuses_a_filter_matching_no_drill() -> None:
    done = subprocess.run([sys.executable, "-m", "harness.cli", "gate", str(SCENARIOS), "--only", "no-such-drill"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no scenario files" in done.stderr
