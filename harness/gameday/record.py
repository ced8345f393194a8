"""The drill record of a game day: its phases built from what happened, judged and written.

A game day has no phases planned in advance, so the record builds them from
what happened: a baseline until the first fault, the scenario phases the
operator cued where they ran, free play in between, and every hypothesis as
a phase with its expectations. The record is then an ordinary scenario and
journal, judged by the same judge and rendered by the same report as a
scripted drill.
"""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from harness.gameday.grammar import ActionCommand, FindingCommand, NoteCommand
from harness.gameday.live import LiveModel
from harness.run.journal import Journal

__all__ = ["GamedayRecord", "HYPOTHESIS_PREFIX", "said"]

HYPOTHESIS_PREFIX = "hypothesis "


def said(command: NoteCommand | FindingCommand | ActionCommand) -> tuple[str, str, dict[str, Any]]:
    """The journal event (type, message, data) for a note, finding or action item typed at the console.

    Events, not a section of their own, so they keep the order they were
    typed in among the commands and notes (docs/journal.md). An action item
    always carries `owner`, null when nobody took it, so readers need not
    guess whether it was forgotten or never recorded.
    """
    if isinstance(command, ActionCommand):
        return "action_item", command.text, {"author": "operator", "owner": command.owner}
    return ("finding" if isinstance(command, FindingCommand) else "note"), command.text, {"author": "operator"}


class GamedayRecord:
    def __init__(self, journal: Journal, model: LiveModel, stack: Any, load_scenario: Any, run_dir: Path,
                 source: Any = None, source_path: Path | None = None,
                 say: Callable[[str], Any] = lambda text: None, history: Path | None = None) -> None:
        self.journal = journal
        self.model = model
        self.stack = stack
        self.load_scenario = load_scenario  # the game day's load and invariants, as a scenario
        self.run_dir = run_dir
        self.source = source  # the --scenario the game day cues phases from, if any
        self.source_path = source_path
        self.say = say
        self.history = history  # the run history file the record is appended to, if any
        self.phases: list[dict[str, Any]] = []  # cued phases and hypotheses as they ran
        self.first_fault_at: float | None = None  # the baseline ends there
        self.failure: str | None = None
        self.failure_code = 3
        self.interrupted = ""  # why the game day ended before it was running, e.g. "interrupted by SIGINT while starting"

    def unique(self, name: str) -> str:
        """A phase name not taken yet in the record ("slow-bureau#2" for the second time it is cued)."""
        taken = {p["name"] for p in self.phases} | {"baseline"}
        if name == "baseline":  # the record's own baseline is the stretch before the first fault
            name = "baseline (cued)"
        out, n = name, 1
        while out in taken:
            n += 1
            out = f"{name}#{n}"
        return out

    def fault_applied(self) -> None:
        if self.first_fault_at is None:
            self.first_fault_at = self.model.offset()

    def add(self, name: str, start: float, expect: Any) -> dict[str, Any]:
        record = {"name": self.unique(name), "start": round(start, 3), "end": None, "expect": expect}
        self.phases.append(record)
        return record

    # ------------------------------------------------------------ judging
    def judge(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Judge phases of the record now, on the metrics so far (the baseline is the pre-fault stretch)."""
        from harness.judge import judge

        baseline = self._baseline_record(self.model.offset())
        scenario = self.record_scenario([baseline, *records])
        timing = {p["name"]: (p["start"], p["end"]) for p in [baseline, *records]}
        results = judge(scenario, timing, self.model.series(), baseline_phase="baseline")
        return [r if isinstance(r, dict) else r.to_dict() for r in results]

    def _baseline_record(self, end: float) -> dict[str, Any]:
        cued = [p["start"] for p in self.phases if not p["name"].startswith(HYPOTHESIS_PREFIX)]
        first_fault = self.first_fault_at
        stop = min([end, *([first_fault] if first_fault is not None else []), *cued])
        return {"name": "baseline", "start": 0.0, "end": round(max(stop, 1.0), 3), "expect": None}

    def journal_phases(self, end: float) -> list[dict[str, Any]]:
        """Baseline, then cued phases with free play between them, then the hypotheses."""
        baseline = self._baseline_record(end)
        out = [baseline]
        t = baseline["end"]
        free = 0
        cued = sorted((p for p in self.phases if not p["name"].startswith(HYPOTHESIS_PREFIX)),
                      key=lambda p: p["start"])
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
        out += [p for p in self.phases if p["name"].startswith(HYPOTHESIS_PREFIX)]
        for p in out:
            if p["end"] is None:
                p["end"] = round(end, 3)
        return out

    def record_scenario(self, phases: list[dict[str, Any]]) -> Any:
        from harness.scenario import Scenario

        scenario = Scenario.model_validate(self.record_scenario_data(phases))
        scenario._stack = self.stack
        return scenario

    def record_scenario_data(self, phases: list[dict[str, Any]]) -> dict[str, Any]:
        load = self.load_scenario.load.model_dump(mode="json", exclude_none=True)
        return {
            "title": f"Game day {self.journal.run_id}",
            "plan": (f"A game day on stack {self.stack.name}: faults injected by hand"
                     + (f", phases of {self.source.title} on cue" if self.source is not None else "")
                     + "; hypotheses judged on their windows; data invariants checked at the end."),
            "stack": self.stack.name,
            "load": load,
            "phases": [{"name": p["name"], "duration": max(float(p["end"]) - float(p["start"]), 0.001),
                        **({"expect": p["expect"]} if p.get("expect") else {})} for p in phases],
            "invariants": list(self.load_scenario.invariants),
        }

    # ------------------------------------------------------------ the written record
    def write(self) -> dict[str, Any]:
        """journal.json, report.html, summary.md, junit.xml in the run folder; returns the journal."""
        from harness.run.verdict import decide

        journal = self.journal
        end = journal.offset(journal.ended or time.time())
        phases = self.journal_phases(end)
        journal.phases = phases
        journal.scenario = {**self.record_scenario_data(phases), "kind": "gameday",
                            **({"path": str(self.source_path)} if self.source_path else {})}
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
                (self.run_dir / "error.txt").write_text(traceback.format_exc())
                data.update(status="error", exit_code=3, reason=f"could not judge the record: {exc!r}")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "journal.json").write_text(json.dumps(data, separators=(",", ":")))
        trend = None
        if self.history is not None:
            from harness.history import record

            trend = record(data, self.history, say=self.say)
        try:
            from harness.report import render_all

            render_all(data, self.run_dir, trend=trend)
        except Exception as exc:  # a report bug must not hide the record
            (self.run_dir / "report-error.txt").write_text(traceback.format_exc())
            self.say(f"could not render the report: {exc!r}")
        return data
