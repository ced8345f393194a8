"""Keep time during a drill: faults on and off, actions, a tick per second.

Each planned fault is its own task sleeping until its offset, so one slow
API call never delays another fault; the journal records scheduled and
applied times. Faults go on and off through the session's FaultKeeper,
the one fault path every entry point shares. The per-second tick merges
the load's metrics, samples the services, checks abort_if and updates the
status line.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable

import aiohttp

from harness.errors import ChaosdrillError, HarnessError
from harness.events import EventBus
from harness.faults import build_fault
from harness.judge.load_cpu import SATURATED_SHARE
from harness.load.stream import SecondMerger
from harness.metrics.series import Second, Series, Stats
from harness.run.fault_keeper import FaultFailed, FaultKeeper
from harness.run.plan import Plan, PlannedAction, PlannedFault

ANSWER_KEPT = 4000  # characters of an action's answer kept in the journal (enough for a status document)


class Aborted(Exception):
    pass


class Timeline:
    def __init__(self, plan: Plan, faults: FaultKeeper, events: EventBus, load: Any = None, sampler: Any = None,
                 abort_check: Callable[[Any, Series, float], str | None] | None = None,
                 status: Callable[[str], None] | None = None) -> None:
        self.plan = plan
        self.faults = faults
        self.rt = faults.runtime
        self.journal = faults.journal
        self.events = events
        self.load = load
        self.sampler = sampler
        self.abort_check = abort_check
        self.status = status or (lambda text: None)
        self.t0 = 0.0
        self.merger = SecondMerger()
        self.failure: Exception | None = None  # a ChaosdrillError, or a driver's bug (re-raised as such)
        self._done = asyncio.Event()
        self._abort_reason: str | None = None
        self._n_dynamic = 0
        self.busiest_load: dict[int, float] = {}  # offset second -> the busiest load process's CPU share
        self._said_saturated = False

    @property
    def active(self) -> dict[str, Any]:
        return self.faults.active

    # ------------------------------------------------------------ main loop
    async def run(self, t0: float, driver: Callable[["Timeline"], Awaitable[None]] | None = None) -> None:
        """Keep the plan's time; or, given a `driver`, let it decide faults as it goes.

        A driver (the resilience matrix) calls `apply_now` and `revert_now`
        and reads `series()`; the tick, metrics, abort checks and the journal
        work the same either way.
        """
        self.t0 = t0
        if driver is None:
            for pf in self.plan.faults:
                self.faults.plan(build_fault(pf.entry, pf.id), pf.phase, pf.start)
            tasks = [asyncio.create_task(self.scheduled_fault(pf)) for pf in self.plan.faults]
            tasks += [asyncio.create_task(self.scheduled_action(a)) for a in self.plan.actions]
            tasks += [asyncio.create_task(self._phases())]
            limit: float | None = max(0.0, t0 + self.plan.duration - time.time()) + 0.05
        else:
            tasks = [asyncio.create_task(self._drive(driver))]
            limit = None
        tasks.append(asyncio.create_task(self._ticker()))
        try:
            await asyncio.wait_for(self._done.wait(), timeout=limit)
        except asyncio.TimeoutError:
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.failure is not None:
            raise self.failure
        if self._abort_reason:
            self.journal.status, self.journal.exit_code = "aborted", 1
            self.journal.reason = f"aborted: {self._abort_reason}"
        else:
            self.journal.status, self.journal.exit_code = "completed", 0

    async def _sleep_until(self, wall: float) -> None:
        delay = wall - time.time()
        if delay > 0:
            await asyncio.sleep(delay)

    def _stop(self, failure: Exception | None = None, abort: str | None = None) -> None:
        if failure is not None and self.failure is None:
            self.failure = failure
        if abort is not None and self._abort_reason is None:
            self._abort_reason = abort
        self._done.set()

    async def _drive(self, driver: Callable[["Timeline"], Awaitable[None]]) -> None:
        try:
            await driver(self)
        except Exception as exc:  # the drill ends; a bug is reported as the internal error it is
            self._stop(failure=exc)
        finally:
            self._done.set()

    # ------------------------------------------------------------ faults
    async def apply_now(self, entry: Any, phase: str) -> str | None:
        """Apply a fault at once (for drivers); its id, or None when it failed."""
        self._n_dynamic += 1
        fault = build_fault(entry, f"d{self._n_dynamic}")
        now = time.time()
        self.faults.plan(fault, phase, now - self.t0)
        return fault.fault_id if await self._apply(fault, now) else None

    async def revert_now(self, fault_id: str) -> None:
        await self.faults.revert(fault_id)

    async def scheduled_fault(self, pf: PlannedFault) -> None:
        fault = build_fault(pf.entry, pf.id)
        scheduled = self.t0 + pf.start
        await self._sleep_until(scheduled)
        if await self._apply(fault, scheduled):
            await self._sleep_until(self.t0 + pf.end)
            await self.faults.revert(pf.id)

    async def _apply(self, fault: Any, scheduled: float) -> bool:
        """A fault that cannot be applied ends the drill: what it was to prove cannot be proved."""
        try:
            await self.faults.apply(fault, scheduled=scheduled)
        except FaultFailed as exc:
            self._stop(failure=exc)
            return False
        return True

    # ------------------------------------------------------------ actions and phases
    async def scheduled_action(self, action: PlannedAction) -> None:
        await self._sleep_until(self.t0 + action.at)
        instances = self.rt.instances.get(action.service, [])
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            for inst in instances:
                where = {"phase": action.phase, "action": action.index, "instance": inst.name}
                try:
                    async with session.request(action.method, inst.url + action.path, json=action.json) as resp:
                        body = (await resp.text())[:ANSWER_KEPT]
                        ok = resp.status < 400
                    msg = f"{action.method} {action.path} on {inst.name}: HTTP {resp.status}"
                    self.events.emit("action" if ok else "action_failed", msg,
                                     {**where, "status": resp.status, "body": body},
                                     line=f"[{self._clock(time.time())}] {msg}")
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                    self.events.emit("action_failed", f"{action.method} {action.path} on {inst.name}: {exc!r}",
                                     {**where, "error": repr(exc)}, show=False)

    async def _phases(self) -> None:
        for phase in self.plan.phases:
            await self._sleep_until(self.t0 + phase.start)
            self.events.emit("phase_started", phase.name, at=self.t0 + phase.start,
                             line=f"[{self._clock(self.t0 + phase.start)}] phase {phase.name} "
                                  f"({phase.end - phase.start:g}s)")
        await self._sleep_until(self.t0 + self.plan.duration)
        self.events.emit("phases_ended", "all phases done", at=self.t0 + self.plan.duration, show=False)

    # ------------------------------------------------------------ the tick
    async def _ticker(self) -> None:
        tick = self.t0 + 0.25
        while True:
            await self._sleep_until(tick)
            tick += 1.0
            self.collect_metrics()
            await self._sample_services()
            now_t = time.time() - self.t0
            complete = int(now_t) - 1  # seconds before this one are complete
            self._show(complete)
            if self.abort_check is not None and complete >= 0:
                reason = self.abort_check(self.plan.scenario, self.series(), complete)
                if reason:
                    self.events.emit("abort", f"abort_if met: {reason}", line=f"ABORT: {reason}")
                    self._stop(abort=reason)
                    return
            if self.load is not None and not self.load.running():
                self._stop(failure=HarnessError(f"the load process exited early: {self.load.failure_text()}"))
                return

    def collect_metrics(self, final: bool = False) -> None:
        if self.load is None:
            return
        self.add_records(self.load.poll(final=final))
        self._load_cpu(self.load.take_cpu())
        for ev in self.load.take_events():
            kind = str(ev.get("event"))
            detail = " ".join(str(ev[k]) for k in ("worker", "detail", "reason") if ev.get(k))
            self.events.emit(kind, f"load: {kind.replace('_', ' ')} {detail}".strip(),
                             {k: v for k, v in ev.items() if k not in ("v", "event", "t")}, at=ev.get("t"),
                             line=f"LOAD WORKER LOST: {detail}", show=kind == "worker_lost")
        if final:
            self.journal.metrics = [s.to_json() for s in self.series().seconds]

    def _load_cpu(self, samples: list[dict]) -> None:
        """Keep the load processes' CPU shares; say once when the load generator runs out of CPU."""
        self.journal.add_load_cpu(samples)
        for s in samples:
            t = int(s["t"]) - int(self.t0)
            self.busiest_load[t] = max(self.busiest_load.get(t, 0.0), float(s["share"]))
            if float(s["share"]) >= SATURATED_SHARE and not self._said_saturated and t >= 0:
                self._said_saturated = True
                self.events.emit("load_saturated", f"load process {s['process']} at {float(s['share']):.0%} of a core "
                                 f"at {t}s: latency and throughput measured now are partly the load's own "
                                 "(fewer users per process, or more processes: docs/load.md)")

    def add_records(self, records: list[dict]) -> None:
        """Merge per-worker per-second records (Unix seconds; offsets from t0 when read)."""
        self.merger.add_all(records)

    def series(self) -> Series:
        t0 = int(self.t0)
        return Series(Second(t=sec.t - t0, endpoints=sec.endpoints, instances=sec.instances) for sec in self.merger.seconds.values())

    async def _sample_services(self) -> None:
        if self.sampler is None:
            return
        try:
            samples = await self.sampler.sample()
        except Exception:
            return
        now = time.time()
        for service, index, values in samples:
            self.journal.service_sample(now, service, index, values)

    # ------------------------------------------------------------ progress
    def _clock(self, wall: float) -> str:
        return f"{wall - self.t0:6.1f}s"

    def _show(self, t: int) -> None:
        phase = self.plan.phase_at(time.time() - self.t0)
        sec = self.merger.seconds.get(int(self.t0) + t)
        stats = sec.total() if sec else Stats()
        faults = ", ".join(f.describe() for f in self.active.values()) or "none"
        where = f"{phase.name} {time.time() - self.t0 - phase.start:4.0f}/{phase.end - phase.start:g}s" if phase else "ending"
        cpu = self.busiest_load.get(t, 0.0)
        busy = f" | LOAD CPU {cpu:.0%}" if cpu >= SATURATED_SHARE else ""
        self.status(
            f"{where} | {stats.n:5d} req/s | err {stats.error_rate * 100:5.1f}% | "
            f"ungraceful {stats.ungraceful:3d} | p99 {stats.percentile_ms(99):7.1f} ms{busy} | faults: {faults}"
        )
