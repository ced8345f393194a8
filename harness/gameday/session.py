"""A game day: the stack and the load running until the operator quits.

A game day opens the same RunSession a scripted drill does (run state,
watchdog, heartbeat leases, stack, the one fault path, load, audit), so it
leaves the same record and cleans up the same way on every exit path. What
differs is who keeps time: faults come from typed commands, phases from
cues, and the load runs until `close()`. The pieces of a game day each
live in a module of their own: the cued phases (cues.py), hypotheses
(hypotheses.py), the live recovery measurement (recovery.py) and the
written record (record.py); this module wires them to the session and
runs the commands.

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

from harness.errors import ChaosdrillError, UsageError
from harness.events import Event, EventBus
from harness.faults import build_fault
from harness.gameday import grammar
from harness.gameday.cues import Cues
from harness.gameday.grammar import (ActionCommand, ClearCommand, FaultCommand, FindingCommand, HelpCommand,
                                     HypothesisEnd, HypothesisStart, NoteCommand, PhaseCommand, QuitCommand,
                                     RunCommand, UsersCommand, Vocabulary)
from harness.gameday.hypotheses import Hypotheses
from harness.gameday.live import ActiveFault, LiveModel, ServiceView
from harness.gameday.record import GamedayRecord, said
from harness.gameday.recovery import RecoveryWatch
from harness.run.folders import make_run_dir, new_run_dir
from harness.run.journal import Journal
from harness.run.progress import Progress
from harness.run.session import RunSession, SessionOptions

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
    history: Path | None = None  # the run history the record is appended to (None: not recorded)
    web_port: int | None = 0  # None: no web view
    fault_proxy_url: str | None = None
    service_args: dict[str, list[str]] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)
    backend: str | None = None
    allow_remote: bool = False
    progress: Progress = field(default_factory=Progress)


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
            from harness.stack.files import load_stack

            self.stack = load_stack(opts.stack or "lending").with_replicas(opts.replicas)
        self.load_scenario = self._load_settings()
        self.plan = make_plan(self.load_scenario, self.stack)
        self.run_dir = new_run_dir(opts.report_dir, "gameday", create=False)
        self.journal = Journal(self.run_dir.name, {})
        self.model = LiveModel(self.stack.name)
        self.model.run_id = self.run_dir.name
        self.events = EventBus(self._show_on_console, self._show_on_terminal)
        self.session = RunSession(
            self.stack, self.journal.run_id,
            SessionOptions(kind="gameday", log_dir=self.run_dir / "logs", replicas=opts.replicas,
                           service_args=opts.service_args, fault_proxy_url=opts.fault_proxy_url,
                           backend=opts.backend, allow_remote=opts.allow_remote),
            journal=self.journal, events=self.events)
        self.session.on_load_stopped.append(self.collect_metrics)
        faults = self.session.faults
        self.record = GamedayRecord(self.journal, self.model, self.stack, self.load_scenario, self.run_dir,
                                    source=self.cue_scenario, source_path=opts.scenario, say=self.events.say,
                                    history=opts.history)
        self.recovery = RecoveryWatch(self.model, self.events, faults_on=lambda: bool(faults.active))
        self.hypotheses = Hypotheses(self.model, self.events, self.record,
                                     refresh=lambda: self.model.ingest(self.load.poll()))
        self.cues = Cues(self.cue_scenario, self.stack, faults, self.events, self.model, self.record,
                         self.recovery, self.hypotheses)
        self.load: Any = None
        self.web: Any = None
        self._terminal = True  # events go to the terminal until the console takes over, and at the end
        self._tasks: set[asyncio.Task] = set()
        self._ticker: asyncio.Task | None = None
        self._fault_n = 0
        self.quit_requested = asyncio.Event()
        self.closed = False
        self.console_abandoned = False
        self.ended_by: str | None = None

    @property
    def rt(self) -> Any:
        return self.session.runtime

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
            self.events.emit("web_view", f"read-only web view at {self.model.web_url}")
        try:
            await self.session.open()
        except ChaosdrillError as exc:
            self.record.failure = str(exc)
            raise
        self.model.links = {lk.name: {"source": lk.source, "target": self._service_of(lk.target)}
                            for lk in [*self.rt.links.values(), *self.rt.edges]}
        self.load = self.session.start_load(self.plan, self.run_dir)
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
        self.model.status = "running"
        self._terminal = False  # from here the console (or the plain event lines) shows the events
        self._ticker = asyncio.create_task(self._tick_loop())

    def _service_of(self, instance_name: str) -> str:
        for service, group in self.rt.instances.items():
            if any(i.name == instance_name for i in group):
                return service
        return instance_name.split("#")[0]

    # ------------------------------------------------------------ the record and the views
    def _show_on_console(self, event: Event) -> None:
        """The console's and web view's event log: the record's events and what went wrong."""
        if event.kind == "progress":  # lines for the terminal only ("auditing data invariants...")
            return
        text = event.message
        if event.kind == "fault_applied":
            text = f"{event.data.get('fault')}: {event.data.get('label')} ({event.data.get('result')})"
        elif event.kind == "fault_removed":
            text = event.text.split("] ", 1)[-1]  # "fault off: ...", without the drill clock
        elif event.kind == "action_item":
            text = f"{text} (owner: {event.data.get('owner') or 'unassigned'})"
        self.model.event(event.kind, text, event.at)

    def _show_on_terminal(self, event: Event) -> None:
        """Progress lines on the terminal while the stack starts and while it winds down; in between
        the console (or the plain event lines) shows everything."""
        if event.show and (self._terminal or event.kind == "progress"):
            self.opts.progress.event(event.text)

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
        self.events.emit(kind, message, data, at=wall)

    def vocabulary(self) -> Vocabulary:
        links = {name: info["target"] for name, info in self.model.links.items()}
        services = {name: len(group) for name, group in self.rt.instances.items()}
        return Vocabulary(links=links, services=services, fault_ids=list(self.model.faults),
                          phases=self.cues.phase_names())

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
        if isinstance(command, (NoteCommand, FindingCommand, ActionCommand)):
            # Logged here, not in a task: it lands in the record before whatever is typed next.
            self.log(*said(command))
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
            self.hypotheses.start(command.name, command.expect)
        elif isinstance(command, HypothesisEnd):
            await self.hypotheses.end()
        elif isinstance(command, RunCommand):
            await self.cues.run_scenario(Path(command.path))
        elif isinstance(command, PhaseCommand):
            await self.cues.cue(command.name)

    def set_users(self, users: int, spawn_rate: float | None) -> None:
        self.load.set_users(users, spawn_rate)
        self.model.users = users
        if spawn_rate:
            self.model.spawn_rate = spawn_rate
        text = f"load set to {users} users" + (f" at {spawn_rate:g}/s" if spawn_rate else "")
        self.log("users", text, {"users": users, "spawn_rate": spawn_rate})
        # Also a note, so the report's timeline shows the operator's load change.
        self.events.emit("note", text, {"author": "operator", "action": "users"}, show=False)

    # ------------------------------------------------------------ faults by hand
    def _operator_faults(self) -> list[str]:
        return [f for f, active in self.model.faults.items() if active.source == "operator"]

    async def apply_fault(self, entry: Any) -> str:
        self._fault_n += 1
        fault = build_fault(entry, f"g{self._fault_n}")
        await self.session.faults.apply(fault, phase=self.cues.current_phase())
        applied = self.journal.faults[fault.fault_id]["applied_at"]
        self.model.fault_on(ActiveFault(fault.fault_id, fault.describe(), fault.target, applied))
        self.record.fault_applied()
        self.recovery.fault_applied()
        return fault.fault_id

    async def revert_fault(self, fault_id: str) -> None:
        await self.session.faults.revert(fault_id)
        self.model.fault_off(fault_id)

    async def clear(self, fault_id: str) -> None:
        if fault_id == "all":
            await asyncio.gather(*(self.revert_fault(f) for f in self._operator_faults()))
            await self.cues.stop()
        elif fault_id in self._operator_faults():
            await self.revert_fault(fault_id)
        else:
            await self.cues.clear(fault_id)
        self.recovery.faults_cleared()

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
        self.model.ingest(self.load.poll())
        self.journal.add_load_cpu(self.load.take_cpu())
        self.hypotheses.show_live()
        try:
            samples = await self.session.sampler.sample()
        except Exception:
            samples = []
        now = time.time()
        by_instance = {}
        for service, index, values in samples:
            self.journal.service_sample(now, service, index, values)
            by_instance[(service, index)] = values
        self.model.set_services(self._service_views(by_instance))
        self.cues.sync_faults()
        self.recovery.check_recovery()
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

    def collect_metrics(self) -> None:
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
        self.model.status = "stopping"
        self.log("gameday_ended", f"game day ended by {self.ended_by or 'the operator'}")
        if self._tasks:  # a fault being applied right now finishes, so the wind-down sees it and removes it
            await asyncio.wait(set(self._tasks), timeout=COMMANDS_FINISH_S)
        for task in [*self._tasks, *([self._ticker] if self._ticker else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, *([self._ticker] if self._ticker else []), return_exceptions=True)
        self.hypotheses.close()
        await self.cues.stop()
        self._terminal = True
        try:
            self.events.say("removing every fault, stopping the load and the stack...")
            await self.session.close()
        finally:
            if self.web is not None:
                await self.web.stop()
        for fault_id in list(self.model.faults):
            self.model.fault_off(fault_id)
        return self.record.write()
