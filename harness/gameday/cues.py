"""Scenario phases run on cue during a game day.

`run FILE` runs a scenario's phases one after the other; `phase NAME` and
`phase next` run one. A cued phase keeps its own clock (its faults and
actions at their offsets from the phase's start), puts its faults on and off
through the session's one fault path, and is written into the record where
it ran, judged by its expectations once it ends.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.events import EventBus
from harness.faults import build_fault
from harness.gameday.hypotheses import Hypotheses
from harness.gameday.live import ActiveFault, LiveModel
from harness.gameday.record import GamedayRecord
from harness.gameday.recovery import RecoveryWatch
from harness.run.fault_keeper import FaultKeeper
from harness.run.timeline import Timeline
from harness.schema.durations import format_duration

__all__ = ["Cues"]


@dataclass
class _Cue:
    record: dict[str, Any]
    timeline: Timeline
    fault_ids: list[str]
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    failure_shown: bool = False


class Cues:
    def __init__(self, scenario: Any, stack: Any, faults: FaultKeeper, events: EventBus, model: LiveModel,
                 record: GamedayRecord, recovery: RecoveryWatch, hypotheses: Hypotheses) -> None:
        self.scenario = scenario  # the scenario phases are cued from (--scenario, then each `run FILE`)
        self.stack = stack
        self.faults = faults
        self.events = events
        self.model = model
        self.record = record
        self.recovery = recovery
        self.hypotheses = hypotheses
        self.plan: Any = None
        self._n = 0
        self._next = 0
        self._task: asyncio.Task[None] | None = None
        self._running: list[_Cue] = []

    # ------------------------------------------------------------ names
    def phase_names(self) -> list[str]:
        return [p.name for p in self.scenario.phases] if self.scenario is not None else []

    def current_phase(self) -> str:
        return self._running[-1].record["name"] if self._running else "gameday"

    # ------------------------------------------------------------ commands
    async def run_scenario(self, path: Path) -> None:
        """A scenario file, or a library drill by name (scenarios/NAME.yaml)."""
        from harness.scenario import load_scenario

        if not path.exists() and path.suffix == "" and (Path("scenarios") / f"{path}.yaml").exists():
            path = Path("scenarios") / f"{path}.yaml"
        scenario = load_scenario(path)
        if scenario.stack != self.stack.name and scenario.resolved_stack().name != self.stack.name:
            raise UsageError(f"run {path}: it runs on stack {scenario.stack}, this game day on {self.stack.name}")
        self.scenario, self.plan, self._next = scenario, None, 0
        self.events.emit("phase_cued", f"scenario {scenario.title} ({path}): running its "
                                       f"{len(scenario.phases)} phase(s)")
        await self._start([p.name for p in scenario.phases])

    async def cue(self, name: str) -> None:
        if name == "stop":
            await self.stop()
            self.recovery.faults_cleared()
            return
        if self.scenario is None:
            raise UsageError("phase: no scenario loaded; start with --scenario FILE or 'run FILE'")
        names = self.phase_names()
        if name == "next":
            if self._next >= len(names):
                raise UsageError(f"phase next: every phase of {self.scenario.title} has run; 'phase NAME' repeats one")
            name = names[self._next]
        self.events.emit("phase_cued", f"phase {name} of {self.scenario.title}")
        await self._start([name])

    async def clear(self, fault_id: str) -> None:
        """Take one cued phase's fault off before its time."""
        for cue in self._running:
            if fault_id in cue.fault_ids and fault_id in self.faults.active:
                await self.faults.revert(fault_id)
                self.sync_faults()
                return
        raise UsageError(f"clear: no active fault {fault_id!r}")

    async def stop(self) -> None:
        """End every cued phase now (its faults off)."""
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for cue in list(self._running):
            await self._end(cue)

    # ------------------------------------------------------------ running
    async def _start(self, names: list[str]) -> None:
        await self.stop()
        self._task = asyncio.create_task(self._run_phases(names))

    async def _run_phases(self, names: list[str]) -> None:
        from harness.run.plan import make_plan

        if self.plan is None:
            self.plan = make_plan(self.scenario, self.stack)
        for name in names:
            self._next = self.phase_names().index(name) + 1
            await self._run_phase(next(p for p in self.plan.phases if p.name == name))

    async def _run_phase(self, phase: Any) -> None:
        plan = self.plan
        self._n += 1
        began = time.time()
        timeline = Timeline(plan, self.faults, self.events)
        timeline.t0 = began - phase.start
        record = self.record.add(phase.name, self.model.offset(began), _dump(phase.expect))
        planned = [replace(pf, id=f"c{self._n}{pf.id}") for pf in plan.faults if pf.phase == phase.name]
        for pf in planned:
            self.faults.plan(build_fault(pf.entry, pf.id), record["name"],
                             self.faults.journal.offset(timeline.t0 + pf.start))
        cue = _Cue(record, timeline, [pf.id for pf in planned])
        cue.tasks = ([asyncio.create_task(timeline.scheduled_fault(pf)) for pf in planned]
                     + [asyncio.create_task(timeline.scheduled_action(a)) for a in plan.actions
                        if a.phase == phase.name])
        self._running.append(cue)
        self.model.phase = record["name"]
        self.events.emit("phase_started", f"{record['name']} ({format_duration(phase.end - phase.start)})")
        if planned:
            self.record.fault_applied()
            self.recovery.fault_applied()
        try:
            await asyncio.sleep(phase.end - phase.start)
        finally:
            await self._end(cue)
        if record.get("expect"):
            self.hypotheses.judge_soon(record)

    async def _end(self, cue: _Cue) -> None:
        if cue not in self._running:
            return
        self._running.remove(cue)
        for task in cue.tasks:
            task.cancel()
        await asyncio.gather(*cue.tasks, return_exceptions=True)
        await self.faults.settle()  # an apply cut short by the cancel lands first, then is reverted
        for fault_id in cue.fault_ids:
            await self.faults.revert(fault_id)
        cue.record["end"] = round(self.model.offset(), 3)
        self.model.phase = self._running[-1].record["name"] if self._running else None
        self.events.emit("phase_ended", cue.record["name"])
        self.sync_faults()
        self.recovery.faults_cleared()

    def sync_faults(self) -> None:
        """Show the cued phases' faults beside the operator's."""
        model = self.model
        live: dict[str, tuple[Any, str]] = {}
        for cue in self._running:
            for fault_id in cue.fault_ids:
                if fault_id in self.faults.active:
                    live[fault_id] = (self.faults.active[fault_id], cue.record["name"])
            failure = cue.timeline.failure
            if failure is not None and not cue.failure_shown:
                cue.failure_shown = True
                model.event("fault_failed", str(failure))
        for fault_id, active in list(model.faults.items()):
            if active.source != "operator" and fault_id not in live:
                model.fault_off(fault_id)
        for fault_id, (fault, phase) in live.items():
            if fault_id not in model.faults:
                applied = self.faults.journal.faults.get(fault_id, {}).get("applied_at") or model.offset()
                model.fault_on(ActiveFault(fault_id, fault.describe(), fault.target, applied, source=phase))


def _dump(model: Any) -> Any:
    if model is None:
        return None
    return model.model_dump(mode="json", exclude_none=True, exclude_defaults=True, by_alias=True)
