"""One cell's outcome from the metrics of its window and the audit after it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.judge.recovery import Bounds
from harness.metrics.series import Stats


@dataclass
class CellEvidence:
    n: int
    error_rate: float
    ungraceful: int
    p99_ms: float
    max_ms: float
    codes: dict[str, int]
    violated: list[str]

    def to_dict(self) -> dict[str, Any]:
        top = dict(sorted(self.codes.items(), key=lambda kv: -kv[1])[:6])
        return {"n": self.n, "error_rate": round(self.error_rate, 5), "ungraceful": self.ungraceful,
                "p99_ms": round(self.p99_ms, 1), "max_ms": round(self.max_ms, 1), "codes": top,
                "violated": self.violated}


def classify(window: Stats, bounds: Bounds, hang_ms: float, violated: list[str]) -> tuple[str, CellEvidence]:
    """integrity > ungraceful > graceful > unaffected, first that applies.

    - integrity: an invariant checked right after the cell failed;
    - ungraceful: any ungraceful answer, or an answer as slow as the client's timeout (a hang);
    - unaffected: error rate and p99 within the baseline's bounds (the same
      bounds `recovers_within` uses);
    - graceful: everything else (more errors or latency, but all explicit).
    """
    evidence = CellEvidence(window.n, window.error_rate, window.ungraceful, window.percentile_ms(99),
                            window.max_ms, dict(window.codes), violated)
    if violated:
        return "integrity", evidence
    if window.ungraceful > 0 or window.max_ms >= hang_ms:
        return "ungraceful", evidence
    if window.n > 0 and bounds.holds(window):
        return "unaffected", evidence
    return "graceful", evidence
