"""One judged expectation, as the journal stores it (docs/journal.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class ExpectationResult:
    phase: str
    endpoint: str | None  # None: all endpoints together
    name: str  # error_rate, p99_ms, codes.APPROVED_DEGRADED, classes.success, recovers_within, ...
    threshold: str  # as written, e.g. "< 0.5%"
    measured: float | None  # canonical unit: ratio for shares, ms, count, req/s, x of baseline, seconds
    display: str  # measured, for people: "12.3%", "850.0 ms", "0.62x baseline (310.0 vs 500.0 req/s)"
    passed: bool
    why: str = ""  # for failures: "error_rate 12.3% is over < 0.5% by 11.8 points"
    # the seconds judged, as [start, end) runs: a statistical expectation leaves out the
    # settling second after each phase start and fault change (windows.py); None: not per second
    window: list[list[int]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out["window"] is None:
            del out["window"]
        return out


def runs_of(seconds: list[int]) -> list[list[int]]:
    """Whole seconds as [start, end) runs: [3, 4, 5, 8] -> [[3, 6], [8, 9]]."""
    out: list[list[int]] = []
    for t in sorted(seconds):
        if out and out[-1][1] == t:
            out[-1][1] = t + 1
        else:
            out.append([t, t + 1])
    return out
