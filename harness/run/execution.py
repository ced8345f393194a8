"""Execute a plan: start the stack and the load, keep the fault timeline,
sample metrics every second, stop, audit, tear down, on every exit path.

Cancellation (Ctrl-C, SIGTERM) and errors unwind through one `finally`
that reverts every applied fault, stops the load and the stack, and leaves
a complete journal behind.
"""

from __future__ import annotations

import asyncio
import math
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness.errors import ChaosdrillError, HarnessError, UsageError
from harness.proxy.toxics import extension_toxics
from harness.proxy_client.client import FaultProxyClient
from harness.run.audit import run_audit
from harness.run.journal import Journal
from harness.run.load_driver import LoadDriver
from harness.run.plan import Plan
from harness.run.progress import Progress
from harness.run.sampling import ServiceSampler
from harness.run.timeline import Timeline
from harness.stack.docker_backend import make_runtime
from harness.stack.runtime import StackOptions, StackRuntime
from harness.state import RunState, clean_run, stale_runs
from harness.watchdog import spawn as spawn_watchdog


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


def run_options(service_args: dict[str, list[str]], replicas: dict[str, int]) -> dict[str, Any]:
    """The command line's changes to the stack, for the journal's `stack` section (and the report's banner)."""
    out: dict[str, Any] = {}
    if service_args:
        out["service_args"] = {k: list(v) for k, v in service_args.items()}
    if replicas:
        out["replicas"] = dict(replicas)
    return out


class Interrupted(Exception):
    def __init__(self, signame: str) -> None:
        super().__init__(f"interrupted by {signame}")
        self.signame = signame


async def execute(plan: Plan, journal: Journal, opts: RunOptions) -> None:
    """Run the drill; fills `journal`. Raises ChaosdrillError for harness failures."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    received: list[str] = []

    def on_signal(signame: str) -> None:
        if received:
            opts.progress.event(f"{signame} again: still cleaning up, please wait")
            return
        received.append(signame)
        opts.progress.event(f"{signame}: stopping the drill, removing faults, stopping services...")
        main.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig.name)

    for leftover in stale_runs():
        for action in clean_run(leftover):
            journal.event("cleanup", f"left by killed run {leftover.data.get('run_id')}: {action}")

    state = RunState(journal.run_id, kind="run")
    state.save()
    watchdog = spawn_watchdog(state.path, opts.run_dir / "logs" / "watchdog.log")
    events_to_journal = lambda kind, msg, data: (journal.event(kind, msg, data), opts.progress.event(msg))
    rt = make_runtime(
        plan.stack,
        StackOptions(
            log_dir=opts.run_dir / "logs",
            replicas=opts.replicas,
            extra_args=opts.service_args,
            fault_proxy_url=opts.fault_proxy_url,
            on_event=events_to_journal,
        ),
        state=state,
        backend=opts.backend,
    )
    beat = asyncio.create_task(heartbeat(state, rt))
    load: LoadDriver | None = None
    timeline: Timeline | None = None
    sampler = ServiceSampler(rt, list(getattr(plan.stack, "metrics", None) or []))
    try:
        try:
            opts.progress.event(f"starting stack {plan.stack.name}...")
            changed = run_options(opts.service_args, opts.replicas)
            journal.stack = dict(changed)  # even if the stack never starts, the report says what was changed
            await rt.start()
            journal.stack = {**rt.describe(), **changed}
            _refuse_toxics_the_server_lacks(plan, rt.client)
            load = LoadDriver(plan, rt, opts.run_dir, master_bind=opts.master_bind, master_port=opts.master_port)
            load.start()
            state.add_process("load", load.pid)
            journal.event("load_started", f"load: {load.describe()}")
            opts.progress.event(f"load started: {load.describe()}")
            started = time.time()
            early = await _first_metrics(load, timeout=30.0 + (60.0 if load.config.get("expect_workers") else 0.0))
            warmup = opts.warmup if opts.warmup is not None else load.ramp_seconds(plan.scenario.load) + 1.0
            # Counted from the load's own start, not from spawning its process (0.3-1 s of
            # imports), so load stages land a known time before t0: warmup to warmup + 1 s.
            t0 = math.ceil(max(time.time(), (load.started_at() or started) + warmup))
            journal.t0 = float(t0)
            journal.phases = [
                {"name": p.name, "start": p.start, "end": p.end, "expect": _dump(p.expect)} for p in plan.phases
            ]
            timeline = Timeline(plan, rt, journal, load, sampler, opts.progress, opts.abort_check)
            timeline.t0 = float(t0)
            timeline.add_records(early)
            await timeline.run(t0, driver=opts.driver)
        except asyncio.CancelledError:
            signame = received[0] if received else "cancellation"
            journal.status, journal.exit_code = "aborted", 130
            journal.reason = f"interrupted by {signame}"
            journal.event("abort", journal.reason)
            raise Interrupted(signame) from None
    finally:
        # Runs on success, failure, Ctrl-C, SIGTERM and exceptions alike.
        # Shielded from a second cancellation so cleanup always completes.
        await asyncio.shield(wind_down(plan, journal, opts, rt, load, timeline, sampler))
        beat.cancel()
        # The state file is gone now (clean end): the watchdog sees that and exits.
        try:
            watchdog.wait(timeout=3)
        except Exception:
            watchdog.kill()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


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


async def heartbeat(state: RunState, rt: StackRuntime, every: float = 1.0) -> None:
    """Renew this run's leases while it lives: the watchdog's and the fault proxy's."""
    while True:
        state.heartbeat()
        if rt.client is not None and rt.client.lease:
            try:
                await asyncio.to_thread(rt.client.renew_leases)
            except Exception:
                pass  # a missed beat is fine: the ttl spans several
        await asyncio.sleep(every)


async def wind_down(plan, journal, opts, rt, load, timeline, sampler) -> None:
    if timeline is not None:
        await timeline.revert_all()
    if load is not None:
        await asyncio.to_thread(load.stop)
        journal.event("load_stopped", "load stopped")
        if timeline is not None:
            timeline.collect_metrics(final=True)
        journal.acknowledged = load.acknowledged_count()
    await sampler.close()
    try:
        if load is not None and journal.t0 is not None and getattr(plan.stack, "audit", None):
            opts.progress.event("auditing data invariants...")
            journal.invariants = await run_audit(plan, rt, load.acknowledgements())
            for inv in journal.invariants:
                journal.event("invariant", f"{inv['name']}: {'ok' if inv['passed'] else 'VIOLATED'} {inv.get('message', '')}")
    except ChaosdrillError as exc:
        journal.event("audit_failed", str(exc))
        journal.invariants = [{"name": "audit", "passed": False, "counts": {}, "offending": [],
                               "message": f"audit could not run: {exc}"}]
    finally:
        journal.leftovers = await _leftovers(rt, timeline)
        await rt.stop()
        journal.event("stack_stopped", "stack stopped")
        journal.ended = time.time()


async def _leftovers(rt: StackRuntime, timeline) -> dict[str, Any]:
    """After reverting: ask the fault proxy what is still active."""
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


def _dump(model: Any) -> Any:
    if model is None:
        return None
    dump = getattr(model, "model_dump", None)
    return dump(mode="json", exclude_none=True, by_alias=True) if dump else model
