"""A game day journal turned into a scenario that repeats the same faults at the same offsets."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.errors import UsageError
from harness.gameday.replay import phases_from, replay
from harness.run.plan import make_plan
from harness.scenario import load_scenario


def _fault(fid, target, kind, applied, removed, attributes=None, result="ok", stream="downstream"):
    where = target.get("link") or target.get("service")
    label = f"{kind} on {where}" if "link" in target else f"{kind} {where}"
    return {"id": fid, "phase": "gameday", "target": target, "kind": kind, "stream": stream, "toxicity": 1.0,
            "attributes": attributes or {}, "label": label, "scheduled_at": applied,
            "applied_at": applied, "lag_ms": 1.0, "removed_at": removed, "result": result}


def crafted_journal() -> dict:
    return {
        "format": "chaosdrill-journal", "version": 1, "run_id": "20261123T100000Z-gameday",
        "scenario": {"title": "Game day", "plan": "", "stack": "lending", "load": {"users": 7, "spawn_rate": 7.0},
                     "invariants": ["no_lost_loans"], "kind": "gameday"},
        "faults": [
            _fault("g1", {"link": "lending->credit-bureau-a"}, "down", 10.04, 40.0),
            _fault("g2", {"link": "lending->credit-bureau-b"}, "down", 20.0, 40.01),
            _fault("g3", {"link": "lending->payment-gateway-primary"}, "latency", 55.0, 65.0,
                   {"latency": 800, "jitter": 200}),
            _fault("g4", {"link": "lending->payment-gateway-primary"}, "latency", 56.0, 57.0,
                   {"latency": 1}, result="error: proxy said no"),  # never took effect: not repeated
            _fault("g5", {"service": "credit-bureau-a", "instance": 0}, "kill", 70.0, None),  # on until the end
        ],
        "events": [
            {"t": 12.0, "type": "note", "message": "paged on-call", "data": {}},
            {"t": 30.0, "type": "users", "message": "load set to 20 users", "data": {"users": 20}},
            {"t": 85.0, "type": "finding", "message": "cached reports held", "data": {"author": "operator"}},
            {"t": 86.0, "type": "action_item", "message": "alert on breakers", "data": {"author": "operator",
                                                                                    "owner": "sam"}},
            {"t": 90.0, "type": "load_stopped", "message": "load stopped", "data": {}},
        ],
        "metrics": [{"t": t, "endpoints": {}} for t in range(0, 90)],
    }


def test_phases_are_cut_where_no_fault_is_active():
    phases = phases_from(crafted_journal())
    assert [(p["name"], p["duration"]) for p in phases] == [
        ("baseline", "10s"),
        ("down-on-lending-credit-bureau-a+down-on-lending-credit-bureau-b", "30s"),
        ("recovery", "15s"),
        ("latency-on-lending-payment-gateway-primary", "10s"),
        ("recovery-2", "5s"),
        ("kill-credit-bureau-a", "20s"),
    ]
    outage = phases[1]["faults"]
    assert outage == [{"link": "lending->credit-bureau-a", "toxic": "down"},
                      {"link": "lending->credit-bureau-b", "toxic": "down", "start": "10s"}]
    assert phases[3]["faults"] == [{"link": "lending->payment-gateway-primary", "toxic": "latency",
                                    "attributes": {"latency": 800, "jitter": 200}}]
    assert phases[5]["faults"] == [{"service": "credit-bureau-a", "action": "kill"}]


def test_replayed_scenario_is_valid_and_repeats_the_offsets(tmp_path):
    journal_path = tmp_path / "journal.json"
    journal_path.write_text(json.dumps(crafted_journal()))
    out = replay(journal_path, tmp_path / "replay.yaml")
    text = out.read_text()
    assert "#   t+12.0s note: paged on-call" in text  # what happened stays readable
    assert "#   t+85.0s finding: cached reports held" in text
    assert "#   t+86.0s action_item: alert on breakers (owner: sam)" in text
    scenario = load_scenario(out)
    assert scenario.stack == "lending" and scenario.load.users == 7
    assert scenario.invariants == ["no_lost_loans"]
    plan = make_plan(scenario, scenario.resolved_stack())
    got = sorted((pf.start, pf.end, pf.entry.describe()) for pf in plan.faults)
    assert got == [
        (10.0, 40.0, "down on lending->credit-bureau-a"),
        (20.0, 40.0, "down on lending->credit-bureau-b"),
        (55.0, 65.0, "latency on lending->payment-gateway-primary"),
        (70.0, 90.0, "kill credit-bureau-a"),
    ]


def test_overlapping_faults_share_one_phase_with_their_own_windows():
    journal = crafted_journal()
    journal["faults"] = [
        _fault("g1", {"link": "lending->credit-bureau-a"}, "down", 5.0, 15.0),
        _fault("g2", {"link": "lending->credit-bureau-b"}, "latency", 12.0, 30.0, {"latency": 100}),
        _fault("g3", {"link": "lending->payment-gateway-backup"}, "reset_peer", 20.0, 25.0, {"timeout": 0}),
    ]
    phases = phases_from(journal)
    assert [p["duration"] for p in phases] == ["5s", "25s", "1m"]
    faults = phases[1]["faults"]
    assert faults[0] == {"link": "lending->credit-bureau-a", "toxic": "down", "end": "10s"}
    assert faults[1]["start"] == "7s" and "end" not in faults[1]
    assert (faults[2]["start"], faults[2]["end"]) == ("15s", "20s")


def test_a_journal_without_faults_replays_as_steady_load():
    journal = crafted_journal()
    journal["faults"] = []
    phases = phases_from(journal)
    assert [p["name"] for p in phases] == ["steady"] and "faults" not in phases[0]


def test_not_a_journal_is_refused(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(UsageError, match="not a chaosdrill journal"):
        replay(bad, tmp_path / "out.yaml")
    with pytest.raises(UsageError, match="cannot read"):
        replay(tmp_path / "missing.json", tmp_path / "out.yaml")


def test_replay_command_line(tmp_path):
    journal_path = tmp_path / "journal.json"
    journal_path.write_text(json.dumps(crafted_journal()))
    out = tmp_path / "again.yaml"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "gameday", "--replay", str(journal_path),
                           "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and "scenario written" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "gameday", "--replay", str(journal_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--out" in proc.stderr
