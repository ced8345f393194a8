"""What each toxic accepts, so a scenario's fault attributes are checked at load.

Times may be written as durations ("800ms", "1.5s") and are converted to the
integer unit the Toxiproxy API takes (milliseconds; microseconds for
slicer.delay); a bare number is already in that unit, as in Toxiproxy's docs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.schema.durations import parse_duration
from harness.schema.suggest import did_you_mean

HTTP_TOXICS = ("http_error", "http_latency")


@dataclass(frozen=True)
class Attr:
    kind: str  # ms | us | count | text | status | headers
    required: bool = False


TOXICS: dict[str, dict[str, Attr]] = {
    "latency": {"latency": Attr("ms", True), "jitter": Attr("ms")},
    "bandwidth": {"rate": Attr("count", True)},  # KB/s
    "slow_close": {"delay": Attr("ms", True)},
    "timeout": {"timeout": Attr("ms")},  # 0: hold the connection open forever
    "reset_peer": {"timeout": Attr("ms")},
    "slicer": {"average_size": Attr("count", True), "size_variation": Attr("count"), "delay": Attr("us")},
    "limit_data": {"bytes": Attr("count", True)},
    "noop": {},
    "down": {},
    "http_error": {"status": Attr("status"), "body": Attr("text"), "headers": Attr("headers"),
                   "method": Attr("text"), "path": Attr("text")},
    "http_latency": {"latency": Attr("ms", True), "jitter": Attr("ms"), "method": Attr("text"), "path": Attr("text")},
}
TOXIC_NAMES = tuple(TOXICS)
# The unit a bare number is in, for people: a label reads "latency=800ms", not "latency=800".
_COUNT_UNITS = {("bandwidth", "rate"): "KB/s", ("limit_data", "bytes"): "B", ("slicer", "average_size"): "B",
                ("slicer", "size_variation"): "B"}


def attribute_units(toxic: str) -> dict[str, str]:
    """Each numeric attribute's unit suffix ("ms", "us", "B", "KB/s"), for labels and the journal."""
    out: dict[str, str] = {}
    for key, attr in TOXICS.get(toxic, {}).items():
        if attr.kind in ("ms", "us"):
            out[key] = attr.kind
        elif (toxic, key) in _COUNT_UNITS:
            out[key] = _COUNT_UNITS[(toxic, key)]
    return out


class AttributeError_(ValueError):
    """A bad attribute; `key` names it (None: the attributes as a whole)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


def _time(value: Any, unit: str, key: str) -> int:
    if isinstance(value, bool):
        raise AttributeError_(f"expected a duration like '800ms' or a number of {unit}, got {value!r}", key)
    if isinstance(value, (int, float)):
        if value < 0:
            raise AttributeError_(f"must not be negative, got {value!r}", key)
        return int(round(value))
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise AttributeError_(str(exc), key) from None
    return int(round(seconds * (1000 if unit == "ms" else 1_000_000)))


def convert_attributes(toxic: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes checked and converted to the Toxiproxy API's types."""
    spec = TOXICS[toxic]
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        attr = spec.get(key)
        if attr is None:
            if not spec:
                raise AttributeError_(f"toxic '{toxic}' takes no attributes", key)
            raise AttributeError_(f"unknown attribute '{key}' for toxic '{toxic}'{did_you_mean(key, spec)}; "
                                  f"allowed: {', '.join(spec)}", key)
        if attr.kind in ("ms", "us"):
            out[key] = _time(value, attr.kind, key)
        elif attr.kind == "count":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise AttributeError_(f"expected a whole number >= 0, got {value!r}", key)
            out[key] = value
        elif attr.kind == "status":
            if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
                raise AttributeError_(f"expected an HTTP status 100-599, got {value!r}", key)
            out[key] = value
        elif attr.kind == "headers":
            if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                raise AttributeError_("expected a mapping of header names to values", key)
            out[key] = {k: str(v) for k, v in value.items()}
        else:
            if not isinstance(value, str):
                raise AttributeError_(f"expected text, got {value!r}", key)
            out[key] = value
    missing = [k for k, a in spec.items() if a.required and k not in attributes]
    if missing:
        raise AttributeError_(f"toxic '{toxic}' needs attribute(s): {', '.join(missing)}")
    return out
