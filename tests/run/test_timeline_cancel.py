"""A fault whose apply or revert is cut short by the drill's end (or Ctrl-C) is still reverted.

Found running a gate profile whose last phase holds a `down` fault to its
end: the fault's own revert starts at the drill's last moment, the timeline
cancels every task 50 ms later, and the revert, cancelled before its thread
ran, had already taken the fault off the active list, so `revert_all` skipped
it: "faults left active after teardown: lending-to-credit-bureau-a", a failed
drill, and no `fault_removed` in the journal. An apply cut short the same way
(its thread already running) took effect after `revert_all` had run.
"""

from __future__ import annotations

import asyncio
import time

import harness.run.timeline as timeline_module
from harness.events import EventBus, journal_sink
from harness.run.fault_keeper import FaultKeeper
from harness.run.journal import Journal
from harness.run.plan import make_plan
from harness.run.timeline import Timeline
from harness.scenario import Scenario


class NoProcesses:
    """The runtime as the fault path sees it, for link faults only: nothing to lease to the watchdog."""

    def release_process_fault(self, fault_id: str) -> None:
        pass


class SlowFault:
    """A fault whose calls take a while, like a fault proxy call on a busy machine.

    The apply runs in a thread, so once started it takes effect even when the
    task awaiting it is cancelled; the revert takes effect only if its
    awaiting task is not cancelled first (a thread that never got to run).
    """

    kind = "down"
    target = {"link": "a->b"}

    def __init__(self, apply_s: float, revert_s: float) -> None:
        self.apply_s, self.revert_s = apply_s, revert_s
        self.on = False
        self.reverts = 0

    def describe(self) -> str:
        return "down on a->b"

    def details(self) -> dict:
        return {}

    def _apply_blocking(self) -> None:
        time.sleep(self.apply_s)
        self.on = True

    async def apply(self, rt) -> str:
        await asyncio.to_thread(self._apply_blocking)
        return "applied"

    async def revert(self, rt) -> str:
        await asyncio.sleep(self.revert_s)
        self.on = False
        self.reverts += 1
        return "reverted"


def _run(monkeypatch, fault: SlowFault, duration: float, start: float = 0.0) -> Journal:
    def build(entry, fault_id):
        fault.fault_id = fault_id
        return fault

    monkeypatch.setattr(timeline_module, "build_fault", build)
    scenario = Scenario.model_validate({
        "title": "t", "plan": "p", "stack": "lending", "load": {"users": 1, "spawn_rate": 1},
        "phases": [{"name": "only", "duration": duration,
                    "faults": [{"link": "lending->credit-bureau-a", "toxic": "down", "start": start}]}],
    })
    journal = Journal("run", {})
    events = EventBus(journal_sink(journal))
    keeper = FaultKeeper(NoProcesses(), journal, events)
    timeline = Timeline(make_plan(scenario, None), keeper, events)

    async def drill() -> None:
        try:
            await timeline.run(time.time())
        finally:
            await keeper.revert_all()  # what the session's wind-down does

    asyncio.run(drill())
    time.sleep(fault.apply_s + 0.2)  # any apply thread still running has ended
    return journal


def test_a_revert_cut_short_by_the_drills_end_is_still_done(monkeypatch):
    # The fault ends with the drill; its revert takes longer than the 50 ms the timeline waits.
    fault = SlowFault(apply_s=0.0, revert_s=0.3)
    journal = _run(monkeypatch, fault, duration=0.5)
    assert fault.on is False, "the fault was left on"
    assert fault.reverts == 1
    assert journal.faults["f1"]["removed_at"] is not None  # the journal says when it ended


def test_an_apply_cut_short_by_the_drills_end_is_reverted_after_it(monkeypatch):
    # The fault starts 50 ms before the drill ends and its apply outlasts the drill.
    fault = SlowFault(apply_s=0.3, revert_s=0.0)
    _run(monkeypatch, fault, duration=0.5, start=0.45)
    assert fault.on is False, "the fault was applied after the drill's clean-up and left on"
