"""The one path every fault takes: lease, apply, record ... revert, release.

Whoever decides when a fault goes on (a scenario's timeline, the matrix, a
person at the game day console, a test's `with` block), the fault is put on
and taken off here, so every entry point leases, records and cleans up the
same way:

- an instance fault is leased to the watchdog before it is applied, so a
  runner killed mid-fault still has it ended; a link fault carries the
  fault proxy's own lease, renewed by the session's heartbeat;
- an apply or a revert, once started, runs to its end even when the task
  awaiting it is cancelled (the drill's end, Ctrl-C): cut short, a revert
  would leave its fault on with nobody to end it, and an apply whose call
  is already on its way would take effect after `revert_all`;
- a failed apply releases its lease and takes back whatever part of a link
  fault may have reached the proxy (a POST that timed out on our side);
- `revert_all` waits for what is in flight, then reverts what is still on.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable, TypeVar

from harness.errors import ChaosdrillError, HarnessError
from harness.events import EventBus
from harness.faults import Fault
from harness.faults.base import InstanceFault
from harness.run.journal import Journal

__all__ = ["FaultFailed", "FaultKeeper"]

T = TypeVar("T")


class FaultFailed(HarnessError):
    """A fault could not be applied (exit 3: the harness could not do what the drill asked)."""


class FaultKeeper:
    """Applies and reverts faults on a running stack, and knows which are on."""

    def __init__(self, runtime: Any, journal: Journal, events: EventBus,
                 clock: Callable[[float], str] | None = None) -> None:
        self.runtime = runtime
        self.journal = journal
        self.events = events
        self.clock = clock or (lambda wall: "")  # "[  3.0s] " before a progress line, once t0 is known
        self.active: dict[str, Fault] = {}
        self._inflight: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------ the record
    def plan(self, fault: Fault, phase: str, offset: float) -> None:
        """Write the fault into the journal before it is due (a timeline plans all of them at t0)."""
        self.journal.fault_planned(fault.fault_id, phase, fault.target, fault.details(), fault.describe(), offset)

    # ------------------------------------------------------------ on and off
    async def apply(self, fault: Fault, phase: str = "", scheduled: float | None = None) -> str:
        """Put a fault on; returns the fault proxy's or the process's answer. Raises FaultFailed."""
        scheduled = time.time() if scheduled is None else scheduled
        if fault.fault_id not in self.journal.faults:
            self.plan(fault, phase, self.journal.offset(scheduled))
        return await self._to_the_end(self._apply(fault, scheduled))

    async def revert(self, fault_id: str) -> None:
        """Take a fault off; errors are recorded, never raised, so every other fault is still reverted."""
        fault = self.active.pop(fault_id, None)
        if fault is not None:
            await self._to_the_end(self._revert(fault))

    async def settle(self) -> None:
        """Wait for every apply and revert under way."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    async def revert_all(self) -> None:
        await self.settle()
        for fault_id in list(self.active):
            await self.revert(fault_id)

    # ------------------------------------------------------------ inside
    async def _to_the_end(self, coro: Awaitable[T]) -> T:
        task = asyncio.ensure_future(coro)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return await asyncio.shield(task)

    async def _apply(self, fault: Fault, scheduled: float) -> str:
        fault_id, rt = fault.fault_id, self.runtime
        try:
            if isinstance(fault, InstanceFault):
                rt.lease_instance_fault(fault)  # before the signal: a runner killed right after still has it ended
            result = await fault.apply(rt)
        except Exception as exc:
            text = str(exc) if isinstance(exc, ChaosdrillError) else repr(exc)
            failed = time.time()
            rt.release_process_fault(fault_id)
            if not isinstance(fault, InstanceFault):
                try:  # idempotent: removes a toxic the proxy took although our call failed
                    await fault.revert(rt)
                except Exception:
                    pass
            self.journal.fault_applied(fault_id, failed, (failed - scheduled) * 1000, text, ok=False)
            self.events.emit("fault_failed", f"{fault.describe()}: {text}", {"fault": fault_id}, at=failed,
                             line=f"could not apply fault {fault.describe()}: {text}")
            raise FaultFailed(f"could not apply fault {fault.describe()}: {text}") from None
        applied = time.time()
        lag_ms = round((applied - scheduled) * 1000, 2)
        self.active[fault_id] = fault
        self.journal.fault_applied(fault_id, applied, lag_ms, result, ok=True)
        self.events.emit("fault_applied", f"{fault.describe()}: {result}",
                         {"fault": fault_id, "lag_ms": lag_ms, "label": fault.describe(), "result": result},
                         at=applied, line=f"{self.clock(applied)}fault on: {fault.describe()}")
        return result

    async def _revert(self, fault: Fault) -> None:
        fault_id = fault.fault_id
        try:
            result = await fault.revert(self.runtime)
        except Exception as exc:
            now = time.time()
            self.journal.fault_removed(fault_id, now, str(exc), ok=False)
            self.events.emit("fault_removal_failed", f"{fault.describe()}: {exc}", {"fault": fault_id}, at=now,
                             line=f"could not remove fault {fault.describe()}: {exc}")
            return
        self.runtime.release_process_fault(fault_id)
        now = time.time()
        self.journal.fault_removed(fault_id, now, result, ok=True)
        self.events.emit("fault_removed", f"{fault.describe()}: {result}",
                         {"fault": fault_id, "label": fault.describe(), "result": result}, at=now,
                         line=f"{self.clock(now)}fault off: {fault.describe()}")
