"""What a run leaves on the machine, written down before it is created.

Each run (drill, game day, `stack up`) keeps a small JSON file listing its
processes (with kernel start times, so a reused pid is never killed), its
fault proxy server and the proxies it made. The file goes when the run ends
cleanly; a file whose owner is dead marks a killed run, and `chaosdrill
cleanup` (or the next run) ends what it lists (harness.stack.cleanup).
This module only keeps the record: it knows no backend.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.stack.processes import pid_alive, process_start_time


def state_root() -> Path:
    root = os.environ.get("CHAOSDRILL_STATE_DIR")
    path = Path(root) if root else Path(tempfile.gettempdir()) / f"chaosdrill-{os.getuid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


class RunState:
    """The on-disk record of one live run."""

    def __init__(self, run_id: str, kind: str = "run", path: Path | None = None) -> None:
        self.path = path or state_root() / f"{run_id}.json"
        self.data: dict[str, Any] = {
            "run_id": run_id,
            "kind": kind,
            "owner": {"pid": os.getpid(), "start_time": process_start_time(os.getpid())},
            "created": time.time(),
            "state_dir": None,
            "processes": [],
            "fault_proxy": None,
            "proxies": [],
            "process_faults": [],
            "lease_ttl": 3.0,
        }

    @classmethod
    def load(cls, path: Path) -> "RunState":
        st = cls.__new__(cls)
        st.path = path
        st.data = json.loads(path.read_text())
        return st

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1))
        os.replace(tmp, self.path)

    def add_process(self, name: str, pid: int) -> None:
        self.data["processes"] = [p for p in self.data["processes"] if p["name"] != name]
        self.data["processes"].append({"name": name, "pid": pid, "start_time": process_start_time(pid)})
        self.save()

    def set_fault_proxy(self, url: str, pid: int | None) -> None:
        self.data["fault_proxy"] = {
            "url": url,
            "pid": pid,
            "start_time": process_start_time(pid) if pid else None,
        }
        self.save()

    def add_proxy(self, name: str) -> None:
        if name not in self.data["proxies"]:
            self.data["proxies"].append(name)
            self.save()

    def heartbeat(self) -> None:
        """Renew the run's leases: the watchdog reads the file's mtime."""
        try:
            os.utime(self.path)
        except FileNotFoundError:
            pass  # the run has ended and removed its record

    def lease_process_fault(self, fault_id: str, kind: str, instance: Any, restart: bool) -> None:
        """Record a process fault so the watchdog can end it if the runner dies."""
        self.data["process_faults"] = [f for f in self.data["process_faults"] if f["id"] != fault_id]
        self.data["process_faults"].append({
            "id": fault_id, "kind": kind, "name": instance.name, "pid": instance.pid,
            "start_time": process_start_time(instance.pid) if instance.pid else None,
            "restart": restart, "argv": instance.argv, "env": instance.env,
            "log": str(instance.log_path),
        })
        self.save()

    def release_process_fault(self, fault_id: str) -> None:
        before = len(self.data["process_faults"])
        self.data["process_faults"] = [f for f in self.data["process_faults"] if f["id"] != fault_id]
        if len(self.data["process_faults"]) != before:
            self.save()

    def remove(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    @property
    def owner_alive(self) -> bool:
        owner = self.data.get("owner", {})
        return pid_alive(owner.get("pid", -1), owner.get("start_time"))


def stale_runs() -> list[RunState]:
    """Runs whose owner process is gone."""
    out = []
    for path in sorted(state_root().glob("*.json")):
        try:
            st = RunState.load(path)
        except (OSError, ValueError):
            continue
        if not st.owner_alive:
            out.append(st)
    return out
