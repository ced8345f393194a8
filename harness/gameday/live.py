"""What the console and the web view show, kept up to date once a second.

The load writes one metrics record per worker per second; the model merges
each record into its second once, and recomputes the summary row only of
the seconds a tick touched, so a tick costs the same in minute 59 as in
minute 1 and the console's event loop stays free for keystrokes. The full
per-second series is kept for the journal, written once at the end.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from harness.metrics.series import OUTCOME_CLASSES, Second, Series, Stats

WINDOW_S = 180  # seconds of history the charts show
BREAKER_STATES = {0: "closed", 1: "half-open", 2: "open"}
_SAMPLE_KEY = re.compile(r'^(?P<name>[^{]+)(?:\{(?P<labels>.*)\})?$')
_LABEL = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class Row:
    """One second, summarised for charts."""

    t: int
    n: int
    classes: dict[str, int]
    p50: float
    p95: float
    p99: float
    error_rate: float

    @classmethod
    def of(cls, t: int, stats: Stats) -> "Row":
        return cls(t, stats.n, {k: stats.classes.get(k, 0) for k in OUTCOME_CLASSES},
                   stats.percentile_ms(50), stats.percentile_ms(95), stats.percentile_ms(99), stats.error_rate)

    def to_json(self) -> dict[str, Any]:
        return {"t": self.t, "n": self.n, **self.classes, "p50": round(self.p50, 2), "p95": round(self.p95, 2),
                "p99": round(self.p99, 2), "error_rate": round(self.error_rate, 5)}


@dataclass
class ActiveFault:
    id: str
    label: str
    target: dict[str, Any]
    since: float  # offset from t0
    source: str = "operator"  # or the cued phase's name


@dataclass
class ServiceView:
    """One service instance as the console shows it."""

    name: str
    service: str
    index: int
    pid: int | None
    state: str  # running | paused | down
    breakers: dict[str, str] = field(default_factory=dict)  # dependency -> closed/half-open/open
    in_use: dict[str, str] = field(default_factory=dict)  # e.g. {"gateway": "primary"}
    values: dict[str, float] = field(default_factory=dict)


def read_sample_values(values: dict[str, float]) -> tuple[dict[str, str], dict[str, str]]:
    """Breaker states and "which one is in use" from a service's sampled metrics.

    `x_breaker_state{dependency="credit-bureau-a"} 2` -> {"credit-bureau-a": "open"};
    `x_gateway_in_use{gateway="backup"} 1` -> {"gateway": "backup"}.
    """
    breakers: dict[str, str] = {}
    in_use: dict[str, str] = {}
    for key, value in values.items():
        m = _SAMPLE_KEY.match(key)
        if not m:
            continue
        name, labels = m.group("name"), dict(_LABEL.findall(m.group("labels") or ""))
        if name.endswith("breaker_state") and labels:
            breakers[next(iter(labels.values()))] = BREAKER_STATES.get(int(value), f"{value:g}")
        elif name.endswith("_in_use") and labels and value >= 1:
            label, chosen = next(iter(labels.items()))
            in_use[label] = chosen
    return breakers, in_use


class LiveModel:
    """The game day's live state; fed by the session, read by the views."""

    def __init__(self, stack_name: str = "", window: int = WINDOW_S, max_events: int = 300,
                 clock: Callable[[], float] = time.time) -> None:
        self.stack_name = stack_name
        self.clock = clock
        self.window = window
        self.status = "starting"
        self.run_id = ""
        self.t0: float | None = None
        self.users = 0
        self.spawn_rate = 0.0
        self.web_url: str | None = None
        self.seconds: dict[int, Second] = {}
        self.rows: dict[int, Row] = {}
        self.links: dict[str, dict[str, str]] = {}  # name -> {"source":..., "target":...}
        self.services: list[ServiceView] = []
        self.faults: dict[str, ActiveFault] = {}
        self.events: deque[tuple[float, str, str]] = deque(maxlen=max_events)  # (wall time, type, message)
        self.event_count = 0  # events ever logged (the deque keeps the last max_events)
        self.phase: str | None = None
        self.scenario_phases: list[str] = []
        self.hypothesis: dict[str, Any] | None = None
        self.hypotheses: list[dict[str, Any]] = []
        self.recovery: dict[str, Any] | None = None
        self._accumulators: dict[str, tuple[int, Stats]] = {}  # name -> (first second, running total)
        self.version = 0  # bumped on every change the views should redraw

    # ------------------------------------------------------------ time
    def offset(self, wall: float | None = None) -> float:
        wall = self.clock() if wall is None else wall
        return wall - self.t0 if self.t0 is not None else 0.0

    def last_complete_second(self) -> int:
        return int(self.offset()) - 1 if self.t0 is not None else -1

    # ------------------------------------------------------------ metrics
    def ingest(self, records: Iterable[dict]) -> set[int]:
        """Merge the load's per-worker records; returns the seconds touched."""
        if self.t0 is None:
            return set()
        touched: set[int] = set()
        for record in records:
            t = int(record["second"] - self.t0)
            sec = self.seconds.get(t)
            if sec is None:
                sec = self.seconds[t] = Second(t=t, endpoints={})
            for name, data in record.get("endpoints", {}).items():
                stats = Stats.from_json(data)
                for start, total in self._accumulators.values():
                    if t >= start:
                        total.add(stats)
                sec.add(name, stats)
            for name, data in record.get("instances", {}).items():
                sec.add_instance(name, Stats.from_json(data))
            touched.add(t)
        for t in touched:
            self.rows[t] = Row.of(t, self.seconds[t].total())
        if touched:
            self.version += 1
        return touched

    def add_accumulator(self, name: str, first_second: int) -> None:
        """Keep a running total from `first_second` on (a hypothesis' window so far), at no cost per tick."""
        total = Stats()
        for t, sec in self.seconds.items():
            if t >= first_second:
                total.add(sec.total())
        self._accumulators[name] = (first_second, total)

    def drop_accumulator(self, name: str) -> None:
        self._accumulators.pop(name, None)

    def accumulator(self, name: str) -> Stats:
        return self._accumulators[name][1] if name in self._accumulators else Stats()

    def recent(self, seconds: int | None = None) -> list[Row]:
        """One row per second of the last `seconds` complete seconds, empty seconds as zero rows."""
        end = self.last_complete_second() + 1
        start = max(0, end - (seconds or self.window))
        return [self.rows.get(t) or Row.of(t, Stats()) for t in range(start, end)]

    def current(self) -> Row:
        """The newest second the load has reported (its records may lag a second behind)."""
        last = self.last_complete_second()
        for t in (last, last - 1):
            if t in self.rows:
                return self.rows[t]
        return Row.of(last, Stats())

    def series(self) -> Series:
        return Series(self.seconds.values())

    def metrics_json(self) -> list[dict]:
        return [self.seconds[t].to_json() for t in sorted(self.seconds)]

    # ------------------------------------------------------------ services, faults, events
    def set_services(self, views: list[ServiceView]) -> None:
        self.services = views
        self.version += 1

    def fault_on(self, fault: ActiveFault) -> None:
        self.faults[fault.id] = fault
        self.version += 1

    def fault_off(self, fault_id: str) -> None:
        self.faults.pop(fault_id, None)
        self.version += 1

    def event(self, kind: str, message: str, wall: float | None = None) -> None:
        self.events.append((self.clock() if wall is None else wall, kind, message))
        self.event_count += 1
        self.version += 1

    def recent_events(self, n: int) -> list[tuple[float, str, str]]:
        """The last n events as (offset from t0, type, message); t0 may be set after the first events."""
        return [(self.offset(w), k, m) for w, k, m in list(self.events)[-n:]]

    def link_faults(self, link: str) -> list[ActiveFault]:
        return [f for f in self.faults.values() if f.target.get("link") == link]

    def breaker_for(self, link: str) -> str | None:
        """The link's source service's breaker for the link's target, if it reports one."""
        info = self.links.get(link)
        if not info:
            return None
        states = [v.breakers.get(info["target"]) for v in self.services if v.service == info["source"]]
        states = [s for s in states if s]
        if not states:
            return None
        return "open" if "open" in states else states[0]

    # ------------------------------------------------------------ the views' data
    def snapshot(self, events: int = 60) -> dict[str, Any]:
        """Everything the web view shows, as plain JSON data."""
        current = self.current()
        return {
            "stack": self.stack_name,
            "run_id": self.run_id,
            "status": self.status,
            "t": round(self.offset(), 1),
            "users": self.users,
            "spawn_rate": self.spawn_rate,
            "phase": self.phase,
            "current": current.to_json(),
            "window": [r.to_json() for r in self.recent()],
            "links": [
                {"name": name, "source": info["source"], "target": info["target"],
                 "faults": [f"{f.id}: {f.label}" for f in self.link_faults(name)],
                 "breaker": self.breaker_for(name)}
                for name, info in self.links.items()
            ],
            "services": [
                {"name": v.name, "pid": v.pid, "state": v.state, "breakers": v.breakers, "in_use": v.in_use,
                 "faults": [f"{f.id}: {f.label}" for f in self.faults.values()
                            if f.target.get("service") == v.service and f.target.get("instance", 0) == v.index]}
                for v in self.services
            ],
            "faults": [{"id": f.id, "label": f.label, "since": round(f.since, 1), "source": f.source}
                       for f in self.faults.values()],
            "events": [{"t": round(t, 1), "type": k, "message": m} for t, k, m in self.recent_events(events)],
            "hypothesis": self.hypothesis,
            "hypotheses": self.hypotheses,
            "recovery": self.recovery,
        }
