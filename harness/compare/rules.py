"""When a change between two runs is a regression: one rule per kind of measure (docs/compare.md).

Two healthy runs of the same drill never measure the same numbers: error
rates move by a point or two, a p99 by a factor, a goodput by a third.
The margins below are taken from that run-to-run noise, measured on the
gate's own repeated healthy runs (the largest spread seen in 10 runs of
every library drill, 2026-12-07, with room above it), so that two healthy
runs do not differ and a real regression does:

    measure                       worse by more than            largest healthy spread seen
    share (error_rate, a code's   x2.5 and +3 points, and by at 2.3 points (a broken canary's
      or class's share)           least 3 answers of its window  ungraceful share: x2.2, 12 points)
    count of bad answers          max(2, half the base count)   0
      (ungraceful, slow, errors, a code's count under a bound)
    p50/p90/p95                   x1.5 and +25 ms               x1.09, +4 ms
    p99                           x2.5 and +150 ms              x1.88, +182 ms
    max_latency                   x2 and +500 ms                x1.77, +412 ms
    recovers_within               +3 s                          (1 s resolution)
    throughput, goodput           below x0.5 of the base        x0.67
    invariant                     held -> violated, or more offending records

Whatever the margin, an expectation or invariant that passed in BASE and
fails in NEW is a regression ("now fails"): its own bound says so. A
"higher is better" bound (`codes: {OVERLOADED: "> 0"}`: the plan's answer
must appear) regresses only by failing: how many times it appeared says
nothing of resilience.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MARGINS", "Margin", "kind_of", "regression"]


@dataclass(frozen=True)
class Margin:
    factor: float = 0.0  # worse than base x factor (and)
    slack: float = 0.0  # worse than base + slack, in the measure's unit
    describe: str = ""


MARGINS = {
    "share": Margin(2.5, 0.03, "over x2.5, +3 points and 3 answers"),
    "count": Margin(1.5, 2.0, "more than max(2, half the base) more"),
    "percentile": Margin(1.5, 25.0, "over x1.5 and +25 ms"),
    "p99": Margin(2.5, 150.0, "over x2.5 and +150 ms"),
    "max_latency": Margin(2.0, 500.0, "over x2 and +500 ms"),
    "recovery": Margin(0.0, 3.0, "more than 3 s longer"),
    "rate": Margin(0.5, 0.0, "below half the base"),
}


def kind_of(name: str, threshold: str) -> str:
    """The kind of measure an expectation is, by its name and threshold."""
    if name in ("p50_ms", "p90_ms", "p95_ms"):
        return "percentile"
    if name in ("p99_ms", "max_latency"):
        return "p99" if name == "p99_ms" else "max_latency"
    if name == "recovers_within":
        return "recovery"
    if name in ("throughput", "goodput"):
        return "rate"
    if "%" in threshold or name == "error_rate":
        return "share"
    return "count"


def _higher_is_better(kind: str, threshold: str) -> bool:
    return kind == "rate" or threshold.lstrip().startswith(">")


MIN_ANSWERS = 3  # a share that moved by fewer answers than this moved by chance


def regression(name: str, threshold: str, base: float | None, new: float | None,
               base_passed: bool, new_passed: bool, answers: int | None = None) -> str:
    """Why NEW regressed from BASE on this expectation ("" when it did not); `answers`: how many
    answers NEW's window judged (for shares)."""
    if base_passed and not new_passed:
        return "now fails"
    if base is None or new is None:
        return ""
    kind = kind_of(name, threshold)
    if _higher_is_better(kind, threshold):
        if kind != "rate":
            return ""  # a required answer that still appears: its count is no measure of resilience
        return MARGINS["rate"].describe if base > 0 and new < base * MARGINS["rate"].factor else ""
    margin = MARGINS[kind]
    if kind == "share":
        over = new > base * margin.factor and new - base > margin.slack
        enough = answers is None or (new - base) * answers >= MIN_ANSWERS
        return margin.describe if over and enough else ""
    if kind == "recovery":
        return margin.describe if new - base > margin.slack else ""
    if kind == "count":
        return margin.describe if new - base > max(margin.slack, base * (margin.factor - 1.0)) else ""
    return margin.describe if new > base * margin.factor and new - base > margin.slack else ""
