"""Pair two runs' expectations and invariants, and name what regressed.

Results pair by (drill, phase, endpoint, name); each pair gets both
measured values, the change, and whether it regressed by its kind's rule
(rules.py). Reads journals only: nothing is measured again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.compare.rules import regression
from harness.errors import UsageError
from harness.judge.score import score_of
from harness.metrics.series import Series, Stats

__all__ = ["DrillDiff", "Pair", "compare_sides"]


@dataclass
class Pair:
    phase: str  # "" for an invariant
    endpoint: str | None
    name: str
    threshold: str
    base: Any  # the measured value (None: not judged on that side)
    new: Any
    base_display: str
    new_display: str
    base_passed: bool | None
    new_passed: bool | None
    regressed: str = ""  # why, by the kind's rule
    improved: bool = False

    @property
    def where(self) -> str:
        if not self.phase:
            return f"invariant {self.name}"
        return f"{self.phase}: " + (f"{self.endpoint} " if self.endpoint else "") + self.name


@dataclass
class DrillDiff:
    drill: str
    base_status: str
    new_status: str
    base_score: int | None
    new_score: int | None
    rows: list[Pair] = field(default_factory=list)

    @property
    def regressions(self) -> list[Pair]:
        return [r for r in self.rows if r.regressed]


def _expectations(journal: dict[str, Any]) -> dict[tuple, dict[str, Any]]:
    return {(e.get("phase", ""), e.get("endpoint"), e.get("name", "")): e for e in journal.get("expectations") or []}


def _invariants(journal: dict[str, Any]) -> dict[tuple, dict[str, Any]]:
    return {("", None, i.get("name", "")): i for i in journal.get("invariants") or []}


def _offending(inv: dict[str, Any] | None) -> int | None:
    """How many records an invariant named as offending (0 when it held)."""
    return None if inv is None else len(inv.get("offending") or [])


def _answers(series: Series | None, exp: dict[str, Any]) -> int | None:
    """How many answers an expectation's judged window held (from the journal's metrics)."""
    if series is None or not exp.get("window"):
        return None
    stats = Stats()
    for start, end in exp["window"]:
        stats.add(series.window(start, end, exp.get("endpoint")))
    return stats.n


def compare_drill(drill: str, base: dict[str, Any], new: dict[str, Any]) -> DrillDiff:
    diff = DrillDiff(drill, str(base.get("status")), str(new.get("status")), score_of(base), score_of(new))
    series = Series.from_json(new["metrics"]) if new.get("metrics") else None
    b_exp, n_exp = _expectations(base), _expectations(new)
    for key in [*b_exp, *(k for k in n_exp if k not in b_exp)]:
        b, n = b_exp.get(key), n_exp.get(key)
        threshold = str((n or b or {}).get("threshold", ""))
        row = Pair(key[0], key[1], key[2], threshold,
                  b.get("measured") if b else None, n.get("measured") if n else None,
                  str(b.get("display", b.get("measured"))) if b else "not judged",
                  str(n.get("display", n.get("measured"))) if n else "not judged",
                  bool(b.get("passed")) if b else None, bool(n.get("passed")) if n else None)
        if b is not None and n is not None:
            row.regressed = regression(key[2], threshold, _number(row.base), _number(row.new),
                                       bool(row.base_passed), bool(row.new_passed), _answers(series, n))
            row.improved = not row.base_passed and bool(row.new_passed)
        diff.rows.append(row)
    b_inv, n_inv = _invariants(base), _invariants(new)
    for key in [*b_inv, *(k for k in n_inv if k not in b_inv)]:
        b, n = b_inv.get(key), n_inv.get(key)
        row = Pair("", None, key[2], "holds", _offending(b), _offending(n),
                  ("held" if b.get("passed") else "VIOLATED") if b else "not checked",
                  ("held" if n.get("passed") else "VIOLATED") if n else "not checked",
                  bool(b.get("passed")) if b else None, bool(n.get("passed")) if n else None)
        if b is not None and n is not None:
            if row.base_passed and not row.new_passed:
                row.regressed = "now violated"
            elif row.base is not None and row.new is not None and row.new > row.base:
                row.regressed = "more offending records"
            row.improved = not row.base_passed and bool(row.new_passed)
        diff.rows.append(row)
    return diff


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def compare_sides(base: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]],
                  single: bool) -> tuple[list[DrillDiff], list[str], list[str]]:
    """(diffs of drills on both sides, drills only in BASE, only in NEW). Two single journals of
    different drills are bad input: there is nothing to pair."""
    if single and len(base) == 1 and len(new) == 1 and set(base) != set(new):
        raise UsageError(f"compare: BASE is a run of {next(iter(base))} and NEW of {next(iter(new))}: "
                         "compare two runs of the same drill (or two gate folders)")
    both = [d for d in base if d in new]
    if not both:
        raise UsageError(f"compare: no drill is on both sides (BASE: {', '.join(sorted(base))}; NEW: "
                         f"{', '.join(sorted(new))})")
    diffs = [compare_drill(d, base[d], new[d]) for d in sorted(both)]
    return diffs, sorted(set(base) - set(new)), sorted(set(new) - set(base))
