"""Exact per-second buckets of every request one load process made.

An `events.request` listener (so it counts user-given locustfiles too) puts
each finished request into the bucket of the wall-clock second it finished
in, per endpoint name. Keying by completion time means a second is final as
soon as the clock has passed it (gevent runs one greenlet at a time), so a
flush never has to wait for stragglers. `clock_offset` is added to the local
clock: a distributed worker sets it to its measured offset from the master
(harness.load.clock), so every process keys seconds on the master's clock.

The listener only increments counters; no JSON is written per request.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from harness.load.classify import Classifier
from harness.load.config import host_port
from harness.metrics.histogram import Histogram

RECORD_VERSION = 1


class _Bucket:
    """One endpoint in one second; a cheap mutable twin of series.Stats."""

    __slots__ = ("n", "classes", "codes", "retry_after_missing", "hist")

    def __init__(self) -> None:
        self.n = 0
        self.classes = {"success": 0, "degraded": 0, "rejected": 0, "ungraceful": 0}
        self.codes: dict[str, int] = {}
        self.retry_after_missing = 0
        self.hist = Histogram()

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "classes": self.classes, "codes": self.codes,
                "retry_after_missing": self.retry_after_missing, "hist": self.hist.to_json()}


class MetricsCollector:
    """`targets` (host:port -> instance name): requests are also counted per entry
    instance, from the URL Locust reports, so a drill can tell which instance hurt
    its users (a canary); requests to other hosts, or without a URL, are not."""

    def __init__(self, classifier: Classifier, worker: str, clock: Callable[[], float] = time.time,
                 targets: dict[str, str] | None = None) -> None:
        self.classifier = classifier
        self.worker = worker
        self.clock = clock
        self.clock_offset = 0.0
        self.targets = targets or {}
        self._seconds: dict[int, dict[str, _Bucket]] = {}
        self._instances: dict[int, dict[str, _Bucket]] = {}
        self._acks: list[dict[str, Any]] = []

    def now(self) -> float:
        return self.clock() + self.clock_offset

    # ------------------------------------------------------------ hot path
    def on_request(self, request_type: str = "", name: str = "", response_time: float = 0.0,
                   response: Any = None, exception: BaseException | None = None, url: str | None = None,
                   **_: Any) -> None:
        cls, code, missing = self.classifier.classify(response, exception, response_time or 0.0)
        second = int(self.clock() + self.clock_offset)
        micros = int((response_time or 0.0) * 1000)
        _count(self._seconds, second, name, cls, code, missing, micros)
        if self.targets and url:
            instance = self.targets.get(host_port(url))
            if instance is not None:
                _count(self._instances, second, instance, cls, code, missing, micros)

    def acknowledge(self, request_id: str, loan_id: str | None, code: str) -> None:
        """Record a loan acknowledged to a client (the no-lost-loans invariant's input)."""
        self._acks.append({"request_id": request_id, "loan_id": loan_id, "code": code,
                           "t": round(self.now(), 6), "worker": self.worker})

    # ------------------------------------------------------------ draining
    def drain(self, final: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Records of the finished seconds (all of them when `final`) and new acks."""
        current = int(self.now())
        done = sorted(s for s in self._seconds if final or s < current)
        records = []
        for s in done:
            endpoints = self._seconds.pop(s)
            record = {"v": RECORD_VERSION, "worker": self.worker, "second": s,
                      "endpoints": {name: b.to_json() for name, b in endpoints.items()}}
            instances = self._instances.pop(s, None)
            if instances:
                record["instances"] = {name: b.to_json() for name, b in instances.items()}
            records.append(record)
        acks, self._acks = self._acks, []
        return records, acks


def _count(seconds: dict[int, dict[str, _Bucket]], second: int, key: str, cls: str, code: str,
           missing: bool, micros: int) -> None:
    buckets = seconds.get(second)
    if buckets is None:
        buckets = seconds[second] = {}
    bucket = buckets.get(key)
    if bucket is None:
        bucket = buckets[key] = _Bucket()
    bucket.n += 1
    bucket.classes[cls] += 1
    codes = bucket.codes
    codes[code] = codes.get(code, 0) + 1
    if missing:
        bucket.retry_after_missing += 1
    bucket.hist.record(micros)
