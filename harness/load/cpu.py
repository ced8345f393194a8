"""How busy the load process itself is: its CPU share of one core, second by second.

A load generator at the end of its CPU measures its own queueing, not the
system's latency: a request whose answer came in 5 ms waits for the gevent
loop before its time is taken. Locust warns above 90 %; chaosdrill writes
every load process's share (master, each worker, or the one standalone
process) into the metrics stream, and the verdict says when a judged phase
ran on a saturated load generator (harness/judge/load_cpu.py).

A line in the stream:
    {"v": 1, "cpu": {"process": "<worker id>", "t": <unix second>, "share": 0.97}}
where `t` is the second the share was measured over. Pure Python, no gevent.
"""

from __future__ import annotations

import time
from typing import Any, Callable

__all__ = ["CpuMeter"]


class CpuMeter:
    """This process's CPU time (every thread, user and system) over the wall time since the last sample."""

    def __init__(self, process: str, clock: Callable[[], float] = time.time) -> None:
        self.process = process
        self.clock = clock
        self._cpu = time.process_time()
        self._wall = clock()

    def record(self) -> dict[str, Any]:
        """The share since the last call, as a stream line; call it just after a second boundary."""
        cpu, wall = time.process_time(), self.clock()
        share = (cpu - self._cpu) / max(wall - self._wall, 1e-3)
        self._cpu, self._wall = cpu, wall
        return {"v": 1, "cpu": {"process": self.process, "t": int(wall) - 1, "share": round(share, 3)}}
