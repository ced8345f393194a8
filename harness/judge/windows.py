"""Which seconds of a phase are judged, and their stats.

After every phase boundary and every fault change the system needs a moment
to settle (connections break, breakers trip), so the first `settle` seconds
after each such moment are left out of the window of statistical
expectations (shares, percentiles, throughput). Event expectations (counts
such as ungraceful "== 0", max_latency, retry_after) see the whole phase: a
hang or an unexplained error right after a fault is exactly what they catch.
"""

from __future__ import annotations

from typing import Any, Iterable

from harness.metrics.series import Second, Series, Stats

EPS = 1e-9


def phase_seconds(start: float, end: float) -> list[int]:
    """Whole seconds t with [t, t+1) inside [start, end)."""
    first = int(-(-start // 1)) if start > 0 else int(start)
    return [t for t in range(first, int(end) + 1) if t >= start - EPS and t + 1 <= end + EPS]


def fault_changes(phase: Any, start: float) -> list[float]:
    """Moments inside a scenario phase starting at `start` when a fault starts or ends (absolute):
    the judge settles after each, and the answer estimate before a run leaves the same seconds out."""
    out: list[float] = []
    for fault in phase.faults:
        f_start, f_end = phase.fault_window(fault)
        out += [start + f_start, start + f_end]
    return out


def judged_seconds(start: float, end: float, changes: Iterable[float], settle: float) -> list[int]:
    """Seconds of [start, end) minus those overlapping [b, b + settle) for each change b.

    Falls back to the whole phase when settling would leave nothing (a phase
    shorter than its settle time).
    """
    full = phase_seconds(start, end)
    if settle <= 0:
        return full
    bounds = [start, *changes]
    kept = [t for t in full if not any(t < b + settle - EPS and t + 1 > b + EPS for b in bounds)]
    return kept or full


class SecondIndex:
    """Per-second records by t, for sums over arbitrary sets of seconds."""

    def __init__(self, series: Series) -> None:
        self.by_t: dict[int, Second] = {s.t: s for s in series.seconds}
        self.endpoints = series.scopes()  # endpoints and `instance <name>` scopes

    def stats(self, seconds: Iterable[int], endpoint: str | None = None) -> Stats:
        out = Stats()
        for t in seconds:
            sec = self.by_t.get(t)
            part = None if sec is None else sec.part(endpoint)
            if part is not None:
                out.add(part)
        return out

    def second(self, t: int, endpoint: str | None = None) -> Stats:
        return self.stats((t,), endpoint)
