"""summary.md: the verdict, the expectation table and the invariants in GitHub Markdown.

Written to read well where CI shows it: a job summary ($GITHUB_STEP_SUMMARY)
or a pull-request comment. Plain GFM tables only; no HTML beyond
<details>, which both render.
"""

from __future__ import annotations

from typing import Any

from harness.report import formatting as fmt
from harness.report.formatting import cell, code
from harness.report.model import Run
from harness.report.postmortem import markdown_sections


def render_summary(run: Run) -> str:
    j = run.journal
    env = j.get("environment") or {}
    counts = run.counts()
    word = fmt.STATUS_WORD.get(run.status, run.status.upper())
    lines = [f"## {fmt.STATUS_ICON.get(run.status, '')} {word}: {run.title}".replace("  ", " "), ""]
    if run.reason:
        lines += [f"**{cell(run.reason)}**", ""]
    if run.plan:
        lines += [f"> {run.plan}", ""]
    facts = [
        f"Run `{j.get('run_id', '?')}`",
        f"started {j.get('started_at', '?')}",
        f"took {fmt.duration(j.get('duration_s'))}",
        f"on {env.get('host', '?')}",
        f"chaosdrill {env.get('chaosdrill', '?')}, Python {env.get('python', '?')}",
    ]
    lines += [" · ".join(facts), ""]
    if run.changes:
        lines += ["**Run with the stack changed:** " + ", ".join(code(c) for c in run.changes), ""]
    for text in run.saturation_lines():
        lines += [f"**⚠ {cell(text)}**: latency and throughput there are partly the load's own.", ""]
    lines += [f"**Expectations met: {counts['expectations'] - counts['expectations_failed']}/"
              f"{counts['expectations']}** · **Invariants held: {counts['invariants'] - counts['invariants_failed']}/"
              f"{counts['invariants']}** · Faults injected: {len(run.faults)}"
              + (f" · **Resilience score: {j['score']['value']}/100**" if isinstance(j.get("score"), dict) else ""), ""]

    if run.postmortem is not None:  # a game day: its debrief first, as in report.html
        lines += ["### Postmortem", "", *markdown_sections(run.postmortem, level=4)]
    lines += ["### Expectations", ""]
    if run.expectations:
        lines += ["| | Phase | Endpoint | Expectation | Measured | Threshold | Why |",
                  "|---|---|---|---|--:|---|---|"]
        for e in run.expectations:
            lines.append(f"| {'✅' if e.get('passed') else '❌'} | {cell(e.get('phase', ''))} | "
                         f"{code(e['endpoint']) if e.get('endpoint') else 'all'} | {cell(e.get('name', ''))} | "
                         f"{cell(fmt.measured(e))} | {code(e.get('threshold', ''))} | {cell(e.get('why') or '')} |")
    else:
        lines.append("_No expectation was judged._")
    if run.unjudged_phases:
        lines += ["", f"_Not judged (the run ended before they finished): {', '.join(run.unjudged_phases)}._"]
    lines.append("")

    lines += ["### Data integrity", ""]
    if run.invariants:
        lines += ["| | Invariant | Counts | Finding |", "|---|---|---|---|"]
        for i in run.invariants:
            finding = cell(i.get("message") or "")
            offending = [str(x) for x in i.get("offending") or []]
            if not i.get("passed") and offending:
                shown = ", ".join(f"`{cell(x)}`" for x in offending[:20])
                more = f" … and {len(offending) - 20} more" if len(offending) > 20 else ""
                finding += f"<br>offending ids: {shown}{more}"
            lines.append(f"| {'✅' if i.get('passed') else '❌'} | `{cell(i.get('name', '?'))}` | "
                         f"{cell(fmt.counts_text(i.get('counts') or {}))} | {finding} |")
    else:
        lines.append("_No invariants were audited._")
    lines.append("")

    if run.faults or run.aborts or run.notes:
        lines += ["<details><summary>Faults and events</summary>", ""]
        if run.faults:
            lines += ["| Fault | Phase | From | To | Result |", "|---|---|--:|--:|---|"]
            for f in run.faults:
                lines.append(f"| {cell(f.label)} | {cell(f.phase)} | {fmt_t(f.start) if not f.failed else 'never'} | "
                             f"{fmt_t(f.end)} | {cell(f.result or '–')} |")
            lines.append("")
        for a in run.aborts:
            lines.append(f"- **abort** at {fmt_t(a.get('t', 0))}: {cell(a.get('message', ''))}")
        for n, note in enumerate(run.notes, 1):
            lines.append(f"- note N{n} at {fmt_t(note.get('t', 0))}: {cell(note.get('message', ''))}")
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def fmt_t(t: Any) -> str:
    from harness.report.svg import fmt_clock

    return fmt_clock(float(t or 0))
