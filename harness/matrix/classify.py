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
    slow: int = 0  # answers slower than the deadline
    why: str = ""  # what made an ungraceful cell ungraceful

    def to_dict(self) -> dict[str, Any]:
        top = dict(sorted(self.codes.items(), key=lambda kv: -kv[1])[:6])
        return {"n": self.n, "error_rate": round(self.error_rate, 5), "ungraceful": self.ungraceful,
                "slow": self.slow, "p99_ms": round(self.p99_ms, 1), "max_ms": round(self.max_ms, 1), "codes": top,
                "violated": self.violated, **({"why": self.why} if self.why else {})}


def classify(window: Stats, bounds: Bounds, hang_ms: float, violated: list[str],
             deadline_ms: float | None = None) -> tuple[str, CellEvidence]:
    """integrity > ungraceful > graceful > unaffected, first that applies.

    - integrity: an invariant checked right after the cell failed;
    - ungraceful: any ungraceful answer, an answer slower than the deadline
      ("too slow": a borrower has given up on it, whatever its code), or one
      as slow as the client's timeout (a hang);
    - unaffected: error rate and p99 within the baseline's bounds (the same
      bounds `recovers_within` uses, the p99's never above the deadline);
    - graceful: everything else (more errors or latency, but all explicit and in time).
    """
    deadline_ms = hang_ms if deadline_ms is None else deadline_ms  # no deadline: the client's timeout
    slow = window.slower_than(deadline_ms)
    evidence = CellEvidence(window.n, window.error_rate, window.ungraceful, window.percentile_ms(99),
                            window.max_ms, dict(window.codes), violated, slow)
    if violated:
        return "integrity", evidence
    reasons = []
    if window.ungraceful > 0:
        reasons.append(f"{window.ungraceful} ungraceful answer(s)")
    if slow > 0:
        reasons.append(f"too slow: {slow} answer(s) over the {deadline_ms:.0f} ms deadline")
    elif window.max_ms >= hang_ms:
        reasons.append(f"a hang: an answer took the client's {hang_ms:.0f} ms timeout")
    if reasons:
        evidence.why = "; ".join(reasons)
        return "ungraceful", evidence
    if window.n > 0 and bounds.holds(window):
        return "unaffected", evidence
    return "graceful", evidence
