"""Durations as people write them in scenario files ("500ms", "20s", "2m").

Every duration in a scenario or stack becomes float seconds at load time, so
the rest of the harness never parses text; a bare number means seconds.
Pure Python (the file models' `Duration` type is in harness.schema.base), so the
load process reads its config's durations here without importing pydantic.
"""

from __future__ import annotations

import math
import re
from typing import Any

_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(us|ms|s|m|h)?\s*$")
DURATION_PATTERN = r"^\s*(\d+(\.\d*)?|\.\d+)\s*(us|ms|s|m|h)?\s*$"


def parse_duration(value: Any) -> float:
    """Seconds from "500ms", "20s", "2m", "1h", "1.5s" or a number (seconds).

    Raises ValueError with a message fit for a user (no negative, no NaN).
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '20s', '500ms' or '2m', got {value!r}")
    if isinstance(value, (int, float)):
        try:
            seconds = float(value)
        except OverflowError:  # an int past a float's range
            seconds = math.inf
    elif isinstance(value, str):
        m = _DURATION.match(value)
        if not m:
            raise ValueError(f"expected a duration like '20s', '500ms' or '2m', got {value!r}")
        seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2) or "s"]
    else:
        raise ValueError(f"expected a duration like '20s', '500ms' or '2m', got {value!r}")
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        raise ValueError(f"a duration must be a finite number of seconds >= 0, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest readable form: 0.5 -> "500ms", 20 -> "20s", 120 -> "2m"."""
    if seconds == 0:
        return "0s"
    if seconds < 1:
        ms = seconds * 1000
        return f"{ms:.10g}ms" if ms >= 1 else f"{seconds * 1e6:.10g}us"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 3600:.10g}h" if seconds % 3600 == 0 else f"{seconds / 60:.10g}m"
    return f"{seconds:.10g}s"
