"""What each expectation measures on a window of per-second stats, and how it reads.

One function answers "what is the error rate / p99 / throughput of this
window" for judging phases, for abort_if and for recovery, so the number a
report shows is the number the verdict used.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.metrics.series import Stats
from harness.schema.thresholds import Threshold

PERCENTILES = {"p50_ms": 50.0, "p90_ms": 90.0, "p95_ms": 95.0, "p99_ms": 99.0}
LATENCY_NAMES = (*PERCENTILES, "max_latency")
RATE_NAMES = ("throughput", "goodput")


@dataclass
class Measured:
    value: float | None  # canonical unit: ratio for shares, ms, count, req/s, or x of baseline
    unit: str  # share | ms | count | rps | ratio | s
    display: str
    note: str = ""  # why there is no value, or context (e.g. the baseline)


_FORMATS = {
    "share": lambda v: f"{v * 100:.3g}%",
    "ms": lambda v: f"{v:.1f} ms",
    "rps": lambda v: f"{v:.1f} req/s",
    "ratio": lambda v: f"{v:.2f}x",
    "s": lambda v: f"{v:.1f}s",
}


def fmt(value: float, unit: str) -> str:
    """A measured value for people, in its unit (counts as plain numbers)."""
    return _FORMATS.get(unit, lambda v: f"{v:g}")(value)


def fmt_gap(gap: float, unit: str) -> str:
    """A difference: shares in percentage points."""
    if unit == "share":
        return f"{gap * 100:.3g} points"
    return fmt(gap, unit)


def _rate(count: int, seconds: int) -> float:
    return count / seconds if seconds > 0 else 0.0


def measure(name: str, threshold: Threshold, stats: Stats, seconds: int,
            baseline: Stats | None = None, baseline_seconds: int = 0, deadline_ms: float | None = None) -> Measured:
    """Measure expectation `name` ("error_rate", "codes.APPROVED", ...) on a window.

    `seconds` is how many seconds the window spans (for rates); `baseline`
    is the baseline phase's window, needed by relative ('x') thresholds;
    `deadline_ms` the stack's deadline, which `slow` counts answers over.
    """
    share = threshold.unit == "%"
    if name == "error_rate":
        return _share_or_none(stats.error_rate, stats)
    if name == "ungraceful":
        return _count_or_share(stats.ungraceful, stats, share)
    if name == "slow":
        if deadline_ms is None:
            raise KeyError("slow needs the stack's deadline")
        m = _count_or_share(stats.slower_than(deadline_ms), stats, share)
        m.display += f" over the {fmt(deadline_ms, 'ms')} deadline"
        return m
    if name == "errors":
        return _count_or_share(stats.errors, stats, False)
    if name.startswith("codes."):
        return _count_or_share(stats.codes.get(name[6:], 0), stats, share)
    if name.startswith("classes."):
        return _count_or_share(stats.classes.get(name[8:], 0), stats, share)
    if name in PERCENTILES:
        if not stats.n:
            return Measured(None, "ms", "no requests", "no requests to measure latency on")
        v = stats.percentile_ms(PERCENTILES[name])
        return Measured(v, "ms", fmt(v, "ms"))
    if name == "max_latency":
        if not stats.n:
            return Measured(None, "ms", "no requests", "no requests to measure latency on")
        return Measured(stats.max_ms, "ms", fmt(stats.max_ms, "ms"))
    if name in RATE_NAMES:
        count = stats.n if name == "throughput" else stats.classes.get("success", 0)
        rps = _rate(count, seconds)
        if threshold.unit != "x":
            return Measured(rps, "rps", fmt(rps, "rps"))
        if baseline is None:
            return Measured(None, "ratio", "no baseline", "the baseline phase was not measured")
        base_count = baseline.n if name == "throughput" else baseline.classes.get("success", 0)
        base_rps = _rate(base_count, baseline_seconds)
        if base_rps <= 0:
            return Measured(None, "ratio", "no baseline", f"the baseline phase had no {'successful ' if name == 'goodput' else ''}requests")
        ratio = rps / base_rps
        return Measured(ratio, "ratio", f"{ratio:.2f}x baseline ({rps:.1f} vs {base_rps:.1f} req/s)")
    raise KeyError(f"unknown expectation {name!r}")


def counted(name: str, stats: Stats) -> tuple[int, str] | None:
    """The answers a share counts on `stats` and what to call them ("errors", "OVERLOADED"),
    so a failed share can say by how many answers it missed; None for a name that is no share."""
    if name == "error_rate":
        return stats.errors, "errors"
    if name == "ungraceful":
        return stats.ungraceful, "ungraceful"
    for prefix, counts in (("codes.", stats.codes), ("classes.", stats.classes)):
        if name.startswith(prefix):
            return counts.get(name[len(prefix):], 0), name[len(prefix):]
    return None


def _share_or_none(value: float, stats: Stats) -> Measured:
    if not stats.n:
        return Measured(None, "share", "no requests", "no requests to compute a share of")
    return Measured(value, "share", fmt(value, "share"))


def _count_or_share(count: int, stats: Stats, share: bool) -> Measured:
    if share:
        return _share_or_none(count / stats.n if stats.n else 0.0, stats)
    return Measured(float(count), "count", f"{count}" + (f" of {stats.n}" if stats.n else ""))


def explain(name: str, threshold: Threshold, m: Measured) -> str:
    """Why a measured value fails its threshold, e.g. 'error_rate 12.3% is over < 0.5% by 11.8 points'."""
    if m.value is None:
        return f"{name}: {m.note or 'nothing measured'}"
    limit = threshold.value
    gap = fmt_gap(abs(m.value - limit), m.unit)
    shown = m.display
    if threshold.op in ("<", "<="):
        return f"{name} {shown} is over {threshold} by {gap}" if m.value > limit else f"{name} {shown} is not {threshold}"
    if threshold.op in (">", ">="):
        return f"{name} {shown} is under {threshold} by {gap}" if m.value < limit else f"{name} {shown} is not {threshold}"
    if threshold.op == "==":
        return f"{name} {shown}, expected {threshold} (off by {gap})"
    return f"{name} {shown}, expected {threshold}"
