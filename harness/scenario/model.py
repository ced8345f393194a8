"""The scenario file: load, phases with faults and expectations, invariants.

Field names here are the file's keys (docs/scenarios.md). Every duration is
float seconds and every threshold a parsed `Threshold` once validated, so
the runner and the judge never parse text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, SerializerFunctionWrapHandler, field_validator, model_serializer, model_validator

from harness.errors import UsageError
from harness.scenario.toxics import AttributeError_, ToxicName, convert_attributes, fault_stream, toxic_names
from harness.schema.base import Duration, StrictModel
from harness.schema.durations import format_duration
from harness.schema.errors import LocatedError
from harness.schema.names import instance_name
from harness.schema.suggest import unknown_name
from harness.schema.thresholds import Threshold, ThresholdFor, units

# ---------------------------------------------------------------- thresholds by meaning

ShareThreshold = Annotated[Threshold, units("%", hint="a share like '< 0.5%'")]
CountOrShare = Annotated[Threshold, units("", "%", hint="a count like '== 0' or a share like '< 1%'")]
CountThreshold = Annotated[Threshold, units("", hint="a count like '<= 2' (a share of errors is error_rate)")]
LatencyThreshold = Annotated[Threshold, units("", "ms", "s", "us", hint="a time like '< 300ms' or '< 2s' (no unit: ms)")]
RateThreshold = Annotated[Threshold, units("x", "rps", "", hint="a ratio to the baseline like '> 0.7x' or requests/s like '> 50rps'")]

OutcomeClassName = Literal["success", "degraded", "rejected", "ungraceful"]

# abort_if metric -> units it accepts (no 'x': an abort is judged before any baseline is complete)
ABORT_METRICS: dict[str, tuple[str, ...]] = {
    "error_rate": ("%",),
    "ungraceful": ("", "%"),
    "p50_ms": ("", "ms", "s", "us"),
    "p95_ms": ("", "ms", "s", "us"),
    "p99_ms": ("", "ms", "s", "us"),
    "max_latency": ("", "ms", "s", "us"),
    "throughput": ("rps", ""),
    "goodput": ("rps", ""),
}


def abort_problems(abort_if: Any) -> list[tuple[tuple, str]]:
    """Unknown metrics and misfit units in abort_if (raw or validated), for the model and the file check."""
    out: list[tuple[tuple, str]] = []
    for metric, cond in (abort_if.items() if isinstance(abort_if, dict) else ()):
        allowed = ABORT_METRICS.get(metric)
        if allowed is None:
            out.append(((metric,), unknown_name("abort_if metric", metric, ABORT_METRICS)))
            continue
        try:
            unit = ThresholdFor.parse(cond).threshold.unit
        except ValueError:
            continue  # the threshold itself is reported by the structural check
        if unit not in allowed:
            shown = ", ".join(u or "none" for u in allowed)
            out.append(((metric,), f"unit '{unit or 'none'}' does not fit {metric} here; units: {shown}"))
    return out


class ExpectBase(StrictModel):
    """What must hold over a phase (or one endpoint in it); every field is optional."""

    error_rate: ShareThreshold | None = None
    errors: CountThreshold | None = None  # degraded + ungraceful answers of the whole phase
    ungraceful: CountOrShare | None = None
    p50_ms: LatencyThreshold | None = None
    p90_ms: LatencyThreshold | None = None
    p95_ms: LatencyThreshold | None = None
    p99_ms: LatencyThreshold | None = None
    max_latency: LatencyThreshold | None = None
    throughput: RateThreshold | None = None
    goodput: RateThreshold | None = None
    codes: dict[str, CountOrShare] = Field(default_factory=dict)
    classes: dict[OutcomeClassName, CountOrShare] = Field(default_factory=dict)
    recovers_within: Duration | None = None
    retry_after: Literal["required"] | None = None
    slow: CountOrShare | None = None  # answers slower than the stack's deadline (Scenario.deadline_s)


class EndpointExpect(ExpectBase):
    """Expectations on one endpoint (by its name in the metrics, e.g. "POST /v1/loans")."""


class Expect(ExpectBase):
    endpoints: dict[str, EndpointExpect] = Field(default_factory=dict)
    # one entry instance's requests ("lending" is instance 0, "lending#1" the next), e.g. a canary's harm
    instances: dict[str, EndpointExpect] = Field(default_factory=dict)


LINK_ONLY = ("link", "toxic", "attributes", "stream", "toxicity")
SERVICE_ONLY = ("service", "instance", "action", "restart")


class FaultEntry(StrictModel):
    """One fault: a toxic (or down) on a link, or a process action on a service instance."""

    link: str | None = None
    toxic: ToxicName | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    stream: Literal["upstream", "downstream"] | None = None  # default: downstream (HTTP toxics: upstream)
    toxicity: float = Field(1.0, ge=0.0, le=1.0)
    service: str | None = None
    instance: int = Field(0, ge=0)
    action: Literal["kill", "pause", "restart"] | None = None
    restart: bool | None = None  # kill: restart at the fault's end (default: the stack's restart_on_kill)
    start: Duration = 0.0
    end: Duration | None = None

    @model_validator(mode="after")
    def _one_target(self) -> "FaultEntry":
        given = self.model_fields_set
        if self.link and self.service:
            raise LocatedError("a fault targets a link or a service, not both", ("service",))
        if not self.link and not self.service:
            raise LocatedError("a fault needs a target: 'link: FROM->TO' (with toxic:) or 'service: NAME' (with action:)")
        if self.link:
            for key in ("action", "instance", "restart"):
                if key in given:
                    raise LocatedError(f"'{key}' is for service faults; a link fault takes toxic:", (key,))
            if self.toxic is None:
                raise LocatedError(f"a link fault needs a toxic: one of {', '.join(toxic_names())}", ("toxic",))
            try:
                self.attributes = convert_attributes(self.toxic, self.attributes)
            except AttributeError_ as exc:
                raise LocatedError(exc.message, ("attributes", exc.key) if exc.key else ("attributes",)) from None
            try:
                self.stream = fault_stream(self.toxic, self.stream)
            except ValueError as exc:
                raise LocatedError(str(exc), ("stream",)) from None
        else:
            for key in ("toxic", "attributes", "stream", "toxicity"):
                if key in given:
                    raise LocatedError(f"'{key}' is for link faults; a service fault takes action: kill|pause|restart", (key,))
            if self.action is None:
                raise LocatedError("a service fault needs an action: kill, pause or restart", ("action",))
            if self.restart is not None and self.action != "kill":
                raise LocatedError("'restart' applies to kill only", ("restart",))
        if self.end is not None and self.end <= self.start:
            raise LocatedError(f"end ({format_duration(self.end)}) must come after start ({format_duration(self.start)})", ("end",))
        return self

    @model_serializer(mode="wrap")
    def _only_own_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dump a link fault without service fields and vice versa, so a dump loads again."""
        data = handler(self)
        drop = LINK_ONLY if not self.link else SERVICE_ONLY
        return {k: v for k, v in data.items() if k not in drop}

    @property
    def kind(self) -> str:
        """The toxic type, 'down', or the process action."""
        return self.toxic if self.link else str(self.action)

    def describe(self) -> str:
        if self.link:
            return f"{self.toxic} on {self.link}"
        return f"{self.action} {instance_name(str(self.service), self.instance)}"


class AnswerExpect(StrictModel):
    """What every instance's answer to an action must be, like a Chaos Toolkit
    probe's tolerance: a drill can then judge what users are told (a maintenance
    notice in /v1/status), not only how many requests failed."""

    status: int | None = Field(None, ge=100, le=599)
    contains: str | None = None
    json_: dict[str, Any] | None = Field(None, alias="json")  # dotted path -> expected value

    @model_validator(mode="after")
    def _something(self) -> "AnswerExpect":
        if self.status is None and self.contains is None and not self.json_:
            raise ValueError("give at least one of status, contains, json")
        return self


class Action(StrictModel):
    """An HTTP call to every instance of a service at an offset in the phase
    (e.g. lending's POST /v1/admin/maintenance), its answers judged when it has `expect`."""

    at: Duration = 0.0
    service: str
    method: str = "POST"
    path: str
    json_: dict[str, Any] | None = Field(None, alias="json")
    expect: AnswerExpect | None = None


class Phase(StrictModel):
    name: str = Field(min_length=1)
    duration: Duration
    faults: list[FaultEntry] = Field(default_factory=list)
    expect: Expect | None = None
    actions: list[Action] = Field(default_factory=list)

    @field_validator("duration")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("a phase lasts longer than 0s")
        return v

    @model_validator(mode="after")
    def _inside_phase(self) -> "Phase":
        for sub_loc, message in window_problems(self.model_dump(include={"duration", "faults", "actions"})):
            raise LocatedError(message, sub_loc)
        return self

    def fault_window(self, fault: FaultEntry) -> tuple[float, float]:
        """[start, end) of a fault as offsets in this phase."""
        return fault.start, (fault.end if fault.end is not None else self.duration)


def window_problems(phase: dict[str, Any]) -> list[tuple[tuple, str]]:
    """Faults and actions that do not fit in their phase, on raw or dumped phase data.

    Shared by the model (for phases built in code) and the file checks (which
    run even when another field of the phase is invalid).
    """
    from harness.schema.durations import parse_duration

    def seconds(value: Any) -> float | None:
        try:
            return parse_duration(value)
        except ValueError:
            return None

    duration = seconds(phase.get("duration"))
    if duration is None or duration <= 0:
        return []
    shown = format_duration(duration)
    out: list[tuple[tuple, str]] = []
    faults = phase.get("faults") if isinstance(phase.get("faults"), list) else []
    for i, fault in enumerate(faults):
        if not isinstance(fault, dict):
            continue
        start = seconds(fault.get("start", 0)) if fault.get("start") is not None else 0.0
        end = seconds(fault["end"]) if fault.get("end") is not None else None
        if start is not None and start >= duration:
            out.append((("faults", i, "start"), f"start ({format_duration(start)}) must be inside the phase's {shown}"))
        if end is not None and end > duration + 1e-9:
            out.append((("faults", i, "end"), f"end ({format_duration(end)}) is after the end of the phase ({shown})"))
    actions = phase.get("actions") if isinstance(phase.get("actions"), list) else []
    for i, action in enumerate(actions):
        at = seconds(action.get("at", 0)) if isinstance(action, dict) and action.get("at") is not None else None
        if at is not None and at >= duration:
            out.append((("actions", i, "at"), f"at ({format_duration(at)}) must be inside the phase's {shown}"))
    return out


class Stage(StrictModel):
    duration: Duration
    users: int = Field(ge=0)
    spawn_rate: float = Field(gt=0)


class Load(StrictModel):
    users: int = Field(ge=1)
    spawn_rate: float = Field(gt=0)
    locustfile: str | None = None  # None: the stack's; relative to the scenario file
    user_classes: list[str] | None = None
    processes: int = Field(0, ge=0)  # local Locust worker processes (0: one process)
    workers: int = Field(0, ge=0)  # remote workers expected
    pacing: Literal["constant", "poisson"] | None = None
    stages: list[Stage] | None = None
    request_timeout: Duration | None = None  # client-side deadline per request (default 5s)


class LoadOverride(StrictModel):
    """A profile's changes to the load; omitted keys keep the scenario's value."""

    users: int | None = Field(None, ge=1)
    spawn_rate: float | None = Field(None, gt=0)
    locustfile: str | None = None
    user_classes: list[str] | None = None
    processes: int | None = Field(None, ge=0)
    workers: int | None = Field(None, ge=0)
    pacing: Literal["constant", "poisson"] | None = None
    stages: list[Stage] | None = None
    request_timeout: Duration | None = None


class Profile(StrictModel):
    """A variant of the scenario, e.g. `gate`: the same drill with shorter phases."""

    phase_durations: dict[str, Duration] = Field(default_factory=dict)
    load: LoadOverride | None = None


class Scenario(StrictModel):
    title: str
    plan: str
    stack: str
    load: Load
    phases: list[Phase] = Field(min_length=1)
    invariants: list[str] = Field(default_factory=list)
    abort_if: dict[str, ThresholdFor] | None = None
    profiles: dict[str, Profile] = Field(default_factory=dict)

    _source: Path | None = PrivateAttr(default=None)
    _stack: Any = PrivateAttr(default=None)
    _profile: str | None = PrivateAttr(default=None)

    @field_validator("abort_if")
    @classmethod
    def _abort_metrics(cls, value: dict[str, ThresholdFor] | None) -> Any:
        for sub_loc, message in abort_problems(value):
            raise LocatedError(message, sub_loc)
        return value

    # ------------------------------------------------------------ helpers for the runner
    @property
    def source(self) -> Path | None:
        return self._source

    @property
    def profile(self) -> str | None:
        """The profile applied (None: the scenario as written)."""
        return self._profile

    @property
    def baseline(self) -> Phase:
        """The phase throughput and recovery are compared against: the first."""
        return self.phases[0]

    def phase(self, name: str) -> Phase:
        for p in self.phases:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def duration(self) -> float:
        return sum(p.duration for p in self.phases)

    def deadline_s(self) -> float:
        """The slowest answer a user accepts: the stack's `deadline`, else the load's client timeout."""
        from harness.load.config import DEFAULT_REQUEST_TIMEOUT_S

        stack = self._stack if self._stack is not None else self.resolved_stack()
        deadline = getattr(stack, "deadline", None)
        return float(deadline or self.load.request_timeout or DEFAULT_REQUEST_TIMEOUT_S)

    def resolved_stack(self) -> Any:
        """The Stack this scenario runs on (loaded with the scenario, else now)."""
        if self._stack is None:
            from harness.stack.files import load_stack

            self._stack = load_stack(self.stack, base_dir=self._source.parent if self._source else None)
        return self._stack

    def with_profile(self, name: str) -> "Scenario":
        """A new Scenario with profile `name` applied.

        Phases get the profile's durations; faults and actions keep their
        relative position inside a shortened phase (offsets scale with it).
        """
        if name not in self.profiles:
            raise UsageError(f"{self._source or self.title}: {unknown_name('profile', name, self.profiles)}")
        profile = self.profiles[name]
        data = self.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
        for phase in data["phases"]:
            new = profile.phase_durations.get(phase["name"])
            if new is None:
                continue
            scale = new / phase["duration"]
            phase["duration"] = new
            for fault in phase.get("faults", []):
                fault["start"] = fault.get("start", 0.0) * scale
                if fault.get("end") is not None:
                    fault["end"] = fault["end"] * scale
            for action in phase.get("actions", []):
                action["at"] = action.get("at", 0.0) * scale
        if profile.load is not None:
            data["load"].update(profile.load.model_dump(exclude_none=True))
        out = Scenario.model_validate(data)
        out._source, out._stack, out._profile = self._source, self._stack, name
        return out
