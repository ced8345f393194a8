"""The journal of a run: everything that happened, as plain data.

Written by the execution as things happen and saved atomically at the end
(and on every exit path), in the format of docs/journal.md. Times are kept
as wall-clock while recording and turned into offsets from t0 (the moment
the load started) when the journal is written.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import UsageError

FORMAT = "chaosdrill-journal"
VERSION = 1


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def environment() -> dict[str, Any]:
    try:
        from importlib.metadata import version

        locust_version = version("locust")
    except Exception:
        locust_version = None
    return {
        "chaosdrill": __version__,
        "python": platform.python_version(),
        "locust": locust_version,
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "cpus": os.cpu_count(),
        "argv": sys.argv[1:],
    }


class Journal:
    """Accumulates a run's record; `to_dict` renders it in the documented format."""

    def __init__(self, run_id: str, scenario: dict[str, Any]) -> None:
        self.run_id = run_id
        self.scenario = scenario
        self.started = time.time()
        self.t0: float | None = None
        self.ended: float | None = None
        self.status = "error"  # until the timeline completes: "completed" or "aborted"
        self.exit_code = 3
        self.reason = ""
        self.environment = environment()
        self.stack: dict[str, Any] = {}
        self.phases: list[dict[str, Any]] = []
        self.faults: dict[str, dict[str, Any]] = {}
        self._events: list[tuple[float, str, str, dict]] = []
        self.metrics: list[dict[str, Any]] = []
        self._service_metrics: list[tuple[float, str, int, dict]] = []
        self._load_cpu: list[tuple[int, str, float]] = []  # (unix second, load process, CPU share of a core)
        self.strict_load = False  # --strict-load: a saturated load generator fails the drill
        self.expectations: list[dict[str, Any]] = []
        self.invariants: list[dict[str, Any]] = []
        self.leftovers: dict[str, Any] = {"checked": False}
        self.acknowledged = 0
        self.extra: dict[str, Any] = {}  # further top-level sections (e.g. "matrix")

    # ------------------------------------------------------------ recording
    def event(self, kind: str, message: str, data: dict | None = None, at: float | None = None) -> None:
        self._events.append((at if at is not None else time.time(), kind, message, data or {}))

    def offset(self, wall: float) -> float:
        return round(wall - (self.t0 if self.t0 is not None else self.started), 4)

    def fault_planned(self, fault_id: str, phase: str, target: dict, details: dict, label: str,
                      scheduled_at: float) -> None:
        self.faults[fault_id] = {
            "id": fault_id, "phase": phase, "target": target, **details, "label": label,
            "scheduled_at": round(scheduled_at, 4), "applied_at": None, "lag_ms": None,
            "removed_at": None, "result": None,
        }

    # The fault's own entry; its events come through the event bus (harness.run.fault_keeper).
    def fault_applied(self, fault_id: str, wall: float, lag_ms: float, result: str, ok: bool) -> None:
        f = self.faults[fault_id]
        f.update(applied_at=self.offset(wall), lag_ms=round(lag_ms, 2), result=result if ok else f"error: {result}")

    def fault_removed(self, fault_id: str, wall: float, result: str, ok: bool = True) -> None:
        f = self.faults[fault_id]
        f["removed_at"] = self.offset(wall)
        if not ok:
            f["result"] = f"{f.get('result')}; removal error: {result}"

    def service_sample(self, wall: float, service: str, instance: int, values: dict[str, float]) -> None:
        self._service_metrics.append((wall, service, instance, values))

    def add_load_cpu(self, samples: list[dict[str, Any]]) -> None:
        """The load processes' CPU shares ({"process", "t": unix second, "share"}) as the load wrote them."""
        self._load_cpu += [(int(s["t"]), str(s["process"]), float(s["share"])) for s in samples]

    # ------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        ended = self.ended or time.time()
        t0 = self.t0 if self.t0 is not None else self.started
        return {
            "format": FORMAT,
            "version": VERSION,
            "run_id": self.run_id,
            "status": self.status,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "started_at": iso(self.started),
            "ended_at": iso(ended),
            "t0": t0,
            "duration_s": round(ended - self.started, 2),
            "environment": self.environment,
            "scenario": self.scenario,
            "stack": self.stack,
            "phases": self.phases,
            "faults": list(self.faults.values()),
            "events": [
                {"t": round(w - t0, 4), "type": k, "message": m, "data": d}
                for w, k, m, d in sorted(self._events, key=lambda e: e[0])
            ],
            "metrics": self.metrics,
            "service_metrics": [
                {"t": round(w - t0, 3), "service": s, "instance": i, "values": v}  # when it was read, not its second
                for w, s, i, v in self._service_metrics
            ],
            "load_cpu": [{"t": int(round(sec - t0)), "process": p, "share": s} for sec, p, s in self._load_cpu],
            "expectations": self.expectations,
            "invariants": self.invariants,
            "acknowledged_loans": self.acknowledged,
            "leftovers": self.leftovers,
            **({"strict_load": True} if self.strict_load else {}),
            **self.extra,
        }

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), separators=(",", ":")))
        os.replace(tmp, path)
        return path


def read_journal(path: Path) -> dict[str, Any]:
    """The journal at `path`, or a UsageError naming what is wrong with it."""
    if path.is_dir():
        path = path / "journal.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such journal file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not a chaosdrill journal (not UTF-8 text: {exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f"{path}: not a chaosdrill journal (\"format\" is not \"chaosdrill-journal\")")
    if data.get("version") != VERSION:
        raise UsageError(f"{path}: journal version {data.get('version')!r} is not supported (expected {VERSION})")
    return data
