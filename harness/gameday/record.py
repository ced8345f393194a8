"""The drill record of a game day: cued phases, hypotheses, recovery, the verdict.

A game day has no phases planned in advance, so the record builds them from
what happened: a baseline until the first fault, the scenario phases the
operator cued where they ran, free play in between, and every hypothesis as
a phase with its expectations. The record is then an ordinary scenario and
journal, judged by the same judge and rendered by the same report as a
scripted drill.

Recovery is measured live: once the last fault is cleared, the first three
seconds in a row back at the pre-fault error rate (and nothing ungraceful)
mark the recovery, written on the timeline with how long it took.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import UsageError
from harness.faults import build_fault
from harness.gameday.live import ActiveFault
from harness.metrics.series import Stats
from harness.schema.durations import format_duration

if TYPE_CHECKING:
    from harness.gameday.session import GameDay

LATE_METRICS_S = 2.5  # the load's records for a second arrive up to this late
RECOVERY_RUN_S = 3  # seconds in a row back to normal
RECOVERY_GIVE_UP_S = 180.0
BASELINE_S = 30


class RecordBook:
    def __init__(self, gameday: "GameDay") -> None:
        self.gd = gameday
        self.phases: list[dict[str, Any]] = []  # cued phases and hypotheses as they ran
        self.hypothesis: dict[str, Any] | None = None
        self.cue_scenario: Any = gameday.cue_scenario
        self.cue_plan: Any = None
        self._cue_n = 0
        self._cue_next = 0
        self._cue_task: asyncio.Task | None = None
        self._cues: list[dict[str, Any]] = []  # running: {"timeline", "tasks", "record", "faults"}
        self._judging: set[asyncio.Task] = set()
        self.first_fault_at: float | None = None
        self._baseline_error: float | None = None
        self._recovering_since: float | None = None
        self.failure: str | None = None
        self.failure_code = 3
        self.interrupted = ""  # why the game day ended before it was running, e.g. "interrupted by SIGINT while starting"

    # ------------------------------------------------------------ names
    def phase_names(self) -> list[str]:
        return [p.name for p in self.cue_scenario.phases] if self.cue_scenario is not None else []

    def current_phase(self) -> str:
        return self._cues[-1]["record"]["name"] if self._cues else "gameday"

    def _unique(self, name: str) -> str:
        taken = {p["name"] for p in self.phases} | {"baseline"}
        if name == "baseline":  # the record's own baseline is the stretch before the first fault
            name = "baseline (cued)"
        out, n = name, 1
        while out in taken:
            n += 1
            out = f"{name}#{n}"
        return out

    # ------------------------------------------------------------ hypotheses
    def hypothesis_start(self, name: str, expect: dict[str, Any]) -> None:
        if self.hypothesis is not None:
            raise UsageError(f"hypothesis {self.hypothesis['name']} is still open: 'hypothesis end' first")
        gd = self.gd
        start = gd.model.offset()
        record = {"name": self._unique(f"hypothesis {name}"), "start": round(start, 3), "end": None, "expect": expect}
        self.phases.append(record)
        self.hypothesis = record
        text = " ".join(_flat_expect(expect))
        gd.model.hypothesis = {"name": name, "start": start, "text": text, "live": ""}
        gd.model.add_accumulator(record["name"], int(start) + 1)
        gd.log("hypothesis_started", f"{name}: expect {text}", {"expect": expect})

    async def hypothesis_end(self) -> None:
        if self.hypothesis is None:
            raise UsageError("no hypothesis is open: 'hypothesis start NAME expect ...' first")
        gd = self.gd
        record, self.hypothesis = self.hypothesis, None
        record["end"] = round(max(gd.model.offset(), record["start"] + 1.0), 3)
        gd.model.hypothesis = None
        gd.model.drop_accumulator(record["name"])
        gd.log("hypothesis_ended", f"{record['name']} ended; judging once its last second is in")
        await self._judge_later(record)

    def live_hypothesis(self) -> None:
        """The open hypothesis' numbers so far, for the console."""
        gd = self.gd
        if self.hypothesis is None or gd.model.hypothesis is None:
            return
        stats: Stats = gd.model.accumulator(self.hypothesis["name"])
        gd.model.hypothesis["live"] = (f"so far: {stats.n} requests, error rate {stats.error_rate * 100:.2f}%, "
                                       f"ungraceful {stats.ungraceful}, p99 {stats.percentile_ms(99):.0f} ms")

    async def _judge_later(self, record: dict[str, Any]) -> None:
        await asyncio.sleep(LATE_METRICS_S)
        gd = self.gd
        gd.model.ingest(gd.load.poll())
        try:
            results = self.judge([record])
        except Exception as exc:
            gd.log("judge_failed", f"{record['name']}: {exc}")
            return
        failed = [r for r in results if not r.get("passed")]
        summary = "; ".join(f"{r['name']} {r['threshold']}: {r.get('display', r.get('measured'))}" for r in results)
        gd.model.hypotheses.append({"name": record["name"], "passed": not failed, "summary": summary})
        gd.log("hypothesis_judged", f"{record['name']} {'held' if not failed else 'did NOT hold'}: {summary}",
               {"results": results})

    def judge(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Judge phases of the record now, on the metrics so far (the baseline is the pre-fault stretch)."""
        from harness.judge import judge

        baseline = self._baseline_record(self.gd.model.offset())
        scenario = self.record_scenario([baseline, *records])
        timing = {p["name"]: (p["start"], p["end"]) for p in [baseline, *records]}
        results = judge(scenario, timing, self.gd.model.series(), baseline_phase="baseline")
        return [r if isinstance(r, dict) else r.to_dict() for r in results]

    # ------------------------------------------------------------ cued phases
    async def run_scenario(self, path: Path) -> None:
        """A scenario file, or a library drill by name (scenarios/NAME.yaml)."""
        from harness.scenario import load_scenario

        if not path.exists() and path.suffix == "" and (Path("scenarios") / f"{path}.yaml").exists():
            path = Path("scenarios") / f"{path}.yaml"
        scenario = load_scenario(path)
        if scenario.stack != self.gd.stack.name and scenario.resolved_stack().name != self.gd.stack.name:
            raise UsageError(f"run {path}: it runs on stack {scenario.stack}, this game day on {self.gd.stack.name}")
        self.cue_scenario, self.cue_plan, self._cue_next = scenario, None, 0
        self.gd.log("phase_cued", f"scenario {scenario.title} ({path}): running its {len(scenario.phases)} phase(s)")
        await self._start_cue([p.name for p in scenario.phases])

    async def cue(self, name: str) -> None:
        if name == "stop":
            await self.stop_cues()
            self.faults_cleared()
            return
        if self.cue_scenario is None:
            raise UsageError("phase: no scenario loaded; start with --scenario FILE or 'run FILE'")
        names = self.phase_names()
        if name == "next":
            if self._cue_next >= len(names):
                raise UsageError(f"phase next: every phase of {self.cue_scenario.title} has run; 'phase NAME' repeats one")
            name = names[self._cue_next]
        self.gd.log("phase_cued", f"phase {name} of {self.cue_scenario.title}")
        await self._start_cue([name])

    async def _start_cue(self, names: list[str]) -> None:
        await self.stop_cues()
        self._cue_task = asyncio.create_task(self._run_phases(names))

    async def _run_phases(self, names: list[str]) -> None:
        from harness.run.plan import make_plan

        if self.cue_plan is None:
            self.cue_plan = make_plan(self.cue_scenario, self.gd.stack)
        for name in names:
            self._cue_next = self.phase_names().index(name) + 1
            await self._run_phase(next(p for p in self.cue_plan.phases if p.name == name))

    async def _run_phase(self, phase: Any) -> None:
        from harness.run.timeline import Timeline
        from harness.gameday.session import _ProgressToModel

        gd, plan = self.gd, self.cue_plan
        self._cue_n += 1
        began = time.time()
        timeline = Timeline(plan, gd.rt, gd.journal, None, None, _ProgressToModel(gd.model))
        timeline.t0 = began - phase.start
        record = {"name": self._unique(phase.name), "start": round(gd.model.offset(began), 3), "end": None,
                  "expect": _dump(phase.expect)}
        faults = [replace(pf, id=f"c{self._cue_n}{pf.id}") for pf in plan.faults if pf.phase == phase.name]
        for pf in faults:
            fault = build_fault(pf.entry, pf.id)
            gd.journal.fault_planned(pf.id, record["name"], fault.target, fault.details(), fault.describe(),
                                     gd.journal.offset(timeline.t0 + pf.start))
        cue = {"timeline": timeline, "record": record, "faults": faults,
               "tasks": [asyncio.create_task(timeline.scheduled_fault(pf)) for pf in faults]
               + [asyncio.create_task(timeline.scheduled_action(a)) for a in plan.actions if a.phase == phase.name]}
        self.phases.append(record)
        self._cues.append(cue)
        gd.model.phase = record["name"]
        gd.log("phase_started", f"{record['name']} ({format_duration(phase.end - phase.start)})")
        if faults:
            self.fault_applied()
        try:
            await asyncio.sleep(phase.end - phase.start)
        finally:
            await self._end_cue(cue)
        if record.get("expect"):
            task = asyncio.create_task(self._judge_later(record))
            self._judging.add(task)
            task.add_done_callback(self._judging.discard)

    async def _end_cue(self, cue: dict[str, Any]) -> None:
        if cue not in self._cues:
            return
        self._cues.remove(cue)
        gd, timeline = self.gd, cue["timeline"]
        for task in cue["tasks"]:
            task.cancel()
        await asyncio.gather(*cue["tasks"], return_exceptions=True)
        await timeline.revert_all()
        # A fault whose task was cancelled mid-apply may be on without being listed: reverting is idempotent.
        for pf in cue["faults"]:
            entry = gd.journal.faults.get(pf.id, {})
            if entry.get("removed_at") is None:
                try:
                    await build_fault(pf.entry, pf.id).revert(gd.rt)
                    gd.rt.release_process_fault(pf.id)
                except Exception:
                    pass
                if entry.get("applied_at") is not None:
                    gd.journal.fault_removed(pf.id, time.time(), "removed at the end of the cued phase")
        cue["record"]["end"] = round(gd.model.offset(), 3)
        gd.model.phase = self._cues[-1]["record"]["name"] if self._cues else None
        gd.log("phase_ended", cue["record"]["name"])
        self.sync_cued_faults()
        if not gd.model.faults:
            self.faults_cleared()

    async def stop_cues(self) -> None:
        task, self._cue_task = self._cue_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for cue in list(self._cues):
            await self._end_cue(cue)

    async def clear_cued(self, fault_id: str) -> None:
        for cue in self._cues:
            if fault_id in cue["timeline"].active:
                await cue["timeline"].revert_now(fault_id)
                self.sync_cued_faults()
                return
        raise UsageError(f"clear: no active fault {fault_id!r}")

    def sync_cued_faults(self) -> None:
        """Show the cued phases' faults beside the operator's (the timelines own them)."""
        model = self.gd.model
        live: dict[str, tuple[Any, str]] = {}
        for cue in self._cues:
            for fault_id, fault in cue["timeline"].active.items():
                live[fault_id] = (fault, cue["record"]["name"])
            failure = cue["timeline"].failure
            if failure is not None and not cue.get("failure_shown"):
                cue["failure_shown"] = True
                model.event("fault_failed", str(failure))
        for fault_id, active in list(model.faults.items()):
            if active.source != "operator" and fault_id not in live:
                model.fault_off(fault_id)
        for fault_id, (fault, phase) in live.items():
            if fault_id not in model.faults:
                applied = self.gd.journal.faults.get(fault_id, {}).get("applied_at") or model.offset()
                model.fault_on(ActiveFault(fault_id, fault.describe(), fault.target, applied, source=phase))

    # ------------------------------------------------------------ recovery
    def fault_applied(self) -> None:
        """A fault went on: remember the error rate before the incident, stop measuring a recovery."""
        model = self.gd.model
        now = model.offset()
        if self.first_fault_at is None:
            self.first_fault_at = now
        if self._baseline_error is not None:
            # An incident is under way, or its recovery is and this fault continues it: the
            # error rate before the incident stays the reference (the last 30 s would hold
            # the incident's own errors and make "recovered" mean "as bad as during it").
            self._recovering_since = None
            model.recovery = None
            return
        rows = [r for r in model.recent(BASELINE_S) if r.n]
        n = sum(r.n for r in rows)
        errors = sum(r.classes["degraded"] + r.classes["ungraceful"] for r in rows)
        self._baseline_error = errors / n if n else 0.0
        self._recovering_since = None
        model.recovery = None

    def faults_cleared(self) -> None:
        model = self.gd.model
        if model.faults or self.gd.active or self._baseline_error is None or self._recovering_since is not None:
            return
        self._recovering_since = model.offset()
        model.recovery = {"since": round(self._recovering_since, 1), "state": "recovering"}
        self.gd.log("recovering", "every fault cleared; watching for the error rate to return to its pre-fault level")

    def recovery_threshold(self) -> float:
        return max(0.01, 2 * (self._baseline_error or 0.0) + 0.005)

    def check_recovery(self) -> None:
        since = self._recovering_since
        if since is None:
            return
        model = self.gd.model
        last = model.last_complete_second()
        run = 0
        threshold = self.recovery_threshold()
        for t in range(math.ceil(since), last + 1):
            row = model.rows.get(t)
            ok = row is not None and row.n > 0 and row.classes["ungraceful"] == 0 and row.error_rate <= threshold
            run = run + 1 if ok else 0
            if run == RECOVERY_RUN_S:
                at = max(since, t - RECOVERY_RUN_S + 1)
                after = at - since
                msg = (f"recovered {after:.0f}s after the last fault was cleared: error rate "
                       f"{row.error_rate * 100:.1f}% (before the faults {self._baseline_error * 100:.1f}%), "
                       "nothing ungraceful")
                wall = (model.t0 or 0) + at
                self.gd.log("recovered", msg, {"after_s": round(after, 1), "cleared_at": round(since, 2),
                                               "baseline_error_rate": self._baseline_error}, wall=wall)
                # Also a note, so the report's timeline shows the recovery.
                self.gd.journal.event("note", msg, {"author": "chaosdrill", "action": "recovered"}, at=wall)
                model.recovery = {"since": round(since, 1), "state": "recovered", "after_s": round(after, 1)}
                self._recovering_since, self._baseline_error = None, None
                return
        if model.offset() - since > RECOVERY_GIVE_UP_S:
            self.gd.log("not_recovered", f"not back to the pre-fault error rate {RECOVERY_GIVE_UP_S:.0f}s after "
                                         "the last fault was cleared")
            model.recovery = {"since": round(since, 1), "state": "not recovered"}
            self._recovering_since, self._baseline_error = None, None

    def on_seconds(self, touched: set[int]) -> None:
        self.live_hypothesis()

    # ------------------------------------------------------------ the written record
    def close_open(self) -> None:
        """At the end: an open hypothesis ends now (judged with the rest)."""
        if self.hypothesis is not None:
            self.hypothesis["end"] = round(max(self.gd.model.offset(), self.hypothesis["start"] + 1.0), 3)
            self.gd.log("hypothesis_ended", f"{self.hypothesis['name']} ended with the game day")
            self.hypothesis = None
        for task in self._judging:
            task.cancel()

    def _baseline_record(self, end: float) -> dict[str, Any]:
        cued = [p["start"] for p in self.phases if not p["name"].startswith("hypothesis ")]
        stop = min([end, *([self.first_fault_at] if self.first_fault_at is not None else []), *cued])
        return {"name": "baseline", "start": 0.0, "end": round(max(stop, 1.0), 3), "expect": None}

    def journal_phases(self, end: float) -> list[dict[str, Any]]:
        """Baseline, then cued phases with free play between them, then the hypotheses."""
        baseline = self._baseline_record(end)
        out = [baseline]
        t = baseline["end"]
        free = 0
        cued = sorted((p for p in self.phases if not p["name"].startswith("hypothesis ")), key=lambda p: p["start"])
        for p in cued:
            if p["start"] - t >= 1.0:
                free += 1
                out.append({"name": f"free play {free}" if free > 1 else "free play", "start": t,
                            "end": p["start"], "expect": None})
            out.append(p)
            t = max(t, p["end"] or end)
        if end - t >= 1.0:
            free += 1
            out.append({"name": f"free play {free}" if free > 1 else "free play", "start": t, "end": round(end, 3),
                        "expect": None})
        out += [p for p in self.phases if p["name"].startswith("hypothesis ")]
        for p in out:
            if p["end"] is None:
                p["end"] = round(end, 3)
        return out

    def record_scenario(self, phases: list[dict[str, Any]]) -> Any:
        from harness.scenario import Scenario

        data = self.record_scenario_data(phases)
        scenario = Scenario.model_validate(data)
        scenario._stack = self.gd.stack
        return scenario

    def record_scenario_data(self, phases: list[dict[str, Any]]) -> dict[str, Any]:
        gd = self.gd
        load = gd.load_scenario.load.model_dump(mode="json", exclude_none=True)
        source = gd.cue_scenario
        return {
            "title": f"Game day {gd.journal.run_id}",
            "plan": (f"A game day on stack {gd.stack.name}: faults injected by hand"
                     + (f", phases of {source.title} on cue" if source is not None else "")
                     + "; hypotheses judged on their windows; data invariants checked at the end."),
            "stack": gd.stack.name,
            "load": load,
            "phases": [{"name": p["name"], "duration": max(float(p["end"]) - float(p["start"]), 0.001),
                        **({"expect": p["expect"]} if p.get("expect") else {})} for p in phases],
            "invariants": list(gd.load_scenario.invariants),
        }

    def write(self) -> dict[str, Any]:
        """journal.json, report.html, summary.md, junit.xml in the run folder; returns the journal."""
        from harness.run.verdict import decide

        gd, journal = self.gd, self.gd.journal
        end = journal.offset(journal.ended or time.time())
        phases = self.journal_phases(end)
        journal.phases = phases
        scenario_data = self.record_scenario_data(phases)
        journal.scenario = {**scenario_data, "kind": "gameday",
                            **({"path": str(gd.opts.scenario)} if gd.opts.scenario else {})}
        if self.failure:
            journal.status, journal.exit_code, journal.reason = "error", self.failure_code, self.failure
        elif self.interrupted:  # stopped before the load ran: nothing was tried, so nothing passed
            journal.status, journal.exit_code, journal.reason = "aborted", 130, self.interrupted
        else:
            journal.status, journal.exit_code, journal.reason = "passed", 0, ""
        data = journal.to_dict()
        if not self.failure and not self.interrupted:
            try:
                data = decide(data, self.record_scenario(phases))
            except Exception as exc:
                (gd.run_dir / "error.txt").write_text(traceback.format_exc())
                data.update(status="error", exit_code=3, reason=f"could not judge the record: {exc!r}")
        gd.run_dir.mkdir(parents=True, exist_ok=True)
        (gd.run_dir / "journal.json").write_text(json.dumps(data, separators=(",", ":")))
        try:
            from harness.report import render_all

            render_all(data, gd.run_dir)
        except Exception as exc:  # a report bug must not hide the record
            (gd.run_dir / "report-error.txt").write_text(traceback.format_exc())
            gd.opts.progress.event(f"could not render the report: {exc!r}")
        return data


def _flat_expect(expect: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in expect.items():
        if isinstance(value, dict):
            out += _flat_expect(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}{str(value).replace(' ', '')}")
    return out


def _dump(model: Any) -> Any:
    if model is None:
        return None
    return model.model_dump(mode="json", exclude_none=True, exclude_defaults=True, by_alias=True)
