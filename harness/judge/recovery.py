"""recovers_within: how long after the faults end until the system is back to baseline.

"Back" means `STREAK` consecutive seconds, each with requests and each
within the baseline's bounds:
    error rate <= max(2 x baseline error rate, baseline + 1 point)
    p99        <= max(2 x baseline p99, baseline p99 + 50 ms)
The recovery time is the start of the first such streak minus the moment
the last earlier fault ended (0 when the first second is already fine).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.judge.measures import fmt
from harness.judge.windows import SecondIndex
from harness.metrics.series import Stats

STREAK = 3
ERROR_FACTOR, ERROR_SLACK = 2.0, 0.01
P99_FACTOR, P99_SLACK_MS = 2.0, 50.0


@dataclass
class Bounds:
    error_rate: float
    p99_ms: float

    @classmethod
    def from_baseline(cls, base: Stats) -> "Bounds":
        err = base.error_rate
        p99 = base.percentile_ms(99)
        return cls(max(ERROR_FACTOR * err, err + ERROR_SLACK), max(P99_FACTOR * p99, p99 + P99_SLACK_MS))

    def capped(self, p99_ms: float) -> "Bounds":
        """The same bounds with the p99's never above `p99_ms` (a deadline): twice a slow baseline is no yardstick."""
        return Bounds(self.error_rate, min(self.p99_ms, p99_ms))

    def holds(self, s: Stats) -> bool:
        return s.n > 0 and s.error_rate <= self.error_rate + 1e-12 and s.percentile_ms(99) <= self.p99_ms

    def describe(self) -> str:
        return f"error rate <= {fmt(self.error_rate, 'share')}, p99 <= {fmt(self.p99_ms, 'ms')}"


@dataclass
class Recovery:
    seconds: float | None  # None: not back within the phase
    recovered_at: int | None
    faults_ended: float
    bounds: Bounds


def recovery_time(index: SecondIndex, faults_ended: float, phase_end: float, bounds: Bounds,
                  endpoint: str | None = None) -> Recovery:
    first = int(faults_ended)
    last = int(phase_end) - STREAK  # a streak must fit in the phase
    run = 0
    for t in range(first, int(phase_end)):
        if t + 1 > phase_end + 1e-9:
            break
        if bounds.holds(index.second(t, endpoint)):
            run += 1
            if run == STREAK:
                start = t - STREAK + 1
                return Recovery(max(0.0, start - faults_ended), start, faults_ended, bounds)
        else:
            run = 0
        if run == 0 and t > last:
            break
    return Recovery(None, None, faults_ended, bounds)
