"""Enough answers to decide: how many answers each rate expectation will judge, before a run.

A share is only as fine as its window: `error_rate < 1%` judged on 80
answers fails on the first error (1.25 %), so the verdict says which run
was unlucky, not how the system behaved. From the plan alone (phase
lengths, faults, the planned load: harness/run/load_rate.py) this module
counts the answers each share's settled window will hold, the window the
judge will use (harness/judge/windows.py), and names the bounds a single
answer moves a share across (harness/judge/margin.py). `validate`, the dry
runs and the start of `run` and `gate` print these lines; nothing stops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from harness.judge import DEFAULT_SETTLE
from harness.judge.judging import expect_scopes, expect_thresholds
from harness.judge.margin import LOWER, is_bound, one_answer_crosses
from harness.judge.windows import fault_changes, judged_seconds
from harness.run.load_rate import PlannedLoad
from harness.schema.thresholds import Threshold


def _counted_as(name: str) -> str:
    """What one counted answer of a share is called: 'error', 'OVERLOADED answer'."""
    if name == "error_rate":
        return "error"
    if name == "ungraceful":
        return "ungraceful answer"
    return f"{name.split('.', 1)[1]} answer"


@dataclass(frozen=True)
class RateWindow:
    """One share expectation and the answers its window is expected to hold."""

    phase: str
    scope: str | None  # an endpoint, `instance NAME`, or None: every request
    name: str  # error_rate, ungraceful, codes.CODE, classes.CLASS
    threshold: Threshold
    answers: int | None  # the estimate, rounded down; None: not known
    unknown: str = ""  # why not

    @property
    def text(self) -> str:
        """The expectation as the dry run's timeline writes it: `[POST /v1/loans] error_rate < 1%`."""
        return f"{f'[{self.scope}] ' if self.scope else ''}{self.name} {self.threshold}"

    @property
    def crosses(self) -> bool:
        """A single answer moves the share across its bound."""
        return self.answers is not None and one_answer_crosses(self.threshold, self.answers)

    @property
    def closeness(self) -> float:
        """How much of the room between the bound and its end of the scale one answer takes (>= 1: crosses)."""
        if self.answers is None or not is_bound(self.threshold):
            return 0.0
        room = self.threshold.value if self.threshold.op not in LOWER else 1.0 - self.threshold.value
        return math.inf if self.answers < 1 or room <= 0 else (1.0 / self.answers) / room

    def describe(self, step: bool = False) -> str:
        """`~80 answers judged, one error is 1.25 %`; the second part for a bound one answer crosses (or `step`)."""
        if self.answers is None:
            return f"answers not estimated: {self.unknown}"
        shown = f"~{self.answers} answers judged"
        if not (self.crosses or step) or self.answers < 1 or not is_bound(self.threshold):
            return shown
        step_text = f"{100.0 / self.answers:.3g} %"
        if self.threshold.op in LOWER:
            what = self.name.split(".", 1)[1] if "." in self.name else self.name
            return f"{shown}, one answer other than {what} is {step_text}"
        return f"{shown}, one {_counted_as(self.name)} is {step_text}"


@dataclass
class AnswerEstimate:
    """Every share expectation of one drill with its answers."""

    label: str  # the drill's file, and its profile: `scenarios/flash-crowd.yaml (profile gate)`
    windows: list[RateWindow] = field(default_factory=list)
    unknown: str = ""  # the load's rate is unknown (a locustfile without pacing)

    @property
    def fragile(self) -> list[RateWindow]:
        return [w for w in self.windows if w.crosses]

    def warnings(self) -> list[str]:
        """One line per bound a single answer crosses, one note per share not estimated."""
        if self.unknown and self.windows:
            return [f"note: {self.label}: answers not estimated for {len(self.windows)} rate expectation(s): "
                    f"{self.unknown}"]
        out = [f"warning: {self.label}: {w.phase} {w.text}: {w.describe()}" for w in self.fragile]
        out += [f"note: {self.label}: {w.phase} {w.text}: {w.describe()}"
                for w in self.windows if w.answers is None]
        return out

    def summary(self) -> str:
        """One progress line: how many shares, and the one a single answer comes closest to deciding."""
        if self.unknown and self.windows:
            return f"answers: not estimated ({self.unknown})"
        known = [w for w in self.windows if w.answers is not None]
        if not known:
            return ""
        closest = max(known, key=lambda w: w.closeness)
        crossed = len(self.fragile)
        head = f"answers: {len(self.windows)} rate expectation(s)"
        if crossed:
            head += f", {crossed} of them decided by one answer"
        return f"{head}; closest: {closest.phase} {closest.text}: {closest.describe(step=True)}"

    def by_text(self) -> dict[tuple[str, str], RateWindow]:
        """(phase, expectation text) -> window, for annotating a timeline."""
        return {(w.phase, w.text): w for w in self.windows}


def drill_label(scenario: Any) -> str:
    source = str(scenario.source) if scenario.source is not None else scenario.title
    return f"{source} (profile {scenario.profile})" if scenario.profile else source


def estimate_answers(plan: Any, settle: float = DEFAULT_SETTLE) -> AnswerEstimate:
    """Each share expectation of the plan with the answers its settled window will judge."""
    scenario, stack = plan.scenario, plan.stack
    stack_load = getattr(stack, "load", None)
    locustfile = scenario.load.locustfile or (stack_load.locustfile if stack_load else None)
    load = PlannedLoad(scenario.load, locustfile, stack.entry_instances(), plan.duration)
    out = AnswerEstimate(drill_label(scenario), unknown=load.unknown)
    for planned in plan.phases:
        phase = scenario.phase(planned.name)
        if phase.expect is None:
            continue
        seconds = judged_seconds(planned.start, planned.end, fault_changes(phase, planned.start), settle)
        for scope, expect in expect_scopes(phase.expect):
            for name, threshold in expect_thresholds(expect):
                if threshold.unit != "%":
                    continue
                n = load.answers(scope, seconds)
                answers = None if n is None else math.floor(n + 1e-9)
                out.windows.append(RateWindow(planned.name, scope, name, threshold, answers,
                                              load.scope_unknown(scope)))
    return out


__all__ = ["AnswerEstimate", "RateWindow", "drill_label", "estimate_answers"]
