"""Service instances as OS processes: start, signal, restart, stop.

Each instance runs in its own session (process group) so a Ctrl-C on the
terminal reaches only the runner, which then stops everything in order, and
so stopping an instance also stops anything it spawned.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.schema.names import instance_name


def process_start_time(pid: int) -> int | None:
    """Kernel start time of `pid` (clock ticks since boot), to detect pid reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) may hold spaces, so split after ')'.
    return int(stat.rsplit(")", 1)[1].split()[19])


def pid_alive(pid: int, start_time: int | None = None) -> bool:
    current = process_start_time(pid)
    if current is None:
        return False
    if start_time is not None and current != start_time:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class InstanceAddress:
    """How every backend names an instance and reaches it from the host."""

    service: str
    index: int
    host: str
    port: int

    @property
    def name(self) -> str:
        return instance_name(self.service, self.index)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass
class Instance(InstanceAddress):
    """One running copy of a service."""

    service: str
    index: int
    host: str
    port: int
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    health_path: str | None = "/healthz"  # None: a TCP connection accepted is healthy
    popen: subprocess.Popen | None = field(default=None, repr=False)
    paused: bool = False

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab", buffering=0)
        try:
            self.popen = subprocess.Popen(
                self.argv,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise HarnessError(f"service {self.name}: cannot start {self.argv[0]!r}: {exc.strerror}") from None
        finally:
            log.close()
        self.paused = False

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def exit_code(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def signal(self, sig: int) -> None:
        if self.running():
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        self.signal(signal.SIGCONT)
        self.paused = False

    def kill(self) -> None:
        """SIGKILL, as a crash would: no chance to flush or say goodbye."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.paused = False

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM (continuing it first if paused), then SIGKILL after `grace`."""
        if not self.running():
            return
        if self.paused:
            self.resume()
        self.signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                break
            time.sleep(0.02)
        else:
            self.kill()
        # Reap the whole group, whatever the leader did.
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


@dataclass
class RunningService(Instance):
    """A service already running at an address (a stack's `address:`): chaosdrill reaches it,
    proxies links to it, and never starts, signals or stops it."""

    def start(self) -> None:
        self.paused = False

    def running(self) -> bool:
        return True

    def exit_code(self) -> int | None:
        return None

    def signal(self, sig: int) -> None:
        pass  # not ours to signal: scenarios refuse process faults on it before anything starts

    def stop(self, grace: float = 3.0) -> None:
        pass

    def log_tail(self, lines: int = 5) -> str:
        return ""
