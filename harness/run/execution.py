"""Execute a plan: a session for the stack, the load, the fault timeline.

The session (harness.run.session) owns the lifecycle every entry point
shares: state file, watchdog, heartbeat, stack, the fault path, and the
wind-down that reverts every fault, stops the load, audits and stops the
stack on every exit path. What a scripted drill adds is time: it waits for
the load's first requests, fixes t0, and lets the timeline (or a driver such
as the matrix) put faults on and off.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness.errors import HarnessError, UsageError
from harness.events import EventBus, progress_sink
from harness.proxy.toxics import extension_toxics
from harness.proxy_client.client import FaultProxyClient
from harness.run.journal import Journal
from harness.run.load_driver import LoadDriver
from harness.run.plan import Plan
from harness.run.progress import Progress
from harness.run.session import RunSession, SessionOptions, cancel_on_signals
from harness.run.timeline import Timeline


@dataclass
class RunOptions:
    run_dir: Path
    service_args: dict[str, list[str]] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)
    fault_proxy_url: str | None = None
    backend: str | None = None  # process | docker; None: the stack's
    progress: Progress = field(default_factory=Progress)
    warmup: float | None = None  # seconds of load before t0; None: ramp time + 1 s
    abort_check: Callable[[Any, Any, float], str | None] | None = None
    driver: Callable[[Any], Any] | None = None  # drives faults itself instead of the plan (matrix)
    master_bind: str | None = None  # where the Locust master listens for remote workers
    master_port: int | None = None
    allow_remote: bool = False  # services at addresses on other hosts


class Interrupted(Exception):
    def __init__(self, signame: str) -> None:
        super().__init__(f"interrupted by {signame}")
        self.signame = signame


async def execute(plan: Plan, journal: Journal, opts: RunOptions) -> None:
    """Run the drill; fills `journal`. Raises ChaosdrillError for harness failures."""
    events = EventBus(progress_sink(opts.progress))
    session = RunSession(
        plan.stack, journal.run_id,
        SessionOptions(kind="run", log_dir=opts.run_dir / "logs", replicas=opts.replicas,
                       service_args=opts.service_args, fault_proxy_url=opts.fault_proxy_url, backend=opts.backend,
                       allow_remote=opts.allow_remote),
        journal=journal, events=events,
    )
    with cancel_on_signals(events, "stopping the drill, removing faults, stopping services...") as received:
        try:
            async with session:
                _refuse_toxics_the_server_lacks(plan, session.runtime.client)
                await _drill(plan, session, opts)
        except asyncio.CancelledError:
            signame = received[0] if received else "cancellation"
            journal.status, journal.exit_code = "aborted", 130
            journal.reason = f"interrupted by {signame}"
            journal.event("abort", journal.reason)
            raise Interrupted(signame) from None


async def _drill(plan: Plan, session: RunSession, opts: RunOptions) -> None:
    journal = session.journal
    started = time.time()
    load = session.start_load(plan, opts.run_dir, master=(opts.master_bind, opts.master_port))
    early = await _first_metrics(load, timeout=30.0 + (60.0 if load.config.get("expect_workers") else 0.0))
    warmup = opts.warmup if opts.warmup is not None else load.ramp_seconds(plan.scenario.load) + 1.0
    # Counted from the load's own start, not from spawning its process (0.3-1 s of
    # imports), so load stages land a known time before t0: warmup to warmup + 1 s.
    t0 = math.ceil(max(time.time(), (load.started_at() or started) + warmup))
    journal.t0 = float(t0)
    journal.phases = [{"name": p.name, "start": p.start, "end": p.end, "expect": _dump(p.expect)}
                      for p in plan.phases]
    timeline = Timeline(plan, session.faults, session.events, load, session.sampler, opts.abort_check,
                        status=opts.progress.status)
    timeline.t0 = float(t0)
    timeline.add_records(early)
    session.on_load_stopped.append(lambda: timeline.collect_metrics(final=True))
    await timeline.run(t0, driver=opts.driver)


def _refuse_toxics_the_server_lacks(plan: Plan, client: FaultProxyClient | None) -> None:
    """Fail before any load when a planned toxic is one a plain Toxiproxy lacks, not minutes in."""
    if client is None or client.is_builtin:
        return
    for fault in plan.faults:
        toxic = getattr(fault.entry, "toxic", None)
        if toxic in extension_toxics():
            raise UsageError(
                f"{plan.scenario.source or plan.scenario.title}: phase {fault.phase!r}: toxic {toxic!r} on "
                f"{fault.entry.link} is a chaosdrill extension, and the fault proxy at {client.url} "
                f"({client.version()}) does not have it; run without --fault-proxy/TOXIPROXY_URL "
                "to use the built-in one"
            )


async def _first_metrics(load: LoadDriver, timeout: float = 30.0) -> list[dict]:
    """Wait until the load has measured its first requests, so t0 never precedes traffic."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = load.poll()
        if records:
            return records
        if not load.running():
            if load.popen is not None and load.popen.poll() == 2:
                # The load's own usage error: the scenario's load section (locustfile,
                # user_classes) is at fault, as a --service-arg a service refuses is.
                raise UsageError(f"{load.plan.scenario.source or load.plan.scenario.title}: load: the load process refused "
                                 f"its config: {load.failure_text()}")
            raise HarnessError(f"the load process exited before sending any request: {load.failure_text()}")
        await asyncio.sleep(0.1)
    raise HarnessError(f"the load sent no request within {timeout:g}s: {load.failure_text()}")


def _dump(model: Any) -> Any:
    if model is None:
        return None
    dump = getattr(model, "model_dump", None)
    return dump(mode="json", exclude_none=True, by_alias=True) if dump else model
