"""A worker's clock offset from the master, NTP style.

The worker stamps t0 (its clock), the master answers with its clock tm, the
worker stamps t1 on arrival: offset = tm - (t0 + t1) / 2, good to half the
round trip. The sample with the shortest round trip among the recent ones
wins (queueing only ever adds delay). Workers key their seconds on
local clock + offset, i.e. on the master's clock, which is the
orchestrator's clock when both run on one machine.
"""

from __future__ import annotations

from collections import deque


class ClockSync:
    def __init__(self, keep: int = 8) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=keep)  # (rtt, offset)

    def add(self, t0: float, master_t: float, t1: float) -> float:
        """Record one exchange; returns the current best offset (seconds)."""
        rtt = max(0.0, t1 - t0)
        self._samples.append((rtt, master_t - (t0 + t1) / 2))
        return self.offset

    @property
    def offset(self) -> float:
        if not self._samples:
            return 0.0
        return min(self._samples)[1]

    @property
    def rtt(self) -> float:
        return min(self._samples)[0] if self._samples else 0.0
