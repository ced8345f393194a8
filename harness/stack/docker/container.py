"""A service instance as a container: the same face as processes.Instance, acted on through the engine."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness.errors import HarnessError
from harness.stack.processes import InstanceAddress
from harness.stack.runtime import HOST

STATE_DIR_IN_CONTAINER = "/state"  # the run's volume, shared by its containers
SERVICE_PORT_DEFAULT = 8080  # a service's port inside its container when the stack gives none
STATE_TTL = 0.2  # seconds a container's inspected state is reused


@dataclass
class DockerInstance(InstanceAddress):
    """One service instance as a container; the same face as processes.Instance."""

    service: str
    index: int
    container_name: str
    alias: str  # its DNS name on the run network (container names can pass DNS's 63-character limit)
    container_port: int
    port: int  # published on 127.0.0.1
    image: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    health_path: str | None = "/healthz"  # None: a TCP connect
    entrypoint: list[str] | None = None  # None: the image's
    create_args: dict[str, Any] = field(default_factory=dict, repr=False)
    client: Any = field(default=None, repr=False)
    container: Any = field(default=None, repr=False)
    paused: bool = False
    host: str = HOST
    network: str = ""  # the run's network, where `address` is read
    on_moved: Callable[["DockerInstance"], None] | None = field(default=None, repr=False)
    address: str | None = None  # its IPv4 address on `network` while it runs
    _state_at: float = field(default=float("-inf"), repr=False)

    @property
    def internal_url(self) -> str:
        return f"http://{self.alias}:{self.container_port}"

    @property
    def id(self) -> str | None:
        return self.container.short_id if self.container is not None else None

    def _state(self) -> dict[str, Any]:
        """The container's state, fresh at most STATE_TTL old: samplers ask every second, per instance."""
        if self.container is None:
            return {}
        now = time.monotonic()
        if now - self._state_at > STATE_TTL:
            try:
                self.container.reload()
            except Exception:
                return {}
            self._state_at = now
        return self.container.attrs.get("State", {})

    def _changed(self) -> None:
        self._state_at = float("-inf")

    def refresh_address(self) -> None:
        """Read its address after it started or stopped, and say so (`on_moved`) when it changed.

        podman gives a container a new address each time it starts, so whatever
        reaches it by address must follow; a stopped container has none."""
        address = None
        self._changed()  # read the state as it is now
        if self.running():
            networks = self.container.attrs.get("NetworkSettings", {}).get("Networks") or {}
            address = (networks.get(self.network) or {}).get("IPAddress") or None
        if address != self.address:
            self.address = address
            if self.on_moved is not None:
                self.on_moved(self)

    @property
    def pid(self) -> int | None:
        """The container's main process as the host sees it (None when not running)."""
        return self._state().get("Pid") or None

    @property
    def status(self) -> str:
        return self._state().get("Status", "missing")

    def create(self) -> None:
        self.container = self.client.containers.create(
            self.image,
            command=self.argv or None,
            **({"entrypoint": self.entrypoint} if self.entrypoint is not None else {}),
            name=self.container_name,
            environment=self.env,
            ports={f"{self.container_port}/tcp": (HOST, self.port)},
            **self.create_args,
        )
        self._changed()

    def start(self) -> None:
        if self.container is None:
            self.create()
        status = self.status
        if status == "paused":
            self.container.unpause()
        elif status != "running":
            self.container.start()
        self._changed()
        self.paused = False
        self.refresh_address()

    def running(self) -> bool:
        return self.status in ("running", "paused")

    def exit_code(self) -> int | None:
        state = self._state()
        if not state or state.get("Status") in ("running", "paused", "created", "restarting"):
            return None
        return int(state.get("ExitCode", -1))

    def kill(self) -> None:
        """SIGKILL to the whole container, as a crash would."""
        if self.running():
            try:
                self.container.kill(signal="SIGKILL")
                self.container.wait(timeout=10)
            except Exception as exc:
                self._changed()
                if self.running():
                    raise HarnessError(f"container {self.container_name}: kill failed: {exc}") from None
        self._changed()
        self.paused = False
        self.refresh_address()

    def pause(self) -> None:
        """Freeze every process of the container (cgroup freezer): connections stay open, nothing answers."""
        if self.status == "running":
            self.container.pause()
        self._changed()
        self.paused = True

    def resume(self) -> None:
        if self.status == "paused":
            self.container.unpause()
        self._changed()
        self.paused = False

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM, SIGKILL after `grace` (unpausing first, or the signal waits)."""
        if self.status == "paused":
            self.container.unpause()
        self._changed()
        if self.running():
            self.container.stop(timeout=max(1, int(round(grace))))
        self._changed()
        self.paused = False
        self.refresh_address()

    def restart(self, grace: float = 3.0) -> None:
        if self.status == "paused":
            self.container.unpause()
        self.container.restart(timeout=max(1, int(round(grace))))
        self._changed()
        self.paused = False
        self.refresh_address()

    def logs(self) -> bytes:
        if self.container is None:
            return b""
        try:
            return self.container.logs(stdout=True, stderr=True)
        except Exception:
            return b""

    def save_log(self) -> None:
        """Keep the container's output in `log_path`, before the container is removed."""
        if self.container is None:
            return
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self.log_path.write_bytes(self.logs())
        except OSError:
            pass

    def log_tail(self, lines: int = 5) -> str:
        text = self.logs().decode(errors="replace").strip()
        return "\n".join(text.splitlines()[-lines:])
