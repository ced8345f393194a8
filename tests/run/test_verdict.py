"""The verdict from a journal: aborted phases, lost workers, leftovers, the reason; journal sample times."""

from __future__ import annotations

from harness.metrics.histogram import Histogram
from harness.run.verdict import decide
from harness.scenario import Scenario

SCENARIO = Scenario.model_validate({
    "title": "t", "plan": "p", "stack": "lending", "load": {"users": 1, "spawn_rate": 1},
    "phases": [
        {"name": "baseline", "duration": 5, "expect": {"ungraceful": "== 0"}},
        {"name": "broken", "duration": 20, "expect": {"ungraceful": "== 0"}},
        {"name": "after", "duration": 5, "expect": {"ungraceful": "== 0"}},
    ],
})


def second(t: int, ok: int, bad: int) -> dict:
    h = Histogram()
    for _ in range(ok + bad):
        h.record(2000)
    return {"t": t, "endpoints": {"GET /x": {"n": ok + bad, "classes": {"success": ok, "degraded": 0, "rejected": 0,
                                                                          "ungraceful": bad},
                                             "codes": {"OK": ok, "reset": bad}, "retry_after_missing": 0,
                                             "hist": h.to_json()}}}


def journal(status: str, events: list[dict], upto: int) -> dict:
    return {
        "status": status, "exit_code": 1 if status == "aborted" else 0, "reason": "",
        "phases": [{"name": "baseline", "start": 0, "end": 5}, {"name": "broken", "start": 5, "end": 25},
                   {"name": "after", "start": 25, "end": 30}],
        "metrics": [second(t, 10, 0 if t < 5 else 10) for t in range(upto)],
        "events": events, "invariants": [], "leftovers": {"checked": True, "toxics": []},
    }


def test_an_aborted_phase_is_judged_on_the_seconds_it_had_and_marked_partial():
    j = decide(journal("aborted", [{"t": 12.0, "type": "abort", "message": "abort_if", "data": {}}], 12), SCENARIO)
    assert j["status"] == "aborted"  # the abort stays the verdict
    by_phase = {e["phase"]: e for e in j["expectations"]}
    assert set(by_phase) == {"baseline", "broken"}  # "after" never ran
    assert by_phase["baseline"]["passed"] and not by_phase["baseline"].get("partial")
    broken = by_phase["broken"]
    assert broken["partial"] and not broken["passed"] and broken["measured"] == 70
    assert "cut short by the abort at 12s" in broken["why"]


def test_a_lost_worker_fails_the_phase_it_happened_in():
    j = decide(journal("completed", [{"t": 26.5, "type": "worker_lost", "message": "w", "data": {"worker": "w2"}}],
                       30), SCENARIO)
    lost = [e for e in j["expectations"] if e["name"] == "load_workers"]
    assert [(e["phase"], e["passed"]) for e in lost] == [("after", False)]
    assert j["status"] == "failed" and "w2" in lost[0]["why"]


def test_a_fault_left_behind_fails_an_otherwise_green_drill():
    j = journal("completed", [], 30)
    j["metrics"] = [second(t, 10, 0) for t in range(30)]
    j["leftovers"] = {"checked": True, "toxics": ["lending-to-x/latency_downstream_f1"], "disabled_proxies": [],
                      "paused": []}
    j = decide(j, SCENARIO)
    assert j["status"] == "failed" and "left active" in j["reason"]


def test_the_reason_names_the_worst_failure_not_the_first():
    """A baseline p99 over its bound comes first in time, but the broken answers of the fault
    phase are what the one-line reason must name."""
    scenario = Scenario.model_validate({
        "title": "t", "plan": "p", "stack": "lending", "load": {"users": 1, "spawn_rate": 1},
        "phases": [
            {"name": "baseline", "duration": 5, "expect": {"p99_ms": "< 1"}},  # every answer took 2 ms
            {"name": "broken", "duration": 20, "expect": {"p99_ms": "< 1", "ungraceful": "== 0"}},
            {"name": "after", "duration": 5},
        ],
    })
    j = decide(journal("running", [], 30), scenario)
    failed = [(e["phase"], e["name"]) for e in j["expectations"] if not e["passed"]]
    assert failed[0] == ("baseline", "p99_ms") and ("broken", "ungraceful") in failed, failed
    assert j["status"] == "failed"
    assert j["reason"].startswith(f"{len(failed)} expectation(s) failed, worst: broken: "), j["reason"]
    assert "ungraceful" in j["reason"], j["reason"]


def test_service_samples_keep_when_they_were_read():
    """A breaker read 3.7 s after t0 is at 3.7 in the journal, not at 3: the report draws state
    changes where they were seen."""
    from harness.run.journal import Journal

    j = Journal("r", {})
    j.t0 = 1000.0
    j.service_sample(1003.7, "lending", 0, {"breaker_state": 2.0})
    (sample,) = j.to_dict()["service_metrics"]
    assert sample["t"] == 3.7 and sample["values"] == {"breaker_state": 2.0}
