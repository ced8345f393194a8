"""Judging honestly: a steady baseline before any fault, and a deadline for every answer.

Found with a user's own front end (no timeouts, a listen backlog of 5): the
matrix took its unhealthy baseline (p99 5 s, some requests timing out) as
the yardstick, called a paused gateway "unaffected" while every application
hung for seconds, and pruned four more faults on its word.
"""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace

import harness.matrix.driver as driver_module
from harness.events import EventBus
from harness.judge.recovery import Bounds
from harness.matrix.classify import classify
from harness.matrix.driver import MatrixDriver, MatrixSettings
from harness.metrics.series import Stats
from harness.run.verdict import decide
from harness.scenario import Scenario
from tests.judge.series_builder import record, series, steady
from tests.run.conftest import ROOT, only_journal, run_cli

FRAGILE = ROOT / "tests/fixtures/stacks/fragile-front.yaml"


def stats_of(n: int, latency_ms: float, ungraceful: int = 0) -> Stats:
    return Stats.from_json(record(n, latency_ms=latency_ms, ungraceful=ungraceful))


def test_an_answer_over_the_deadline_makes_a_cell_ungraceful_too_slow():
    bounds = Bounds.from_baseline(stats_of(100, 20))
    outcome, evidence = classify(stats_of(50, 2500), bounds, hang_ms=5000, violated=[], deadline_ms=2000)
    assert outcome == "ungraceful" and evidence.slow == 50
    assert evidence.why == "too slow: 50 answer(s) over the 2000 ms deadline"
    assert classify(stats_of(50, 1500), bounds, 5000, [], 2000)[0] == "graceful"  # slower, but in time


def test_a_slow_baseline_is_no_yardstick_its_bounds_stop_at_the_deadline():
    slow_base = Bounds.from_baseline(stats_of(100, 1800))  # 2 x 1.8 s: 3.6 s would pass as "unaffected"
    capped = slow_base.capped(2000)
    assert capped.p99_ms == 2000 and slow_base.p99_ms > 3500
    assert classify(stats_of(100, 1900), capped, 5000, [], 2000)[0] == "unaffected"
    assert not capped.holds(stats_of(100, 2100))


def test_slow_counts_answers_over_the_stacks_deadline():
    from harness.judge import judge

    scenario = Scenario.model_validate({
        "title": "t", "plan": "p", "stack": "lending", "load": {"users": 1, "spawn_rate": 1},
        "phases": [{"name": "p", "duration": 4, "expect": {"slow": "== 0"}}]})
    # the lending stack's deadline is 2 s
    values = [100.0] * 8 + [2100.0, 2600.0]
    (result,) = judge(scenario, {"p": (0, 4)}, series({t: {"GET /x": record(10, latency_ms=values)} for t in range(4)}))
    assert result.name == "slow" and not result.passed
    assert result.measured == 8 and result.display == "8 of 40 over the 2000.0 ms deadline"


def test_a_first_phase_failing_before_any_fault_says_the_start_was_not_steady():
    scenario = Scenario.model_validate({
        "title": "t", "plan": "p", "stack": "lending", "load": {"users": 1, "spawn_rate": 1},
        "phases": [{"name": "baseline", "duration": 4, "expect": {"ungraceful": "== 0"}},
                   {"name": "outage", "duration": 4,
                    "faults": [{"link": "lending->credit-bureau-a", "toxic": "down"}]}]})
    metrics = [{"t": t, "endpoints": {"GET /x": record(10, ungraceful=1)}} for t in range(8)]
    journal = {"status": "completed", "exit_code": 0, "metrics": metrics,
               "phases": [{"name": "baseline", "start": 0, "end": 4}, {"name": "outage", "start": 4, "end": 8}]}
    out = decide(journal, scenario)
    assert out["status"] == "failed"
    assert "baseline was not steady before any fault was on" in out["reason"]


class FakeTimeline:
    """What the matrix driver uses of a timeline, over a made-up series in which nothing ever changes."""

    def __init__(self, scenario: Scenario, per_second: dict, applied: list) -> None:
        self.t0 = time.time() - 1000  # every wait is already over
        self.plan = SimpleNamespace(scenario=scenario, stack=SimpleNamespace(audit=None))
        self.journal = SimpleNamespace(phases=[])
        self.events = EventBus()
        self._series = series(per_second)
        self.applied = applied

    def collect_metrics(self) -> None:
        pass

    def series(self):
        return self._series

    async def apply_now(self, entry, phase):
        self.applied.append(phase)
        return f"d{len(self.applied)}"

    async def revert_now(self, fault_id):
        pass


def _drive(monkeypatch, errors_per_second: int, accept: bool) -> tuple[MatrixDriver, list]:
    monkeypatch.setattr(driver_module, "COLLECT_LAG", 0.0)
    settings = MatrixSettings(links=["a->b"], faults=["down", "reset_peer"], baseline_s=4, fault_s=0, settle_s=0,
                              deadline_ms=2000, accept_unsteady=accept)
    scenario = Scenario.model_validate({
        "title": "m", "plan": "p", "stack": "lending", "load": {"users": 1, "spawn_rate": 1},
        "phases": [{"name": "baseline", "duration": 4, "expect": settings.steady_expect()},
                   {"name": "matrix", "duration": 60}]})
    applied: list = []
    tl = FakeTimeline(scenario, steady(0, 2000, n=100, degraded=errors_per_second), applied)
    driver = MatrixDriver(settings, {"a->b": "b"}, [])
    asyncio.run(driver(tl))
    return driver, applied


def test_an_unsteady_baseline_stops_the_matrix_before_any_fault(monkeypatch):
    driver, applied = _drive(monkeypatch, errors_per_second=5, accept=False)  # 5 % errors with nothing wrong
    assert applied == [] and driver.cells == []
    assert driver.baseline["steady"] is False and "error_rate 5% (steady: <= 1%)" in driver.stopped


def test_against_an_accepted_unsteady_baseline_every_cell_runs_marked_and_none_is_implied(monkeypatch):
    driver, applied = _drive(monkeypatch, errors_per_second=5, accept=True)
    assert applied == ["a->b x down", "a->b x reset_peer"]  # down's outcome implies nothing
    assert all(c["ran"] and c["unsteady_baseline"] for c in driver.cells)
    steady_driver, steady_applied = _drive(monkeypatch, errors_per_second=0, accept=False)
    assert steady_applied == ["a->b x down"]  # against a steady baseline, down (unaffected) implies reset_peer
    assert not any(c.get("unsteady_baseline") for c in steady_driver.cells)


def test_a_fragile_front_end_stops_the_matrix_at_its_baseline_with_one_line(tmp_path, isolated_state):
    res = run_cli(["matrix", "--stack", str(FRAGILE), "--links", "front->gateway", "--faults", "pause",
                   "--users", "20", "--baseline", "5", "--fault-time", "3", "--settle", "1",
                   "--report-dir", str(tmp_path / "r")], tmp_path, timeout=120)
    assert res.returncode == 1, res.stdout + res.stderr
    last = res.stdout.strip().splitlines()[-1]
    assert last.startswith("FAILED: matrix stopped at the baseline, which is not steady: "), last
    assert "No fault was injected" in last and "--accept-unsteady-baseline" in last
    journal = only_journal(tmp_path / "r")
    assert journal["faults"] == [] and journal["matrix"]["cells"] == []
    assert journal["matrix"]["baseline"]["steady"] is False


def test_accepted_the_paused_gateway_is_ungraceful_too_slow_not_unaffected(tmp_path, isolated_state):
    res = run_cli(["matrix", "--stack", str(FRAGILE), "--links", "front->gateway", "--faults", "pause",
                   "--users", "20", "--baseline", "5", "--fault-time", "3", "--settle", "1",
                   "--accept-unsteady-baseline", "--report-dir", str(tmp_path / "r")], tmp_path, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    (run_dir,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]  # beside it: the run history
    matrix = json.loads((run_dir / "matrix.json").read_text())
    (cell,) = matrix["cells"]
    assert cell["outcome"] == "ungraceful" and cell["unsteady_baseline"]
    assert "too slow" in cell["evidence"]["why"]
    assert "[judged against an unsteady baseline]" in res.stderr
    html = (run_dir / "matrix.html").read_text()
    assert "The baseline was not steady" in html and "Deadline: 2000 ms" in html
