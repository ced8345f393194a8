"""A journal read once into what every report shows.

Journals of runs that failed early lack whole sections (no metrics, no
phases, no invariants), so every reader here treats a missing key as
"nothing recorded" rather than an error; the reports then say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.metrics.series import OUTCOME_CLASSES, Series, Stats, instance_scope
from harness.report import formatting as fmt
from harness.report.postmortem import Postmortem, read_postmortem
from harness.schema.names import instance_name

_KEY = re.compile(r"^(?P<name>[^{]+)(?:\{(?P<labels>.*)\})?$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass
class FaultRow:
    id: str
    phase: str
    label: str
    target: str
    kind: str
    attributes: str
    start: float
    end: float
    scheduled_at: float | None
    lag_ms: float | None
    result: str
    failed: bool


@dataclass
class EndpointRow:
    endpoint: str
    n: int
    shares: dict[str, str]
    p50: str
    p99: str
    max: str
    is_total: bool = False
    ungraceful: int = 0
    codes: str = ""


@dataclass
class PhaseTable:
    name: str
    start: float
    end: float
    rows: list[EndpointRow]


@dataclass
class StateRow:
    """One strip of the service-state chart: spans of a discrete state."""

    label: str
    spans: list[tuple[float, float, str]]  # start, end, state name


@dataclass
class Run:
    journal: dict[str, Any]
    status: str
    title: str
    scenario_name: str
    plan: str
    reason: str
    t_start: float
    t_end: float
    phases: list[dict[str, Any]]
    faults: list[FaultRow]
    aborts: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    series: Series | None
    expectations: list[dict[str, Any]]
    unjudged_phases: list[str]
    invariants: list[dict[str, Any]]
    phase_tables: list[PhaseTable] = field(default_factory=list)
    state_rows: list[StateRow] = field(default_factory=list)
    # what the command line changed in the stack ("lending --no-fallback --no-breaker"): a drill
    # run against deliberately weakened services must say so where its verdict is
    changes: list[str] = field(default_factory=list)
    # phases whose load generator was at >= 90 % of a core for 3 s or more (harness.judge.load_cpu)
    saturation: list[dict[str, Any]] = field(default_factory=list)
    # a game day's debrief (harness.report.postmortem); None for every other journal
    postmortem: Postmortem | None = None

    def saturation_lines(self) -> list[str]:
        from harness.judge.load_cpu import describe

        return [describe(entry) for entry in self.saturation]

    @property
    def has_metrics(self) -> bool:
        return self.series is not None and bool(self.series.seconds)

    def counts(self) -> dict[str, int]:
        exp_failed = sum(1 for e in self.expectations if not e.get("passed"))
        inv_failed = sum(1 for i in self.invariants if not i.get("passed"))
        return {"expectations": len(self.expectations), "expectations_failed": exp_failed,
                "invariants": len(self.invariants), "invariants_failed": inv_failed}


def scenario_name(journal: dict[str, Any]) -> str:
    """The scenario's short name: its file stem, else a slug of the title or run id."""
    scenario = journal.get("scenario") or {}
    if scenario.get("path"):
        return Path(str(scenario["path"])).stem
    source = scenario.get("title") or journal.get("run_id") or "drill"
    return re.sub(r"[^a-z0-9]+", "-", str(source).lower()).strip("-") or "drill"


def read(journal: dict[str, Any]) -> Run:
    scenario = journal.get("scenario") or {}
    phases = [p for p in journal.get("phases") or [] if "start" in p and "end" in p]
    metrics = journal.get("metrics") or []
    series = Series.from_json(metrics) if metrics else None
    events = journal.get("events") or []
    aborts = [e for e in events if e.get("type") == "abort"]
    notes = [e for e in events if e.get("type") == "note"]

    t_end = max([p["end"] for p in phases] + [0.0])
    if series and series.seconds and not phases:
        # With phases the axis ends with the last one: the metrics' last second is the partial
        # one while the load stops after the phases (a few requests, not a drop in traffic).
        t_end = max(t_end, series.seconds[-1].t + 1)
    for e in aborts + notes:
        t_end = max(t_end, float(e.get("t", 0)))
    t_start = min([p["start"] for p in phases] + [0.0])
    if t_end <= t_start:
        t_end = t_start + 1

    faults = [_fault(f, t_end) for f in journal.get("faults") or []]
    expectations = list(journal.get("expectations") or [])
    judged = {e.get("phase") for e in expectations}
    unjudged = [p["name"] for p in phases if p.get("expect") and p["name"] not in judged]

    run = Run(
        journal=journal,
        status=str(journal.get("status") or "error"),
        title=str(scenario.get("title") or journal.get("run_id") or "chaosdrill run"),
        scenario_name=scenario_name(journal),
        plan=" ".join(str(scenario.get("plan") or "").split()),
        reason=str(journal.get("reason") or ""),
        t_start=t_start,
        t_end=float(t_end),
        phases=phases,
        faults=faults,
        aborts=aborts,
        notes=notes,
        series=series,
        expectations=expectations,
        unjudged_phases=unjudged,
        invariants=list(journal.get("invariants") or []),
    )
    run.changes = stack_changes(journal)
    run.saturation = list(journal.get("load_saturation") or [])
    run.postmortem = read_postmortem(journal)
    if series is not None:
        run.phase_tables = [_phase_table(series, p) for p in phases]
    run.state_rows = service_state_rows(journal.get("service_metrics") or [])
    return run


def stack_changes(journal: dict[str, Any]) -> list[str]:
    """'lending --no-fallback --no-breaker', 'lending x2': from the journal's stack section, or for
    journals written before it recorded them, from the command line in `environment.argv`."""
    stack = journal.get("stack") or {}
    service_args: dict[str, list[str]] = {k: list(v) for k, v in (stack.get("service_args") or {}).items()}
    replicas: dict[str, Any] = dict(stack.get("replicas") or {})
    if "service_args" not in stack and "replicas" not in stack:
        argv = [str(a) for a in (journal.get("environment") or {}).get("argv") or []]
        for i, arg in enumerate(argv):
            flag, eq, value = arg.partition("=")
            if flag not in ("--service-arg", "--replicas"):
                continue
            if not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
            name, sep, rest = value.partition("=")
            if not sep or not name:
                continue
            if flag == "--service-arg":
                service_args.setdefault(name, []).extend(rest.split())
            else:
                replicas[name] = rest
    out = [f"{name} {' '.join(args)}" for name, args in service_args.items() if args]
    out += [f"{name} x{n}" for name, n in replicas.items()]
    return out


def _fault(f: dict[str, Any], t_end: float) -> FaultRow:
    target = f.get("target") or {}
    if "link" in target:
        where = str(target["link"])
    elif "service" in target:
        where = instance_name(str(target["service"]), target.get("instance"))
    else:
        where = ", ".join(f"{k}={v}" for k, v in target.items()) or "?"
    kind = str(f.get("kind") or "fault")
    attrs = dict(f.get("attributes") or {})
    if f.get("stream") and f.get("stream") != "downstream":
        attrs = {"stream": f["stream"], **attrs}
    if f.get("toxicity") not in (None, 1, 1.0):
        attrs["toxicity"] = f["toxicity"]
    units = f.get("units") or {}  # recorded by the run since units were; older journals have none
    attr_text = " ".join(f"{k}={v}{units.get(k, '') if isinstance(v, (int, float)) else ''}" for k, v in attrs.items())
    label = str(f.get("label") or f"{kind} {attr_text} on {where}".replace("  ", " "))
    applied = f.get("applied_at")
    start = float(applied if applied is not None else f.get("scheduled_at") or 0.0)
    removed = f.get("removed_at")
    result = str(f.get("result") or "")
    return FaultRow(
        id=str(f.get("id", "")), phase=str(f.get("phase", "")), label=label, target=where, kind=kind,
        attributes=attr_text, start=start, end=float(removed if removed is not None else t_end),
        scheduled_at=f.get("scheduled_at"), lag_ms=f.get("lag_ms"), result=result,
        failed=applied is None or result.startswith("error"),
    )


def endpoint_row(name: str, s: Stats, is_total: bool = False) -> EndpointRow:
    return EndpointRow(
        endpoint=name, n=s.n, shares={c: fmt.pct(s.share(c)) for c in OUTCOME_CLASSES},
        p50=fmt.ms(s.percentile_ms(50)) if s.n else "–", p99=fmt.ms(s.percentile_ms(99)) if s.n else "–",
        max=fmt.ms(s.max_ms) if s.n else "–", is_total=is_total, ungraceful=s.ungraceful,
        codes=top_codes(s),
    )


def top_codes(s: Stats, limit: int = 4) -> str:
    """The answers an endpoint gave, most frequent first: 'QUOTA_OK 80% · DEFERRED 18% · timeout 2%'."""
    ranked = sorted(s.codes.items(), key=lambda kv: -kv[1])
    text = " · ".join(f"{code} {fmt.pct(n / s.n)}" for code, n in ranked[:limit]) if s.n else ""
    return text + (f" · {len(ranked) - limit} more" if len(ranked) > limit else "")


def _phase_table(series: Series, phase: dict[str, Any]) -> PhaseTable:
    rows = []
    total = Stats()
    for name in series.endpoints():
        s = series.window(phase["start"], phase["end"], name)
        total.add(s)
        rows.append(endpoint_row(name, s))
    rows.append(endpoint_row("all endpoints", total, is_total=True))
    instances = series.instances()
    if len(instances) > 1:  # which entry instance served what (a canary shows here); one would repeat the total
        rows += [endpoint_row(scope, series.window(phase["start"], phase["end"], scope))
                 for scope in map(instance_scope, instances)]
    return PhaseTable(phase["name"], phase["start"], phase["end"], rows)


# --- services' own metrics ----------------------------------------------------
BREAKER_STATES = {0: "closed", 1: "half-open", 2: "open"}


def split_key(key: str) -> tuple[str, dict[str, str]]:
    m = _KEY.match(key)
    if not m:
        return key, {}
    return m.group("name"), dict(_LABEL.findall(m.group("labels") or ""))


def service_state_rows(samples: list[dict[str, Any]]) -> list[StateRow]:
    """Breaker state per (instance, dependency) and gateway in use per instance.

    A gap of more than two seconds between samples (the service was paused or
    dead) stays blank rather than stretching the last known state over it.
    """
    # (0 breaker / 1 gateway, dependency, service, instance) -> points: sorted, breakers by dependency, instance 0 first
    tracks: dict[tuple[int, str, str, int], list[tuple[float, str]]] = {}
    for sample in sorted(samples, key=lambda s: s.get("t", 0)):
        service, index = str(sample.get("service", "?")), int(sample.get("instance") or 0)
        gateways = []
        seen_gateway = False
        for key, value in (sample.get("values") or {}).items():
            name, labels = split_key(key)
            if "breaker" in name:
                dep = labels.get("dependency") or next(iter(labels.values()), "?")
                state = BREAKER_STATES.get(int(value), str(value))
                tracks.setdefault((0, dep, service, index), []).append((float(sample["t"]), state))
            elif "gateway_in_use" in name:
                seen_gateway = True
                if value >= 1:
                    gateways.append(labels.get("gateway") or next(iter(labels.values()), "?"))
        if seen_gateway:
            state = "+".join(sorted(gateways)) or "none"
            tracks.setdefault((1, "", service, index), []).append((float(sample["t"]), state))
    rows = []
    for key in sorted(tracks):
        kind, dep, service, index = key
        who = instance_name(service, index)
        rows.append(StateRow(f"breaker {dep} ({who})" if kind == 0 else f"gateway in use ({who})", _spans(tracks[key])))
    return rows


def _spans(points: list[tuple[float, str]]) -> list[tuple[float, float, str]]:
    spans: list[tuple[float, float, str]] = []
    for i, (t, state) in enumerate(points):
        nxt = points[i + 1][0] if i + 1 < len(points) else t + 1
        end = nxt if nxt - t <= 2 else t + 1
        if spans and spans[-1][2] == state and abs(spans[-1][1] - t) < 1e-9:
            spans[-1] = (spans[-1][0], end, state)
        else:
            spans.append((t, end, state))
    return spans
