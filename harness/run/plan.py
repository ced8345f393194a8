"""Turn a validated scenario into a timeline of absolute offsets.

The plan is plain data computed before anything starts, so what will happen
when is visible (and testable) without running a drill, and the execution
only has to keep time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.errors import UsageError


@dataclass
class PlannedPhase:
    name: str
    start: float
    end: float
    expect: Any  # harness.scenario model Expect or None


@dataclass
class PlannedFault:
    id: str
    phase: str
    spec: Any  # harness.scenario model Fault
    start: float
    end: float


@dataclass
class PlannedAction:
    phase: str
    at: float
    service: str
    method: str
    path: str
    json: Any = None
    index: int = 0  # position among its phase's actions: names its answers in the journal


@dataclass
class Plan:
    scenario: Any
    stack: Any
    phases: list[PlannedPhase] = field(default_factory=list)
    faults: list[PlannedFault] = field(default_factory=list)
    actions: list[PlannedAction] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.phases[-1].end if self.phases else 0.0

    def phase_at(self, t: float) -> PlannedPhase | None:
        for phase in self.phases:
            if phase.start <= t < phase.end:
                return phase
        return None

    def faults_active_at(self, t: float) -> list[PlannedFault]:
        return [f for f in self.faults if f.start <= t < f.end]


def make_plan(scenario: Any, stack: Any) -> Plan:
    plan = Plan(scenario=scenario, stack=stack)
    t = 0.0
    n = 0
    for index, phase in enumerate(scenario.phases):
        duration = float(phase.duration)
        start, end = t, t + duration
        plan.phases.append(PlannedPhase(phase.name, start, end, phase.expect))
        for findex, fault in enumerate(phase.faults or []):
            f_start = float(fault.start or 0.0)
            f_end = float(fault.end) if fault.end is not None else duration
            if not 0 <= f_start < f_end <= duration + 1e-9:
                raise UsageError(
                    f"phases[{index}].faults[{findex}]: start {f_start:g}s and end {f_end:g}s must lie "
                    f"within the phase's {duration:g}s, start before end"
                )
            n += 1
            plan.faults.append(PlannedFault(f"f{n}", phase.name, fault, start + f_start, start + f_end))
        for a_index, action in enumerate(phase.actions or []):
            plan.actions.append(
                PlannedAction(
                    phase=phase.name,
                    index=a_index,
                    at=start + float(action.at or 0.0),
                    service=action.service,
                    method=action.method.upper(),
                    path=action.path,
                    json=getattr(action, "json_", None) or getattr(action, "body", None),
                )
            )
        t = end
    return plan
