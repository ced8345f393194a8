"""A comparison as plain text (a terminal, a CI log) and as Markdown (a pull-request comment)."""

from __future__ import annotations

from harness.compare.diff import DrillDiff, Pair

__all__ = ["markdown", "text"]


def _score(diff: DrillDiff) -> str:
    b = "-" if diff.base_score is None else str(diff.base_score)
    n = "-" if diff.new_score is None else str(diff.new_score)
    return f"score {b} -> {n}"


def _verdict(row: Pair) -> str:
    if row.regressed:
        return f"REGRESSED ({row.regressed})"
    if row.improved:
        return "improved (now passes)"
    if row.base_passed is None:
        return "new"
    if row.new_passed is None:
        return "gone"
    return "ok" if row.new_passed else "still fails"


def _change(row: Pair) -> str:
    if isinstance(row.base, (int, float)) and isinstance(row.new, (int, float)) and not isinstance(row.base, bool):
        delta = row.new - row.base
        if "%" in row.threshold or row.name == "error_rate":
            return f"{delta * 100:+.2f} points"
        if row.base:
            return f"{delta:+.4g} ({row.new / row.base:.2f}x)"
        return f"{delta:+.4g}"
    return ""


def summary_line(diffs: list[DrillDiff], base: str, new: str) -> str:
    regressions = sum(len(d.regressions) for d in diffs)
    if regressions:
        named = "; ".join(f"{d.drill} {r.where}" for d in diffs for r in d.regressions)
        return f"compare: {regressions} regression(s) from {base} to {new}: {named}"
    return f"compare: no regression from {base} to {new} ({len(diffs)} drill(s))"


def text(diffs: list[DrillDiff], only_base: list[str], only_new: list[str], base: str, new: str) -> str:
    lines = []
    for diff in diffs:
        lines.append(f"{diff.drill}: {diff.base_status} -> {diff.new_status}, {_score(diff)}")
        for row in sorted(diff.rows, key=lambda r: not r.regressed):
            lines.append(f"  {_verdict(row):<36} {row.where} {row.threshold}: {row.base_display} -> "
                         f"{row.new_display}" + (f" ({_change(row)})" if _change(row) else ""))
    for drill in only_base:
        lines.append(f"{drill}: only in BASE (not run in NEW)")
    for drill in only_new:
        lines.append(f"{drill}: only in NEW")
    lines.append(summary_line(diffs, base, new))
    return "\n".join(lines)


def _cell(value: str) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def markdown(diffs: list[DrillDiff], only_base: list[str], only_new: list[str], base: str, new: str) -> str:
    regressions = sum(len(d.regressions) for d in diffs)
    head = (f"## ❌ chaosdrill compare: {regressions} regression(s)" if regressions
            else "## ✅ chaosdrill compare: no regression")
    lines = [head, "", f"`{_cell(base)}` → `{_cell(new)}`", "",
             "| Drill | Status | Score | Regressions |", "|---|---|--:|---|"]
    for diff in diffs:
        named = "; ".join(f"{_cell(r.where)}: {_cell(r.base_display)} → {_cell(r.new_display)}"
                          for r in diff.regressions) or "none"
        lines.append(f"| {diff.drill} | {diff.base_status} → {diff.new_status} | "
                     f"{'-' if diff.base_score is None else diff.base_score} → "
                     f"{'-' if diff.new_score is None else diff.new_score} | {named} |")
    for drill in only_base:
        lines.append(f"| {drill} | only in base | | |")
    for drill in only_new:
        lines.append(f"| {drill} | only in new | | |")
    lines += ["", "<details><summary>Every expectation and invariant</summary>", ""]
    for diff in diffs:
        lines += [f"#### {diff.drill}", "", "| | Where | Bound | Base | New | Change |", "|---|---|---|--:|--:|---|"]
        for row in diff.rows:
            mark = "❌" if row.regressed else ("✅" if row.new_passed else "⚠️")
            lines.append(f"| {mark} | {_cell(row.where)} | `{_cell(row.threshold)}` | {_cell(row.base_display)} | "
                         f"{_cell(row.new_display)} | {_cell(_change(row) or _verdict(row))} |")
        lines.append("")
    lines.append("</details>")
    return "\n".join(lines) + "\n"
