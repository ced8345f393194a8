"""The metrics stream between the load process and the orchestrator.

The load process appends one JSON line per (worker, second) to a file:
    {"v": 1, "worker": "<id>", "second": <unix int>,
     "endpoints": {"<name>": <series.Stats JSON>},
     "instances": {"<entry instance, e.g. lending#1>": <series.Stats JSON>}}  (when known)
each load process's CPU share of a core over each second (harness/load/cpu.py):
    {"v": 1, "cpu": {"process": "<id>", "t": <unix int>, "share": 0.97}}
and, in distributed mode, event lines such as
    {"v": 1, "event": "worker_lost", "worker": "<id>", "t": <unix float>, "detail": "..."}
A (worker, second) pair may appear in more than one line (a late request
after a clock re-sync, the final flush): readers add them up, never replace.

Pure Python (no gevent): the asyncio orchestrator imports this module.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from harness.metrics.series import Second, Stats


class JsonlWriter:
    """Appends whole lines with one write each, so a reader never sees half a
    record unless the process dies mid-write (the tail skips such a line)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, records: Iterable[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        if data:
            os.write(self._fd, data.encode())

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class JsonlTail:
    """Reads the complete lines appended to a file since the last poll."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._offset = 0
        self._partial = b""

    def lines(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        data = self._partial + chunk
        *complete, self._partial = data.split(b"\n")
        out = []
        for line in complete:
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue  # a line cut by a killed writer
        return out


class MetricsTail:
    """The orchestrator's reader: `poll()` gives the new per-second records;
    event lines (worker_lost, ...) collect in `events` for the journal, and
    the load processes' CPU shares in `cpu`."""

    def __init__(self, path: str | Path) -> None:
        self._tail = JsonlTail(path)
        self.events: list[dict[str, Any]] = []
        self.cpu: list[dict[str, Any]] = []

    def poll(self) -> list[dict[str, Any]]:
        records = []
        for item in self._tail.lines():
            if "second" in item:
                records.append(item)
            elif "cpu" in item:
                self.cpu.append(item["cpu"])
            elif "event" in item:
                self.events.append(item)
        return records

    def take_events(self) -> list[dict[str, Any]]:
        out, self.events = self.events, []
        return out

    def take_cpu(self) -> list[dict[str, Any]]:
        out, self.cpu = self.cpu, []
        return out


class SecondMerger:
    """Merges records from any number of workers into one Second per second."""

    def __init__(self) -> None:
        self.seconds: dict[int, Second] = {}
        self.workers: set[str] = set()

    def add(self, record: dict[str, Any]) -> Second:
        t = int(record["second"])
        sec = self.seconds.get(t)
        if sec is None:
            sec = self.seconds[t] = Second(t=t, endpoints={})
        self.workers.add(str(record.get("worker", "")))
        for name, data in record.get("endpoints", {}).items():
            sec.add(name, Stats.from_json(data))
        for name, data in record.get("instances", {}).items():
            sec.add_instance(name, Stats.from_json(data))
        return sec

    def add_all(self, records: Iterable[dict[str, Any]]) -> None:
        for r in records:
            self.add(r)

    def ordered(self) -> list[Second]:
        return [self.seconds[t] for t in sorted(self.seconds)]


def read_acknowledgements(path: str | Path) -> list[dict[str, Any]]:
    """Every acknowledgement record written so far (a cut last line is skipped)."""
    return JsonlTail(path).lines()
