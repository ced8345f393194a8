"""abort_if: a hard stop when a condition holds for every one of the last N seconds."""

from __future__ import annotations

import math
from typing import Any, Mapping

from harness.judge.measures import measure
from harness.judge.windows import SecondIndex
from harness.metrics.series import Series


def check_abort(abort_if: Mapping[str, Any] | None, series: Series, now_t: int) -> str | None:
    """The reason to abort, or None.

    Each condition ("error_rate: > 80% for 10s") must hold in each of the
    ceil(for) complete seconds ending at second `now_t` (the last complete
    second); at least one second is always required. A second without
    requests has no error rate or latency, so it never meets those
    conditions (a throughput condition does see it: 0 req/s).
    """
    if not abort_if:
        return None
    index = SecondIndex(series)
    for metric, cond in abort_if.items():
        span = max(1, math.ceil(cond.for_s - 1e-9))
        first = now_t - span + 1
        if first < 0:
            continue
        values = []
        for t in range(first, now_t + 1):
            m = measure(metric, cond.threshold, index.second(t), 1)
            if m.value is None or not cond.threshold.check(m.value):
                break
            values.append(m)
        else:
            low = min(values, key=lambda m: m.value)
            high = max(values, key=lambda m: m.value)
            shown = low.display if low.value == high.value else f"{low.display} to {high.display}"
            return f"{metric} {cond} (measured {shown} in seconds {first}-{now_t})"
    return None


__all__ = ["check_abort"]
