"""Turn a validated scenario into a timeline of absolute offsets.

The plan is plain data computed before anything starts, so what will happen
when is visible (and testable) without running a drill, and the execution
only has to keep time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.errors import UsageError
from harness.schema.durations import format_duration


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
    entry: Any  # harness.scenario.FaultEntry
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


def describe_plan(plan: Plan) -> list[str]:
    """What a run of this plan will do, in the words and at the offsets its progress
    lines will use, without starting anything (`run --dry-run`): a drill can be read
    and reviewed as the timeline it is, with its profile and --replicas applied."""
    from harness.faults import build_fault
    from harness.run.answers import estimate_answers

    scenario, stack = plan.scenario, plan.stack
    answers = estimate_answers(plan).by_text()
    services = ", ".join(f"{name} x{svc.replicas}" if svc.replicas > 1 else name
                         for name, svc in stack.services.items())
    load = scenario.load
    lines = [f"stack {stack.name} ({stack.backend}): {services}; entry {stack.entry}",
             f"links: {', '.join(stack.fault_links()) or 'none'}",
             f"load: {load.users} users at {load.spawn_rate:g}/s ({load.locustfile or stack.load.locustfile})"]
    if load.stages:
        lines.append("load stages, from the load's start (a few seconds before the first phase):")
        lines += [f"  {stage.users} users at {stage.spawn_rate:g}/s for {format_duration(stage.duration)}"
                  for stage in load.stages]
    # (t, order at equal t, text): what ends at t is said before what starts at t
    events: list[tuple[float, int, str]] = []
    for phase in plan.phases:
        events.append((phase.start, 1, f"phase {phase.name} ({format_duration(phase.end - phase.start)})"))
        # a share's line says how many answers its window will judge (harness/run/answers.py)
        events += [(phase.start, 3, f"expect {text}" + (f"  ({answers[(phase.name, text)].describe()})"
                                                        if (phase.name, text) in answers else ""))
                   for text in _expectations(phase.expect)]
    for fault in plan.faults:
        what = build_fault(fault.entry, fault.id).describe()
        events.append((fault.start, 2, f"fault on: {what}"))
        events.append((fault.end, 0, f"fault off: {what}"))
    for action in plan.actions:
        events.append((action.at, 2, f"action: {action.method} {action.path} on every {action.service} instance"))
    events.append((plan.duration, 4, "end: load stops, invariants are audited"))
    # expectations are indented under their phase, as the verdict will list them
    lines += [f"{'':10} {text}" if order == 3 else f"[{t:6.1f}s] {text}"
              for t, order, text in sorted(events, key=lambda e: (e[0], e[1]))]
    if scenario.invariants:
        lines.append(f"invariants: {', '.join(scenario.invariants)}")
    if scenario.abort_if:
        lines.append("abort if: " + ", ".join(f"{name} {rule}" for name, rule in scenario.abort_if.items()))
    return lines


def _expectations(expect: Any) -> list[str]:
    """A phase's expectations as written: `error_rate < 1%`, `[POST /v1/loans] codes.MAINTENANCE > 80%`."""
    if expect is None:
        return []

    def flat(data: dict[str, Any], scope: str) -> list[str]:
        out = []
        for key, value in data.items():
            if key in ("endpoints", "instances"):
                for name, sub in value.items():
                    out += flat(sub, f"[{'instance ' if key == 'instances' else ''}{name}] ")
            elif isinstance(value, dict):
                out += [f"{scope}{key}.{code} {rule}" for code, rule in value.items()]
            elif key == "recovers_within":
                out.append(f"{scope}recovers_within {format_duration(value)}")
            else:
                out.append(f"{scope}{key} {value}")
        return out

    return flat(expect.model_dump(mode="json", exclude_none=True, exclude_defaults=True, by_alias=True), "")
