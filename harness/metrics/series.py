"""Per-second request metrics and windows over them.

The load process writes one record per worker per second (the metrics
stream); the runner merges them into one record per second of the run (the
journal's `metrics`). Judging and reports both read that series through
`Series.window`, so "error rate in this phase" means one thing everywhere.

Record shape (docs/journal.md):
    {"t": <int second>, "endpoints": {"<name>": {
        "n": int, "classes": {"success": int, "degraded": int,
        "rejected": int, "ungraceful": int}, "codes": {"APPROVED": int, ...},
        "retry_after_missing": int, "hist": <Histogram.to_json()>}}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from harness.metrics.histogram import Histogram

OUTCOME_CLASSES = ("success", "degraded", "rejected", "ungraceful")


@dataclass
class Stats:
    """Everything counted for one endpoint (or all) over some seconds."""

    n: int = 0
    classes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOME_CLASSES, 0))
    codes: dict[str, int] = field(default_factory=dict)
    retry_after_missing: int = 0
    hist: Histogram = field(default_factory=Histogram)

    def add(self, other: "Stats") -> "Stats":
        self.n += other.n
        for k, v in other.classes.items():
            self.classes[k] = self.classes.get(k, 0) + v
        for k, v in other.codes.items():
            self.codes[k] = self.codes.get(k, 0) + v
        self.retry_after_missing += other.retry_after_missing
        self.hist.merge(other.hist)
        return self

    @classmethod
    def from_json(cls, data: Mapping) -> "Stats":
        s = cls()
        s.n = int(data.get("n", 0))
        for k, v in data.get("classes", {}).items():
            s.classes[k] = int(v)
        s.codes = {k: int(v) for k, v in data.get("codes", {}).items()}
        s.retry_after_missing = int(data.get("retry_after_missing", 0))
        s.hist = Histogram.from_json(data.get("hist", {}))
        return s

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "classes": dict(self.classes),
            "codes": dict(self.codes),
            "retry_after_missing": self.retry_after_missing,
            "hist": self.hist.to_json(),
        }

    # --- derived measures -------------------------------------------------
    def share(self, outcome_class: str) -> float:
        return self.classes.get(outcome_class, 0) / self.n if self.n else 0.0

    @property
    def error_rate(self) -> float:
        """Share of requests that did not do what was asked, graceful or not.

        Explicit rejections (risk, bad input) are business answers, not
        errors; degraded answers and ungraceful outcomes are errors.
        """
        return self.errors / self.n if self.n else 0.0

    @property
    def errors(self) -> int:
        """Answers counted in the error rate: degraded and ungraceful ones."""
        return self.classes.get("degraded", 0) + self.classes.get("ungraceful", 0)

    @property
    def ungraceful(self) -> int:
        return self.classes.get("ungraceful", 0)

    def slower_than(self, deadline_ms: float) -> int:
        """Answers (of any class) that took longer than `deadline_ms`: too slow for the user, whatever they said."""
        return self.hist.count_over(deadline_ms * 1000.0)

    @property
    def timeouts(self) -> int:
        """Requests the load gave up on at its client timeout (code "timeout")."""
        return self.codes.get("timeout", 0)

    def code_share(self, code: str) -> float:
        return self.codes.get(code, 0) / self.n if self.n else 0.0

    def percentile_ms(self, q: float) -> float:
        return self.hist.percentile_ms(q)

    @property
    def max_ms(self) -> float:
        return self.hist.max_us / 1000.0


INSTANCE_SCOPE = "instance "  # scope keys "instance lending#1": one instance of the entry service


def instance_scope(name: str) -> str:
    return INSTANCE_SCOPE + name


@dataclass
class Second:
    t: int
    endpoints: dict[str, Stats]
    # all requests sent to one entry instance (the load's hosts), when the load could tell
    instances: dict[str, Stats] = field(default_factory=dict)

    def add(self, endpoint: str, stats: Stats) -> None:
        """Add one worker's stats for an endpoint (records of one second arrive in pieces)."""
        _merge(self.endpoints, endpoint, stats)

    def add_instance(self, instance: str, stats: Stats) -> None:
        _merge(self.instances, instance, stats)

    def total(self) -> Stats:
        out = Stats()
        for s in self.endpoints.values():
            out.add(s)
        return out

    def part(self, scope: str | None) -> Stats | None:
        """Stats of a scope: None (all requests), an endpoint, or `instance <name>`."""
        if scope is None:
            return self.total()
        if scope.startswith(INSTANCE_SCOPE):
            return self.instances.get(scope[len(INSTANCE_SCOPE):])
        return self.endpoints.get(scope)

    @classmethod
    def from_json(cls, data: Mapping) -> "Second":
        return cls(
            t=int(data["t"]),
            endpoints={k: Stats.from_json(v) for k, v in data.get("endpoints", {}).items()},
            instances={k: Stats.from_json(v) for k, v in data.get("instances", {}).items()},
        )

    def to_json(self) -> dict:
        out = {"t": self.t, "endpoints": {k: v.to_json() for k, v in self.endpoints.items()}}
        if self.instances:
            out["instances"] = {k: v.to_json() for k, v in self.instances.items()}
        return out


def _merge(into: dict[str, Stats], key: str, stats: Stats) -> None:
    mine = into.get(key)
    if mine is None:
        into[key] = stats
    else:
        mine.add(stats)


class Series:
    """The run's per-second records, ordered by second."""

    def __init__(self, seconds: Iterable[Second] = ()) -> None:
        self.seconds: list[Second] = sorted(seconds, key=lambda s: s.t)

    @classmethod
    def from_json(cls, records: Iterable[Mapping]) -> "Series":
        return cls(Second.from_json(r) for r in records)

    def to_json(self) -> list[dict]:
        return [s.to_json() for s in self.seconds]

    def endpoints(self) -> list[str]:
        names: set[str] = set()
        for s in self.seconds:
            names.update(s.endpoints)
        return sorted(names)

    def instances(self) -> list[str]:
        names: set[str] = set()
        for s in self.seconds:
            names.update(s.instances)
        return sorted(names)

    def scopes(self) -> list[str]:
        """Every endpoint and every `instance <name>` the metrics know."""
        return self.endpoints() + [instance_scope(i) for i in self.instances()]

    def window(self, start: float, end: float, endpoint: str | None = None) -> Stats:
        """Stats over seconds t with start <= t < end, one scope (endpoint, instance) or all."""
        out = Stats()
        for sec in self.seconds:
            if start <= sec.t < end:
                part = sec.part(endpoint)
                if part is not None:
                    out.add(part)
        return out

    def per_second(self, start: float, end: float, endpoint: str | None = None) -> list[tuple[int, Stats]]:
        """One Stats per second in [start, end), empty seconds included."""
        by_t = {s.t: s for s in self.seconds}
        out = []
        for t in range(int(start), int(end)):
            sec = by_t.get(t)
            part = None if sec is None else sec.part(endpoint)
            out.append((t, part if part is not None else Stats()))
        return out
