"""Start the built-in fault proxy server, or use one the user points at.

TOXIPROXY_URL (or the stack's fault_proxy.url) selects an external server,
the built-in one or a real Toxiproxy; otherwise the runner starts the
built-in server as its own process on a free loopback port.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError, UsageError
from harness.proxy.process import ProxyServerProcess, start_proxy_server


@dataclass
class FaultProxyServer:
    url: str
    handle: ProxyServerProcess | None = None  # None: a server this run did not start

    @property
    def external(self) -> bool:
        return self.handle is None

    @property
    def pid(self) -> int | None:
        return self.handle.pid if self.handle else None

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.stop(timeout=3)


def external_url(configured: str | None = None) -> str | None:
    return os.environ.get("TOXIPROXY_URL") or configured


def start_builtin(log_path: Path, timeout: float = 15.0) -> FaultProxyServer:
    """Run the built-in server on a free port, in its own session, and wait until it answers."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = start_proxy_server(port=0, log=log_path, timeout=timeout, new_session=True)
    except UsageError as exc:  # port 0 and no config: only the machine can be at fault
        raise HarnessError(f"the built-in fault proxy server did not start: {exc}") from None
    return FaultProxyServer(url=handle.url, handle=handle)
