"""The session every way of running a stack opens: one lifecycle, one fault path.

`chaosdrill run`, `gate` and `matrix`, a game day, the pytest plugin and
`chaosdrill stack up` differ only in what drives the faults (a timeline, the
matrix, a person, a test's `with` block) and what they render. What a
stack under fault needs around it is the same for all of them, and lives
here once:

- a state file listing what the run starts, so a killed run can be cleaned;
- a watchdog process that outlives the runner and ends its faults if it dies;
- the stack runtime, started and always stopped;
- a heartbeat that renews the state file *and* every fault proxy lease, so
  a fault held for minutes stays on, and one held by a dead runner ends
  within the lease's few seconds;
- one event bus (journal, progress, live views subscribe to it);
- one `FaultKeeper` through which every fault is leased, applied, recorded,
  reverted and released;
- the load, when the entry point drives one, and the audit of invariants
  once it stops.

    async with RunSession(stack, run_id, SessionOptions(kind="run")) as session:
        await session.faults.apply(fault)
        ...
    # every fault reverted, the load stopped, the stack stopped, on every exit path

`close()` is shielded from cancellation: a second Ctrl-C cannot cut the
cleanup short.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from harness.errors import ChaosdrillError
from harness.events import EventBus, journal_sink
from harness.run.fault_keeper import FaultKeeper
from harness.run.journal import Journal
from harness.run.sampling import ServiceSampler
from harness.stack.runtime import StackOptions, StackRuntime
from harness.stack.cleanup import clean_run
from harness.state import RunState, stale_runs
from harness.watchdog import spawn as spawn_watchdog

__all__ = ["RunSession", "SessionOptions", "cancel_on_signals"]

HEARTBEAT_S = 1.0


@dataclass
class SessionOptions:
    kind: str = "run"  # the state file's kind: run | gameday | pytest | stack
    log_dir: Path | None = None  # None: the stack's own temporary folder
    replicas: dict[str, int] = field(default_factory=dict)
    service_args: dict[str, list[str]] = field(default_factory=dict)
    fault_proxy_url: str | None = None
    backend: str | None = None  # process | docker; None: the stack's
    allow_remote: bool = False  # services at addresses on other hosts (--allow-remote)


def changed_by_options(options: SessionOptions) -> dict[str, Any]:
    """The command line's changes to the stack, for the journal's `stack` section (and the report's banner)."""
    out: dict[str, Any] = {}
    if options.service_args:
        out["service_args"] = {k: list(v) for k, v in options.service_args.items()}
    if options.replicas:
        out["replicas"] = dict(options.replicas)
    return out


class RunSession:
    """A stack under the harness's care, from the state file's creation to its removal."""

    def __init__(self, stack: Any, run_id: str, options: SessionOptions | None = None,
                 journal: Journal | None = None, events: EventBus | None = None) -> None:
        from harness.stack.backends import make_runtime

        self.options = options or SessionOptions()
        self.stack = stack
        self.journal = journal or Journal(run_id, {})
        self.events = events or EventBus()
        self.events.subscribe(journal_sink(self.journal))
        self.state = RunState(run_id, kind=self.options.kind)
        self.runtime: StackRuntime = make_runtime(
            stack,
            StackOptions(log_dir=self.options.log_dir, replicas=self.options.replicas,
                         extra_args=self.options.service_args, fault_proxy_url=self.options.fault_proxy_url,
                         on_event=lambda kind, message, data: self.events.emit(kind, message, data),
                         allow_remote=self.options.allow_remote),
            state=self.state, backend=self.options.backend,
        )
        self.faults = FaultKeeper(self.runtime, self.journal, self.events, clock=self.clock)
        self.sampler = ServiceSampler(self.runtime, list(getattr(stack, "metrics", None) or []))
        self.load: Any = None  # harness.run.load_driver.LoadDriver once start_load ran
        self.plan: Any = None  # the plan the load runs and the audit checks
        self.on_load_stopped: list[Callable[[], None]] = []  # e.g. collect the last seconds of metrics
        self.watchdog: subprocess.Popen | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._opened = False
        self._closed = False

    # ------------------------------------------------------------ time
    @property
    def t0(self) -> float | None:
        return self.journal.t0

    def clock(self, wall: float) -> str:
        """The '[  3.0s] ' prefix of a progress line, once t0 is set."""
        return f"[{wall - self.journal.t0:6.1f}s] " if self.journal.t0 is not None else ""

    # ------------------------------------------------------------ open
    async def __aenter__(self) -> "RunSession":
        await self.open()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def open(self) -> None:
        """Clean what killed runs left, write the state file, start the watchdog, the heartbeat and the stack.

        On any failure (or cancellation) the session is closed again before the error goes on.
        """
        self._opened = True
        for leftover in stale_runs():
            for action in clean_run(leftover):
                self.events.emit("cleanup", f"left by killed run {leftover.data.get('run_id')}: {action}", show=False)
        self.state.save()
        self.watchdog = spawn_watchdog(self.state.path, self.runtime.log_dir / "watchdog.log")
        self._heartbeat = asyncio.create_task(self._beat())
        changed = changed_by_options(self.options)
        self.journal.stack = dict(changed)  # even if the stack never starts, the report says what was changed
        self.events.say(f"starting stack {self.stack.name}...")
        try:
            await self.runtime.start()
        except BaseException:
            await self.close()
            raise
        self.journal.stack = {**self.runtime.describe(), **changed}

    async def _beat(self) -> None:
        """Renew this run's leases while it lives: the watchdog's (the state file) and the fault proxy's."""
        while True:
            self.state.heartbeat()
            client = self.runtime.client
            if client is not None and client.lease:
                try:
                    await asyncio.to_thread(client.renew_leases)
                except Exception:
                    pass  # a missed beat is fine: the ttl spans several
            await asyncio.sleep(HEARTBEAT_S)

    # ------------------------------------------------------------ load
    def start_load(self, plan: Any, run_dir: Path, master: tuple[str | None, int | None] = (None, None)) -> Any:
        """Start the Locust load on the stack's entry; it is stopped (and the audit run) by close()."""
        from harness.run.load_driver import LoadDriver

        self.plan = plan
        self.load = LoadDriver(plan, self.runtime, run_dir, master_bind=master[0], master_port=master[1])
        self.load.start()
        self.state.add_process("load", self.load.pid)
        self.events.emit("load_started", f"load: {self.load.describe()}", line=f"load started: {self.load.describe()}")
        return self.load

    # ------------------------------------------------------------ close
    async def close(self) -> None:
        """Revert every fault, stop the load, audit, stop the stack, end the watchdog. Safe to call twice."""
        if self._closed or not self._opened:
            return
        self._closed = True
        await asyncio.shield(self._wind_down())

    async def _wind_down(self) -> None:
        journal = self.journal
        try:
            await self.faults.revert_all()
            if self.load is not None:
                await asyncio.to_thread(self.load.stop)
                self.events.emit("load_stopped", "load stopped", show=False)
                for collect in self.on_load_stopped:
                    collect()
                journal.acknowledged = self.load.acknowledged_count()
            await self.sampler.close()
            await self._audit()
        finally:
            try:
                journal.leftovers = await self._leftovers()
                await self.runtime.stop()
                self.events.emit("stack_stopped", "stack stopped", show=False)
                journal.ended = time.time()
            finally:
                if self._heartbeat is not None:
                    self._heartbeat.cancel()
                    await asyncio.gather(self._heartbeat, return_exceptions=True)
                self.state.remove()  # the watchdog sees its run ended cleanly and exits
                if self.watchdog is not None:
                    try:
                        await asyncio.to_thread(self.watchdog.wait, 3)
                    except Exception:
                        self.watchdog.kill()

    async def _audit(self) -> None:
        """The invariants, on the system's own records, once the load has stopped and what was in flight landed."""
        from harness.run.audit import run_audit

        journal, plan = self.journal, self.plan
        if self.load is None or journal.t0 is None or not getattr(self.stack, "audit", None):
            return
        self.events.say("auditing data invariants...")
        try:
            journal.invariants = await run_audit(plan, self.runtime, self.load.acknowledgements())
        except ChaosdrillError as exc:
            self.events.emit("audit_failed", str(exc), show=False)
            journal.invariants = [{"name": "audit", "passed": False, "counts": {}, "offending": [],
                                   "message": f"audit could not run: {exc}"}]
            return
        for inv in journal.invariants:
            self.events.emit("invariant", f"{inv['name']}: {'ok' if inv['passed'] else 'VIOLATED'} "
                                          f"{inv.get('message', '')}", show=False)

    async def _leftovers(self) -> dict[str, Any]:
        """After reverting: ask the fault proxy what is still active on this run's proxies."""
        rt = self.runtime
        out: dict[str, Any] = {"checked": False, "toxics": [], "disabled_proxies": [], "paused": []}
        if rt.client is None:
            return out
        try:
            proxies = await asyncio.to_thread(rt.client.proxies)
            ours = {lk.proxy for lk in [*rt.links.values(), *rt.edges]}
            for name, info in proxies.items():
                if name not in ours:
                    continue
                if not info.enabled:
                    out["disabled_proxies"].append(name)
                for toxic in await asyncio.to_thread(rt.client.toxics, name):
                    out["toxics"].append(f"{name}/{toxic}")
            out["paused"] = [i.name for i in rt.all_instances() if i.paused]
            out["checked"] = True
        except Exception as exc:  # the proxy may be what failed
            out["error"] = str(exc)
        return out


@contextlib.contextmanager
def cancel_on_signals(events: EventBus, what: str) -> Iterator[list[str]]:
    """SIGINT and SIGTERM cancel the current task once, so its `finally` (a session's close) runs;
    a second signal is only acknowledged. Yields the names of the signals received."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[str] = []

    def on_signal(signame: str) -> None:
        if received:
            events.say(f"{signame} again: still cleaning up, please wait")
            return
        received.append(signame)
        events.say(f"{signame}: {what}")
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig.name)
    try:
        yield received
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
