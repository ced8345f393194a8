"""A game day's postmortem: timeline, hypotheses and verdicts, findings, action items with owners.

A game day ends in a debrief, and what the debrief concludes belongs in the
team's own postmortem document, not only in chaosdrill's report. So the
postmortem is read from the journal alone, like every report, and written
as plain Markdown that pastes into such a document (`chaosdrill report
--postmortem`); report.html and summary.md show the same content. Only a
game day's journal has one: a scripted drill has no findings or action
items, and its reports stay as they were.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from harness.report import formatting as fmt
from harness.report.formatting import cell, code
from harness.report.svg import fmt_clock

__all__ = ["Postmortem", "is_gameday", "markdown_sections", "read_postmortem", "render_postmortem"]

GAMEDAY = "gameday"  # journal["scenario"]["kind"] of a game day's record

# The events a debrief walks through, with the word the timeline gives each;
# typed commands, help and the stack's own start-up are left to the event log.
TIMELINE = {
    "fault_applied": "fault on", "fault_failed": "fault failed", "fault_removed": "fault off",
    "fault_removal_failed": "fault not removed", "phase_started": "phase started", "phase_ended": "phase ended",
    "hypothesis_started": "hypothesis", "hypothesis_ended": "hypothesis ended", "users": "load",
    "load_failed": "load failed", "recovering": "recovering", "recovered": "recovered",
    "not_recovered": "not recovered", "note": "note", "gameday_ended": "ended",
}
UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class Moment:
    t: float
    what: str  # a TIMELINE word
    text: str


@dataclass(frozen=True)
class Hypothesis:
    """A hypothesis (or a cued phase with expectations) and its verdict in the written record."""

    name: str
    start: float
    end: float
    verdict: str  # held | did not hold | not judged
    results: tuple[str, ...]  # "ungraceful < 1000: 0 of 6", failed ones marked and explained


@dataclass(frozen=True)
class Said:
    """A finding or an action item, as typed; `owner` None is an unassigned action item."""

    t: float
    text: str
    owner: str | None = None

    @property
    def who(self) -> str:
        return self.owner or UNASSIGNED


@dataclass
class Postmortem:
    title: str
    run_id: str
    status: str
    reason: str
    when: str
    duration: str
    stack: str
    t0: float | None
    timeline: list[Moment]
    hypotheses: list[Hypothesis]
    findings: list[Said]
    actions: list[Said]
    invariants_held: int
    invariants: int
    violated: list[str]
    faults: int

    def wall(self, t: float) -> str:
        """UTC time of day of an offset: what the rest of a team's postmortem is written in."""
        if self.t0 is None:
            return ""
        return time.strftime("%H:%M:%S", time.gmtime(self.t0 + round(t)))  # the second fmt_clock shows

    def stamp(self, t: float) -> str:
        """'22:01:58 (0:02)': when something was said, in both of the timeline's clocks."""
        wall = self.wall(t)
        return f"{wall} ({fmt_clock(t)})" if wall else fmt_clock(t)

    @property
    def held(self) -> int:
        return sum(1 for h in self.hypotheses if h.verdict == "held")


def is_gameday(journal: dict[str, Any]) -> bool:
    return (journal.get("scenario") or {}).get("kind") == GAMEDAY


def read_postmortem(journal: dict[str, Any]) -> Postmortem | None:
    """The postmortem of a game day's journal; None for any other journal."""
    if not is_gameday(journal):
        return None
    scenario = journal.get("scenario") or {}
    events = journal.get("events") or []
    invariants = journal.get("invariants") or []
    t0 = journal.get("t0")
    return Postmortem(
        title=str(scenario.get("title") or journal.get("run_id") or "Game day"),
        run_id=str(journal.get("run_id") or "?"), status=str(journal.get("status") or "error"),
        reason=str(journal.get("reason") or ""), when=fmt.when(journal.get("started_at"), journal.get("ended_at")),
        duration=fmt.duration(journal.get("duration_s")),
        stack=str(scenario.get("stack") or (journal.get("stack") or {}).get("name") or "?"),
        t0=float(t0) if isinstance(t0, (int, float)) else None,
        timeline=[m for e in events if (m := _moment(e)) is not None],
        hypotheses=_hypotheses(journal),
        findings=[Said(_t(e), str(e.get("message", ""))) for e in events if e.get("type") == "finding"],
        actions=[Said(_t(e), str(e.get("message", "")), (e.get("data") or {}).get("owner") or None)
                 for e in events if e.get("type") == "action_item"],
        invariants_held=sum(1 for i in invariants if i.get("passed")), invariants=len(invariants),
        violated=[str(i.get("name", "?")) for i in invariants if not i.get("passed")],
        faults=len(journal.get("faults") or []),
    )


def _t(event: dict[str, Any]) -> float:
    return float(event.get("t") or 0.0)


def _moment(event: dict[str, Any]) -> Moment | None:
    kind = str(event.get("type", ""))
    data = event.get("data") or {}
    if kind not in TIMELINE or (kind == "note" and data.get("action")):
        return None  # a note with an action repeats a load change or a recovery already on the timeline
    text = str(event.get("message", ""))
    if kind in ("fault_applied", "fault_removed") and data.get("label"):
        text = str(data["label"])
    elif kind == "hypothesis_ended":
        text = text.split(";")[0]  # the console's "judging once its last second is in" is not news afterwards
    if data.get("fault"):
        text = f"{data['fault']}: {text}"
    return Moment(_t(event), TIMELINE[kind], text)


def _hypotheses(journal: dict[str, Any]) -> list[Hypothesis]:
    """Every phase with expectations (the hypotheses typed and the cued phases), in the order they began."""
    judged: dict[str, list[dict[str, Any]]] = {}
    for e in journal.get("expectations") or []:
        judged.setdefault(str(e.get("phase")), []).append(e)
    out = []
    for p in sorted((p for p in journal.get("phases") or [] if p.get("expect")), key=lambda p: p.get("start", 0)):
        results = judged.get(str(p.get("name")), [])
        verdict = ("not judged" if not results else "held" if all(r.get("passed") for r in results)
                   else "did not hold")
        out.append(Hypothesis(str(p["name"]), float(p.get("start") or 0), float(p.get("end") or 0), verdict,
                              tuple(_result(r) for r in results)))
    return out


def _result(e: dict[str, Any]) -> str:
    where = f"{e['endpoint']} " if e.get("endpoint") else ""
    text = f"{where}{e.get('name', '?')} {e.get('threshold', '')}: {fmt.measured(e)}"
    if e.get("passed"):
        return text
    return f"{text}, not met" + (f": {e['why']}" if e.get("why") else "")


# ---------------------------------------------------------------- Markdown
def render_postmortem(pm: Postmortem) -> str:
    """The postmortem as one Markdown document: a heading, the facts, then its sections."""
    word = fmt.STATUS_WORD.get(pm.status, pm.status.upper())
    lines = [f"# Postmortem: {pm.title}", "",
             f"- **Outcome:** {fmt.STATUS_ICON.get(pm.status, '')} {word}".replace("  ", " ")
             + (f": {cell(pm.reason)}" if pm.reason else ""),
             f"- **When:** {pm.when} ({pm.duration})",
             f"- **Stack:** {cell(pm.stack)} · **Run:** {code(pm.run_id)}",
             f"- **Hypotheses held:** {pm.held}/{len(pm.hypotheses)} · **Invariants held:** "
             f"{pm.invariants_held}/{pm.invariants}" + (f" (violated: {cell(', '.join(pm.violated))})"
                                                         if pm.violated else "")
             + f" · **Faults injected:** {pm.faults}", ""]
    lines += markdown_sections(pm, level=2)
    lines += ["_Times are UTC, and offsets (m:ss) from the start of the game day's load; written by chaosdrill "
              "from the game day's journal.json._", ""]
    return "\n".join(lines)


def markdown_sections(pm: Postmortem, level: int) -> list[str]:
    """Timeline, hypotheses, findings and action items, headed at `level` (summary.md nests them deeper)."""
    h = "#" * level
    lines = [f"{h} Timeline", ""]
    if pm.timeline:
        lines += ["| Time (UTC) | Offset | Event | What |", "|---|--:|---|---|"]
        lines += [f"| {pm.wall(m.t)} | {fmt_clock(m.t)} | {m.what} | {cell(m.text)} |" for m in pm.timeline]
    else:
        lines.append("_Nothing happened that a debrief would walk through._")
    lines += ["", f"{h} Hypotheses", ""]
    if pm.hypotheses:
        lines += ["| Hypothesis | Window | Verdict | Measured |", "|---|---|---|---|"]
        lines += [f"| {cell(x.name)} | {fmt_clock(x.start)}–{fmt_clock(x.end)} | {_VERDICT_ICON[x.verdict]} "
                  f"{x.verdict} | {cell('; '.join(x.results)) or '–'} |" for x in pm.hypotheses]
    else:
        lines.append("_No hypothesis was stated._")
    lines += ["", f"{h} Findings", ""]
    lines += [f"{n}. {cell(f.text)} — at {pm.stamp(f.t)}" for n, f in enumerate(pm.findings, 1)] or [
        "_No findings were recorded._"]
    lines += ["", f"{h} Action items", ""]
    if pm.actions:
        lines += ["| # | Action | Owner | Raised at |", "|--:|---|---|--:|"]
        lines += [f"| {n} | {cell(a.text)} | {cell(a.who)} | {pm.stamp(a.t)} |"
                  for n, a in enumerate(pm.actions, 1)]
    else:
        lines.append("_No action items were recorded._")
    return [*lines, ""]


_VERDICT_ICON = {"held": "✅", "did not hold": "❌", "not judged": "–"}
