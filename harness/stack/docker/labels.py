"""Labels and names: what marks a run's containers, network and volume on the engine, and whose they are."""

from __future__ import annotations

import os
import re
import secrets
import socket

from harness.stack.processes import pid_alive, process_start_time
from harness.state import RunState

LABEL_RUN = "chaosdrill.run"
LABEL_OWNER = "chaosdrill.owner"  # "hostname:pid:start_time" of the runner
LABEL_ROLE = "chaosdrill.role"  # "service" | "fault-proxy" | "network" | "state"
LABEL_INSTANCE = "chaosdrill.instance"

DNS_LABEL_MAX = 63


def owner_label() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{process_start_time(pid)}"


def owner_alive(label: str) -> bool | None:
    """True/False for an owner on this host; None when it ran elsewhere (we cannot tell)."""
    try:
        host, pid, start = label.rsplit(":", 2)
        pid_n = int(pid)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    return pid_alive(pid_n, int(start) if start.isdigit() else None)


def run_label_for(state: RunState | None) -> str:
    raw = str(state.data.get("run_id")) if state else ""
    safe = re.sub(r"[^a-zA-Z0-9_.-]+", "-", raw).strip("-.")[:40]
    return f"{safe}-{secrets.token_hex(3)}" if safe else secrets.token_hex(6)


class RunNames:
    """The names and labels of one run's things on the engine."""

    def __init__(self, run_label: str, owner: str) -> None:
        self.run_label = run_label
        self.owner = owner
        self.network = f"chaosdrill-{run_label}"
        self.volume = f"chaosdrill-{run_label}-state"
        self._aliases: set[str] = set()

    def labels(self, role: str, **extra: str) -> dict[str, str]:
        return {LABEL_RUN: self.run_label, LABEL_OWNER: self.owner, LABEL_ROLE: role, **extra}

    def container_name(self, what: str) -> str:
        return re.sub(r"[^a-zA-Z0-9_.-]+", "-", f"cd-{self.run_label}-{what}")

    def dns_alias(self, what: str) -> str:
        """A name other containers resolve: one DNS label (<= 63 of a-z, 0-9, '-').

        Container names carry the run id to be unique on the engine and can be
        longer than a DNS label, and then no container can resolve them (a
        gateway's name was 71 characters and lending could not reach it).
        Aliases only need to be unique on the run's own network."""
        base = re.sub(r"[^a-z0-9-]+", "-", what.lower()).strip("-")[:DNS_LABEL_MAX] or "svc"
        alias, n = base, 1
        while alias in self._aliases:
            n += 1
            alias = f"{base[:DNS_LABEL_MAX - len(str(n)) - 1]}-{n}"
        self._aliases.add(alias)
        return alias
