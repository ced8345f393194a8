"""Turn a game day's journal into a scenario that repeats it.

What the operator did by hand becomes a timeline a CI run can repeat: every
fault that was applied comes back at the same offset from the start of the
load, for the same time. Phases are cut where no fault is active, so a fault
never spans two phases (it would be removed and applied again at the cut);
faults that overlap share one phase, each with its own start and end inside
it. Notes, load changes and hypotheses go into the file as comments, at
their offsets, so the person reading the scenario knows why it is shaped so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.schema.durations import format_duration

RESOLUTION_S = 0.1  # offsets are kept to a tenth of a second


@dataclass
class Span:
    start: float
    end: float
    fault: dict[str, Any]


def _r(x: float) -> float:
    return round(round(x / RESOLUTION_S) * RESOLUTION_S, 3)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def journal_end(journal: dict[str, Any]) -> float:
    """The last offset the journal knows of: metrics, events or faults."""
    ends = [0.0]
    ends += [float(m["t"]) + 1 for m in journal.get("metrics", [])]
    ends += [float(f["removed_at"]) for f in journal.get("faults", []) if f.get("removed_at") is not None]
    ends += [float(e["t"]) for e in journal.get("events", []) if e.get("type") in ("load_stopped", "gameday_ended")]
    return max(ends)


def applied_spans(journal: dict[str, Any]) -> list[Span]:
    """Every fault that took effect, as [start, end) offsets; still-active ones end with the journal."""
    end_of_run = journal_end(journal)
    spans = []
    for fault in journal.get("faults", []):
        if fault.get("applied_at") is None or str(fault.get("result") or "").startswith("error"):
            continue
        start = max(0.0, _r(float(fault["applied_at"])))
        end = _r(float(fault["removed_at"])) if fault.get("removed_at") is not None else _r(end_of_run)
        if end - start >= RESOLUTION_S:
            spans.append(Span(start, end, fault))
    return sorted(spans, key=lambda s: (s.start, s.end))


def fault_entry(fault: dict[str, Any]) -> dict[str, Any]:
    """A scenario fault entry from a journal fault entry (docs/journal.md -> scenario schema)."""
    target = fault["target"]
    if "link" in target:
        entry: dict[str, Any] = {"link": target["link"], "toxic": fault["kind"]}
        if fault.get("stream") not in (None, "downstream") and fault["kind"] != "down":
            entry["stream"] = fault["stream"]
        if fault.get("toxicity") not in (None, 1, 1.0):
            entry["toxicity"] = fault["toxicity"]
        if fault.get("attributes"):
            entry["attributes"] = dict(fault["attributes"])
        return entry
    entry = {"service": target["service"], "action": fault["kind"]}
    if target.get("instance"):
        entry["instance"] = target["instance"]
    return entry


def clusters(spans: list[Span]) -> list[list[Span]]:
    """Groups of faults whose active times overlap (a cut between groups cuts no fault)."""
    groups: list[list[Span]] = []
    end = -1.0
    for span in spans:
        if groups and span.start < end:
            groups[-1].append(span)
            end = max(end, span.end)
        else:
            groups.append([span])
            end = span.end
    return groups


def phases_from(journal: dict[str, Any]) -> list[dict[str, Any]]:
    spans = applied_spans(journal)
    end_of_run = _r(journal_end(journal))
    phases: list[dict[str, Any]] = []
    names: set[str] = set()

    def add(name: str, start: float, end: float, faults: list[dict] | None = None) -> None:
        base, n = name[:60].strip("-") or "phase", 1
        while name in names or not name:
            n += 1
            name = f"{base}-{n}"
        names.add(name)
        phase: dict[str, Any] = {"name": name, "duration": format_duration(_r(end - start))}
        if faults:
            phase["faults"] = faults
        phases.append(phase)

    t = 0.0
    quiet = 0
    for group in clusters(spans):
        g_start, g_end = group[0].start, max(s.end for s in group)
        if g_start - t >= RESOLUTION_S:
            add("baseline" if not phases else "recovery", t, g_start)
            quiet += 1
        faults = []
        for span in group:
            entry = fault_entry(span.fault)
            if span.start > g_start:
                entry["start"] = format_duration(_r(span.start - g_start))
            if span.end < g_end:
                entry["end"] = format_duration(_r(span.end - g_start))
            faults.append(entry)
        labels = sorted({_slug(s.fault.get("label") or s.fault["kind"]) for s in group})
        add("+".join(labels) if len(labels) <= 2 else f"{labels[0]}+{len(labels) - 1}-more", g_start, g_end, faults)
        t = g_end
    if end_of_run - t >= RESOLUTION_S or not phases:
        add("recovery" if phases else "steady", t, max(end_of_run, t + 1.0))
    return phases


def _comments(journal: dict[str, Any]) -> list[str]:
    lines = []
    for event in journal.get("events", []):
        kind = event.get("type")
        if kind in ("note", "finding", "action_item", "users", "hypothesis_started", "hypothesis_ended", "phase_cued",
                    "command"):
            owner = (event.get("data") or {}).get("owner")  # an action item's
            owned = f" (owner: {owner})" if owner else ""
            lines.append(f"#   t+{event['t']:.1f}s {kind}: {event['message']}{owned}")
    return lines


def scenario_from_journal(journal: dict[str, Any]) -> dict[str, Any]:
    if journal.get("format") != "chaosdrill-journal":
        raise UsageError("replay: this file is not a chaosdrill journal (no \"format\": \"chaosdrill-journal\")")
    source = journal.get("scenario") or {}
    stack = source.get("stack") or (journal.get("stack") or {}).get("name") or "lending"
    phases = phases_from(journal)
    n_faults = sum(len(p.get("faults", [])) for p in phases)
    scenario: dict[str, Any] = {
        "title": f"Replay of game day {journal.get('run_id', '')}".strip(),
        "plan": source.get("plan") or (
            f"Repeats the {n_faults} fault(s) of game day {journal.get('run_id', '')} at the offsets they were "
            f"applied, for as long as they lasted. Add expectations to the phases to turn it into a gate."),
        "stack": stack,
        "load": _load(source),
        "phases": phases,
    }
    if source.get("invariants"):
        scenario["invariants"] = list(source["invariants"])
    return scenario


def _load(source: dict[str, Any]) -> dict[str, Any]:
    load = dict(source.get("load") or {})
    load.pop("stages", None)
    return {k: v for k, v in load.items() if v is not None} or {"users": 10, "spawn_rate": 10}


def render_yaml(journal: dict[str, Any]) -> str:
    from harness.schema.yaml_source import dump_yaml

    body = dump_yaml(scenario_from_journal(journal), flow_leaves=True, width=120)
    header = [f"# Scenario made by `chaosdrill gameday --replay` from game day {journal.get('run_id', '')}",
              "# (offsets from the moment the load started)."]
    comments = _comments(journal)
    if comments:
        header += ["# What happened at the game day:", *comments]
    return "\n".join(header) + "\n" + body


def replay(journal_path: Path, out_path: Path) -> Path:
    """Write the scenario; validate it with the scenario schema when that is available."""
    import json

    try:
        journal = json.loads(Path(journal_path).read_text())
    except OSError as exc:
        raise UsageError(f"replay: cannot read {journal_path}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"replay: {journal_path} is not JSON: {exc}") from None
    text = render_yaml(journal)
    out_path = Path(out_path)
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(text)
    except OSError as exc:
        raise UsageError(f"--out {out_path}: cannot write the scenario there: {exc.strerror or exc}") from None
    validate(out_path)
    return out_path


def validate(path: Path) -> None:
    try:
        from harness.scenario import load_scenario
    except ImportError:  # the scenario schema is not installed: nothing to check against
        return
    load_scenario(path)
