"""A game day: the stack and the load running until the operator quits.

The session owns everything a scripted drill owns (run state, watchdog,
heartbeat leases, stack, load, service sampling, journal) and reuses the
drill's own pieces for them, so a game day leaves the same record and
cleans up the same way on every exit path. What differs is who keeps time:
faults come from typed commands, phases from cues, and the load runs until
`close()`.

Commands run as tasks: a slow one (a killed service restarting and waiting
for health) never holds up the console or the per-second tick.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ChaosdrillError, HarnessError, UsageError
from harness.faults import Fault, build_fault
from harness.faults.base import InstanceFault
from harness.gameday import grammar
from harness.gameday.grammar import (ClearCommand, FaultCommand, HelpCommand, HypothesisEnd, HypothesisStart,
                                     NoteCommand, PhaseCommand, QuitCommand, RunCommand, UsersCommand, Vocabulary)
from harness.gameday.live import ActiveFault, LiveModel, ServiceView
from harness.gameday.record import RecordBook
from harness.run.folders import make_run_dir, new_run_dir
from harness.run.journal import Journal
from harness.run.progress import Progress

LOAD_NICE = 10  # the load yields the CPU to the console and the services under test
CONSOLE_NICE = -5  # and the console asks to go first, where it may (root, CAP_SYS_NICE)
COMMANDS_FINISH_S = 5.0  # at the end, commands still running get this long to finish
LONG_S = 24 * 3600.0  # a game day's planned length: the load runs until close()


@dataclass
class GamedayOptions:
    stack: str | None = None  # stack name or file; default: the scenario's, else "lending"
    scenario: Path | None = None
    users: int | None = None
    spawn_rate: float | None = None
    report_dir: Path = Path("reports")
    web_port: int | None = 0  # None: no web view
    fault_proxy_url: str | None = None
    service_args: dict[str, list[str]] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)
    backend: str | None = None
    progress: Progress = field(default_factory=Progress)


class _ProgressToModel:
    """Timeline's progress interface, writing into the live event log."""

    def __init__(self, model: LiveModel, kind: str = "phase") -> None:
        self.model = model
        self.kind = kind

    def event(self, text: str) -> None:
        self.model.event(self.kind, text.split("] ", 1)[-1])

    def status(self, text: str) -> None:
        pass


class GameDay:
    def __init__(self, opts: GamedayOptions) -> None:
        from harness.run.plan import make_plan

        self.opts = opts
        self.cue_scenario = self._load_scenario(opts.scenario, opts.replicas) if opts.scenario else None
        if self.cue_scenario is not None:
            self.stack = self.cue_scenario.resolved_stack()
            if opts.stack and opts.stack not in (self.stack.name, str(opts.stack)):
                raise UsageError(f"--stack {opts.stack}: the scenario {opts.scenario} runs on stack {self.stack.name}")
        else:
            from harness.stack.model import load_stack

            self.stack = load_stack(opts.stack or "lending").with_replicas(opts.replicas)
        self.load_scenario = self._load_settings()
        self.plan = make_plan(self.load_scenario, self.stack)
        run_dir = new_run_dir(opts.report_dir, "gameday", create=False)
        self.run_dir = run_dir
        self.journal = Journal(run_dir.name, {})
        self.model = LiveModel(self.stack.name)
        self.model.run_id = run_dir.name
        self.book = RecordBook(self)
        self.rt: Any = None
        self.load: Any = None
        self.state: Any = None
        self.watchdog: Any = None
        self.sampler: Any = None
        self.web: Any = None
        self._tasks: set[asyncio.Task] = set()
        self._ticker: asyncio.Task | None = None
        self._heartbeat: asyncio.Task | None = None
        self.manual: Any = None  # a Timeline without a plan of its own: it removes the operator's faults
        self.active: dict[str, Fault] = {}  # operator faults by id (shared with self.manual)
        self._fault_n = 0
        self.quit_requested = asyncio.Event()
        self.closed = False
        self.console_abandoned = False
        self.ended_by: str | None = None

    # ------------------------------------------------------------ setup
    @staticmethod
    def _load_scenario(path: Path, replicas: dict[str, int]) -> Any:
        from harness.scenario import load_scenario

        return load_scenario(path, replicas)

    def _load_settings(self) -> Any:
        """A scenario holding only the load and the game day's planned length, for the LoadDriver."""
        from harness.invariants import invariants_of
        from harness.scenario import Scenario

        base = self.cue_scenario.load.model_dump(exclude_none=True) if self.cue_scenario else {}
        users = self.opts.users or base.get("users") or 20
        spawn = self.opts.spawn_rate or base.get("spawn_rate") or max(1.0, float(users))
        base.update(users=users, spawn_rate=spawn)
        base.pop("stages", None)
        if self.cue_scenario is not None:
            invariants = list(self.cue_scenario.invariants)
        else:
            audit = getattr(self.stack, "audit", None)
            invariants = sorted(invariants_of(audit.plugin)) if audit else []
        scenario = Scenario.model_validate({
            "title": "Game day", "plan": "faults by hand", "stack": self.stack.name, "load": base,
            "phases": [{"name": "gameday", "duration": LONG_S}], "invariants": invariants,
        })
        scenario._stack = self.stack
        if self.cue_scenario is not None:
            scenario._source = self.cue_scenario.source
        return scenario

    async def start(self) -> None:
        """Start the stack, the load and the web view; raises ChaosdrillError when one cannot start."""
        from harness.run.execution import heartbeat
        from harness.run.load_driver import LoadDriver
        from harness.run.sampling import ServiceSampler
        from harness.stack.backends import make_runtime
        from harness.stack.runtime import StackOptions
        from harness.stack.cleanup import clean_run
        from harness.state import RunState, stale_runs
        from harness.watchdog import spawn as spawn_watchdog

        progress = self.opts.progress
        make_run_dir(self.opts.report_dir, self.run_dir)
        if self.opts.web_port is not None:
            from harness.gameday.web import WebView

            self.web = WebView(self.model.snapshot, self.opts.web_port)
            try:
                self.model.web_url = await self.web.start()
            except OSError as exc:
                self.web = None
                self.run_dir.rmdir()  # still empty: a game day that never started leaves no record
                reason = os.strerror(exc.errno) if exc.errno else str(exc)
                raise UsageError(f"--web-port {self.opts.web_port}: cannot listen on 127.0.0.1: {reason}") from None
            progress.event(f"read-only web view at {self.model.web_url}")
            self.log("web_view", f"read-only web view at {self.model.web_url}")
        for leftover in stale_runs():
            for action in clean_run(leftover):
                self.log("cleanup", f"left by killed run {leftover.data.get('run_id')}: {action}")
        self.state = RunState(self.journal.run_id, kind="gameday")
        self.state.save()
        self.watchdog = spawn_watchdog(self.state.path, self.run_dir / "logs" / "watchdog.log")

        def on_stack_event(kind: str, message: str, data: dict) -> None:
            self.log(kind, message, data)
            progress.event(message)

        self.rt = make_runtime(self.stack, StackOptions(log_dir=self.run_dir / "logs", replicas=self.opts.replicas,
                                                        extra_args=self.opts.service_args,
                                                        fault_proxy_url=self.opts.fault_proxy_url,
                                                        on_event=on_stack_event),
                               self.state, backend=self.opts.backend)
        self._heartbeat = asyncio.create_task(heartbeat(self.state, self.rt))
        self.sampler = ServiceSampler(self.rt, list(getattr(self.stack, "metrics", None) or []))
        progress.event(f"starting stack {self.stack.name}...")
        try:
            await self.rt.start()
        except ChaosdrillError as exc:
            self.book.failure = str(exc)
            raise
        from harness.run.execution import run_options

        self.journal.stack = {**self.rt.describe(), **run_options(self.opts.service_args, self.opts.replicas)}
        self.model.links = {lk.name: {"source": lk.source, "target": self._service_of(lk.target)}
                            for lk in [*self.rt.links.values(), *self.rt.edges]}
        self.load = LoadDriver(self.plan, self.rt, self.run_dir)
        self.load.start()
        self.state.add_process("load", self.load.pid)
        try:
            os.setpriority(os.PRIO_PROCESS, self.load.pid, LOAD_NICE)
            if os.getpriority(os.PRIO_PROCESS, 0) > CONSOLE_NICE:
                os.setpriority(os.PRIO_PROCESS, 0, CONSOLE_NICE)
        except OSError:
            pass  # not allowed: the console is merely less snappy
        t0 = math.ceil(time.time())
        self.journal.t0 = self.model.t0 = float(t0)
        self.model.users = self.load_scenario.load.users
        self.model.spawn_rate = self.load_scenario.load.spawn_rate
        self.log("load_started", f"load: {self.load.describe()}")
        progress.event(f"load started: {self.load.describe()}")
        from harness.run.timeline import Timeline

        self.manual = Timeline(self.plan, self.rt, self.journal, None, None, _ProgressToModel(self.model, "fault_removed"))
        self.manual.t0 = float(t0)
        self.manual.active = self.active
        self.model.status = "running"
        self._ticker = asyncio.create_task(self._tick_loop())

    def _service_of(self, instance_name: str) -> str:
        for service, group in self.rt.instances.items():
            if any(i.name == instance_name for i in group):
                return service
        return instance_name.split("#")[0]

    # ------------------------------------------------------------ the record
    def trace(self, message: str) -> None:
        """A line in the run folder's gameday.log: how the game day itself went, when no terminal is left."""
        if not self.run_dir.is_dir():
            return  # nothing started yet, so nothing to record
        try:
            with open(self.run_dir / "gameday.log", "a") as f:
                f.write(f"{time.strftime('%H:%M:%S')} {message}\n")
        except OSError:
            pass

    def log(self, kind: str, message: str, data: dict | None = None, wall: float | None = None) -> None:
        """One event, in the journal and on the console."""
        wall = time.time() if wall is None else wall
        self.journal.event(kind, message, data or {}, at=wall)
        self.model.event(kind, message, wall)

    def vocabulary(self) -> Vocabulary:
        links = {name: info["target"] for name, info in self.model.links.items()}
        services = {name: len(group) for name, group in (self.rt.instances.items() if self.rt else [])}
        return Vocabulary(links=links, services=services, fault_ids=list(self.model.faults),
                          phases=self.book.phase_names())

    # ------------------------------------------------------------ commands
    def submit(self, line: str) -> None:
        """Parse now (errors raise at once, nothing half-done), run as a task."""
        command = grammar.parse(line, self.vocabulary())
        if command is None:
            return
        if isinstance(command, QuitCommand):
            self.log("command", line.strip())
            self.request_quit("quit")
            return
        if isinstance(command, HelpCommand):
            for text in grammar.help_text(command.topic):
                self.model.event("help", text)
            return
        if isinstance(command, NoteCommand):
            # Logged here, not in a task: a note lands in the record before whatever is typed next.
            self.log("note", command.text, {"author": "operator"})
            return
        self.log("command", line.strip())
        task = asyncio.create_task(self._run(command))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, command: Any) -> None:
        try:
            await self.execute(command)
        except ChaosdrillError as exc:
            self.log("command_failed", str(exc))
        except Exception as exc:  # a bug must not take the game day down
            self.log("command_failed", f"{type(exc).__name__}: {exc}", {"traceback": traceback.format_exc()})

    async def execute(self, command: Any) -> None:
        if isinstance(command, FaultCommand):
            await asyncio.gather(*(self.apply_fault(entry) for entry in command.entries))
        elif isinstance(command, ClearCommand):
            await self.clear(command.fault_id)
        elif isinstance(command, UsersCommand):
            self.set_users(command.users, command.spawn_rate)
        elif isinstance(command, HypothesisStart):
            self.book.hypothesis_start(command.name, command.expect)
        elif isinstance(command, HypothesisEnd):
            await self.book.hypothesis_end()
        elif isinstance(command, RunCommand):
            await self.book.run_scenario(Path(command.path))
        elif isinstance(command, PhaseCommand):
            await self.book.cue(command.name)

    def set_users(self, users: int, spawn_rate: float | None) -> None:
        self.load.set_users(users, spawn_rate)
        self.model.users = users
        if spawn_rate:
            self.model.spawn_rate = spawn_rate
        text = f"load set to {users} users" + (f" at {spawn_rate:g}/s" if spawn_rate else "")
        self.log("users", text, {"users": users, "spawn_rate": spawn_rate})
        # Also a note, so the report's timeline shows the operator's load change.
        self.journal.event("note", text, {"author": "operator", "action": "users"})

    # ------------------------------------------------------------ faults by hand
    async def apply_fault(self, entry: Any) -> str:
        self._fault_n += 1
        fault_id = f"g{self._fault_n}"
        fault = build_fault(entry, fault_id)
        now = time.time()
        self.journal.fault_planned(fault_id, self.book.current_phase(), fault.target, fault.details(),
                                   fault.describe(), self.journal.offset(now))
        if isinstance(fault, InstanceFault):
            # Leased to the watchdog first, so a game day killed mid-fault still has it ended.
            self.rt.lease_instance_fault(fault)
        try:
            result = await fault.apply(self.rt)
        except Exception as exc:
            self.journal.fault_applied(fault_id, time.time(), (time.time() - now) * 1000, str(exc), ok=False)
            self.rt.release_process_fault(fault_id)
            self.model.event("fault_failed", f"{fault.describe()}: {exc}")
            raise HarnessError(f"could not apply {fault.describe()}: {exc}") from None
        applied = time.time()
        self.journal.fault_applied(fault_id, applied, (applied - now) * 1000, result, ok=True)
        self.active[fault_id] = fault
        self.model.fault_on(ActiveFault(fault_id, fault.describe(), fault.target, self.model.offset(applied)))
        self.model.event("fault_applied", f"{fault_id}: {fault.describe()} ({result})", applied)
        self.book.fault_applied()
        return fault_id

    async def revert_fault(self, fault_id: str) -> None:
        """Remove one operator fault (the drill timeline's own removal: journal, lease, errors)."""
        if fault_id in self.active:
            await self.manual.revert_now(fault_id)
        self.model.fault_off(fault_id)

    async def clear(self, fault_id: str) -> None:
        if fault_id == "all":
            await asyncio.gather(*(self.revert_fault(f) for f in list(self.active)))
            await self.book.stop_cues()
        elif fault_id in self.active:
            await self.revert_fault(fault_id)
        else:
            await self.book.clear_cued(fault_id)
        self.book.faults_cleared()

    # ------------------------------------------------------------ the tick
    async def _tick_loop(self) -> None:
        assert self.model.t0 is not None
        tick = self.model.t0 + 0.25
        while True:
            delay = tick - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tick = max(tick + 1.0, time.time() + 0.5)
            try:
                await self.tick()
            except Exception as exc:  # keep ticking: the next second may well work
                self.model.event("tick_failed", f"{type(exc).__name__}: {exc}")

    async def tick(self) -> None:
        touched = self.model.ingest(self.load.poll())
        self.book.on_seconds(touched)
        try:
            samples = await self.sampler.sample()
        except Exception:
            samples = []
        now = time.time()
        by_instance = {}
        for service, index, values in samples:
            self.journal.service_sample(now, service, index, values)
            by_instance[(service, index)] = values
        self.model.set_services(self._service_views(by_instance))
        self.book.sync_cued_faults()
        self.book.check_recovery()
        if not self.load.running() and self.model.status == "running":
            self.model.status = "load stopped"
            self.log("load_failed", f"the load process exited: {self.load.failure_text()}")

    def _service_views(self, samples: dict[tuple[str, int], dict[str, float]]) -> list[ServiceView]:
        from harness.gameday.live import read_sample_values

        views = []
        previous = {(v.service, v.index): v for v in self.model.services}
        for inst in self.rt.all_instances():
            state = "paused" if inst.paused else ("running" if inst.running() else "down")
            values = samples.get((inst.service, inst.index))
            old = previous.get((inst.service, inst.index))
            if values is None and old is not None and state == "running":
                breakers, in_use, values = old.breakers, old.in_use, old.values  # keep the last answer
            else:
                breakers, in_use = read_sample_values(values or {})
            views.append(ServiceView(inst.name, inst.service, inst.index, inst.pid, state, breakers, in_use,
                                     values or {}))
        return views

    # ------------------------------------------------------------ the end
    def request_quit(self, how: str) -> None:
        if self.ended_by is None:
            self.ended_by = how
        self.quit_requested.set()

    async def revert_all(self) -> None:
        """Every fault off: the operator's and the cued phases' (execution's wind-down calls this)."""
        await asyncio.gather(*(self.revert_fault(f) for f in list(self.active)))
        await self.book.stop_cues()

    def collect_metrics(self, final: bool = False) -> None:
        if self.load is not None:
            self.model.ingest(self.load.poll())
        self.journal.metrics = self.model.metrics_json()

    async def close(self) -> dict[str, Any]:
        """Remove every fault, stop everything, write the journal and the report. Safe to call twice."""
        if self.closed:
            return {}
        self.closed = True
        if not self.run_dir.is_dir():  # stopped before anything started (a taken --web-port): no record
            if self.web is not None:
                await self.web.stop()
            return {}
        from harness.run.execution import RunOptions, wind_down

        self.model.status = "stopping"
        progress = self.opts.progress
        self.log("gameday_ended", f"game day ended by {self.ended_by or 'the operator'}")
        if self._tasks:  # a fault being applied right now finishes, so the wind-down sees it and removes it
            await asyncio.wait(set(self._tasks), timeout=COMMANDS_FINISH_S)
        for task in [*self._tasks, *([self._ticker] if self._ticker else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, *([self._ticker] if self._ticker else []), return_exceptions=True)
        self.book.close_open()
        try:
            if self.rt is not None:
                progress.event("removing every fault, stopping the load and the stack...")
                opts = RunOptions(run_dir=self.run_dir, progress=progress)
                await wind_down(self.plan, self.journal, opts, self.rt, self.load, self, self.sampler)
        finally:
            if self.web is not None:
                await self.web.stop()
            if self._heartbeat is not None:
                self._heartbeat.cancel()
                await asyncio.gather(self._heartbeat, return_exceptions=True)
            if self.state is not None:
                self.state.remove()
            if self.watchdog is not None:
                try:
                    await asyncio.to_thread(self.watchdog.wait, 3)
                except Exception:
                    self.watchdog.kill()
        return self.book.write()
