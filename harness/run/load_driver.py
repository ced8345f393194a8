"""The orchestrator's handle on the Locust load process.

Locust runs with gevent in its own process (`python -m harness.load`); this
side only writes its config, starts and stops it, and tails the metrics and
acknowledgement files it writes, so no gevent code ever enters the asyncio
orchestrator.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.load.config import DEFAULT_REQUEST_TIMEOUT_S


class LoadDriver:
    def __init__(self, plan: Any, rt: Any, run_dir: Path, extra_time: float = 30.0,
                 master_bind: str | None = None, master_port: int | None = None) -> None:
        self.plan = plan
        self.rt = rt
        self.dir = run_dir / "load"
        self.dir.mkdir(parents=True, exist_ok=True)
        scenario, stack = plan.scenario, plan.stack
        load = scenario.load
        stack_load = getattr(stack, "load", None)
        locustfile = _resolve(load.locustfile, scenario.source.parent if scenario.source else None) or (
            _resolve(stack_load.locustfile, stack.stack_dir) if stack_load else None)
        if locustfile is None:
            raise HarnessError(f"stack {stack.name} names no locustfile and the scenario gives none")
        user_classes = getattr(load, "user_classes", None) or (getattr(stack_load, "user_classes", None) if stack_load else None)
        classes = stack.classification.classes
        self.config = {
            "hosts": rt.entry_urls,
            "host_names": rt.entry_names,
            "locustfile": str(locustfile),
            "user_classes": user_classes,
            "users": load.users,
            "spawn_rate": load.spawn_rate,
            "stages": [s.model_dump(mode="json") for s in (load.stages or [])] or None,
            "processes": getattr(load, "processes", 0) or 0,
            "pacing": getattr(load, "pacing", None),
            "metrics_path": str(self.dir / "metrics.jsonl"),
            "acks_path": str(self.dir / "acks.jsonl"),
            "control_path": str(self.dir / "control.jsonl"),
            "classification": {
                "field": stack.classification.field,
                "classes": {k: list(v) for k, v in _classes_dict(classes).items()},
            },
            "retryable_codes": _retryable(stack),
            "request_timeout_s": getattr(load, "request_timeout", None) or DEFAULT_REQUEST_TIMEOUT_S,
            "run_time_s": plan.duration + extra_time + self.ramp_seconds(load) + 5,
        }
        workers = getattr(load, "workers", 0) or 0
        if workers:
            # Remote workers (`chaosdrill worker --master HOST:PORT`) must reach the master:
            # it listens on another address only when the user says so (--master-bind).
            self.config.update(expect_workers=workers, processes=self.config["processes"],
                               master_bind_host=master_bind or "127.0.0.1")
            if master_port:
                self.config["master_port"] = master_port
            self.config["run_time_s"] += 30  # workers may take a while to join
        self.config_path = self.dir / "config.json"
        self.config_path.write_text(json.dumps(self.config, indent=1))
        self.log_path = self.dir / "locust.log"
        self.popen: subprocess.Popen | None = None
        self._tail = None

    @staticmethod
    def ramp_seconds(load: Any = None) -> float:
        return 0.0 if load is None else float(load.users) / max(float(load.spawn_rate), 1e-9)

    def describe(self) -> str:
        c = self.config
        procs = f", {c['processes']} worker processes" if c["processes"] else ""
        if c.get("expect_workers"):
            procs += f", waiting for {c['expect_workers']} remote worker(s) on {c['master_bind_host']}"
        return f"{c['users']} users at {c['spawn_rate']:g}/s on {', '.join(c['hosts'])} ({c['locustfile']}{procs})"

    def start(self) -> None:
        from harness.load.stream import MetricsTail

        log = open(self.log_path, "ab", buffering=0)
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "harness.load", "--config", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._tail = MetricsTail(self.config["metrics_path"])

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def failure_text(self) -> str:
        code = self.popen.poll() if self.popen else None
        try:
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
        except OSError:
            tail = []
        return f"exit code {code}" + (f"; {self.log_path} ends: {' | '.join(tail)}" if tail else "")

    def set_users(self, users: int, spawn_rate: float | None = None) -> None:
        """Change the load live (the load process watches this file)."""
        msg = {"users": int(users)}
        if spawn_rate is not None:
            msg["spawn_rate"] = float(spawn_rate)
        with open(self.config["control_path"], "a") as f:
            f.write(json.dumps(msg) + "\n")

    def poll(self, final: bool = False) -> list[dict]:
        if self._tail is None:
            return []
        return self._tail.poll()

    def started_at(self) -> float | None:
        """When the load process started its users (and its stage clock), by its own event."""
        if self._tail is None:
            return None
        return next((float(e["t"]) for e in self._tail.events if e.get("event") == "load_started"), None)

    def take_events(self) -> list[dict]:
        """Event lines of the load (worker_lost, users_changed, ...) since the last call."""
        return self._tail.take_events() if self._tail is not None else []

    def take_cpu(self) -> list[dict]:
        """Each load process's CPU share per second ({"process", "t" (unix second), "share"}) since the last call."""
        return self._tail.take_cpu() if self._tail is not None else []

    def stop(self, grace: float = 10.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            import os

            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)

    def acknowledgements(self) -> list[dict]:
        path = Path(self.config["acks_path"])
        out = []
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue  # a line cut by a kill
        return out

    def acknowledged_count(self) -> int:
        return len(self.acknowledgements())


def _resolve(locustfile: str | None, base: Path | None) -> str | None:
    """A locustfile path relative to the file that names it; builtin:NAME as is."""
    if not locustfile or locustfile.startswith("builtin:"):
        return locustfile
    path = Path(locustfile)
    if not path.is_absolute() and base is not None:
        path = base / path
    return str(path.resolve())


def _classes_dict(classes: Any) -> dict[str, list[str]]:
    if isinstance(classes, dict):
        return classes
    return classes.model_dump()


def _retryable(stack: Any) -> list[str]:
    """Codes that must carry Retry-After: as the stack says, else every degraded code."""
    retry = stack.classification.retry_after_required
    return list(retry) if retry is not None else list(stack.classification.classes.degraded)
