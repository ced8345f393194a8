"""A mergeable, HDR-style latency histogram with sub-millisecond resolution.

Latencies are recorded in microseconds. Values below 128 us are exact; above
that each bucket keeps 8 significant bits (relative error under 0.4 % at the
bucket midpoint), like HdrHistogram with ~2 significant digits. A bucket key
is one int computed with two bit operations, so recording stays cheap in the
Locust hot path, and the sparse dict form merges by addition and serialises
to compact JSON for the metrics stream and the journal.
"""

from __future__ import annotations

from typing import Iterable, Mapping

_MANTISSA_BITS = 7
_MANTISSA = 1 << _MANTISSA_BITS  # 128


def bucket_key(value_us: int) -> int:
    """Bucket index of a latency in microseconds (monotonic in the value)."""
    if value_us < _MANTISSA:
        return value_us if value_us > 0 else 0
    shift = value_us.bit_length() - _MANTISSA_BITS - 1
    return ((shift + 1) << _MANTISSA_BITS) + ((value_us >> shift) - _MANTISSA)


def bucket_bounds(key: int) -> tuple[int, int]:
    """[low, high) in microseconds of the values that land in bucket `key`."""
    if key < _MANTISSA:
        return key, key + 1
    shift = (key >> _MANTISSA_BITS) - 1
    mantissa = (key & (_MANTISSA - 1)) + _MANTISSA
    return mantissa << shift, (mantissa + 1) << shift


def bucket_value(key: int) -> float:
    """Representative value (midpoint) of a bucket, in microseconds."""
    low, high = bucket_bounds(key)
    return low if high - low == 1 else (low + high) / 2


class Histogram:
    """Counts per bucket, plus exact count, sum and max."""

    __slots__ = ("counts", "total", "sum_us", "max_us")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0
        self.sum_us = 0
        self.max_us = 0

    def record(self, value_us: int, count: int = 1) -> None:
        value_us = int(value_us)
        key = bucket_key(value_us)
        counts = self.counts
        counts[key] = counts.get(key, 0) + count
        self.total += count
        self.sum_us += value_us * count
        if value_us > self.max_us:
            self.max_us = value_us

    def record_ms(self, value_ms: float) -> None:
        self.record(int(value_ms * 1000))

    def merge(self, other: "Histogram") -> "Histogram":
        counts = self.counts
        for key, n in other.counts.items():
            counts[key] = counts.get(key, 0) + n
        self.total += other.total
        self.sum_us += other.sum_us
        if other.max_us > self.max_us:
            self.max_us = other.max_us
        return self

    def percentile(self, q: float) -> float:
        """The q-th percentile (0..100) in microseconds; 0.0 when empty.

        The maximum is exact, so percentile(100) returns it rather than a
        bucket midpoint.
        """
        if self.total == 0:
            return 0.0
        if q >= 100:
            return float(self.max_us)
        rank = max(1, int(-(-self.total * q // 100)))  # ceil, at least 1
        seen = 0
        for key in sorted(self.counts):
            seen += self.counts[key]
            if seen >= rank:
                return min(bucket_value(key), float(self.max_us))
        return float(self.max_us)

    def count_over(self, value_us: float) -> int:
        """How many recorded values are slower than `value_us` (at bucket resolution, exact at the top:
        nothing counts when even the maximum is not over it)."""
        if self.max_us <= value_us:
            return 0
        return sum(n for key, n in self.counts.items() if bucket_value(key) > value_us)

    def percentile_ms(self, q: float) -> float:
        return self.percentile(q) / 1000.0

    @property
    def mean_us(self) -> float:
        return self.sum_us / self.total if self.total else 0.0

    def to_json(self) -> dict:
        return {
            "n": self.total,
            "sum_us": self.sum_us,
            "max_us": self.max_us,
            "b": {str(k): v for k, v in self.counts.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping) -> "Histogram":
        h = cls()
        h.counts = {int(k): int(v) for k, v in data.get("b", {}).items()}
        h.total = int(data.get("n", sum(h.counts.values())))
        h.sum_us = int(data.get("sum_us", 0))
        h.max_us = int(data.get("max_us", 0))
        return h

    @classmethod
    def merged(cls, parts: Iterable["Histogram"]) -> "Histogram":
        out = cls()
        for part in parts:
            out.merge(part)
        return out
