"""Start the built-in fault proxy server, or use one the user points at.

TOXIPROXY_URL (or the stack's fault_proxy.url) selects an external server,
the built-in one or a real Toxiproxy; otherwise the runner starts the
built-in server as its own process on a free loopback port.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError

_READY = re.compile(rb"listening on (http://[0-9.:\[\]a-z]+)")


@dataclass
class FaultProxyServer:
    url: str
    popen: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def external(self) -> bool:
        return self.popen is None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=3)


def external_url(configured: str | None = None) -> str | None:
    return os.environ.get("TOXIPROXY_URL") or configured


def start_builtin(log_path: Path, timeout: float = 15.0, extra_args: list[str] | None = None) -> FaultProxyServer:
    """Run `python -m harness.proxy --port 0` and wait for its ready line."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab", buffering=0)
    popen = subprocess.Popen(
        [sys.executable, "-m", "harness.proxy", "--host", "127.0.0.1", "--port", "0", *(extra_args or [])],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + timeout
    seen = b""
    assert popen.stdout is not None
    fd = popen.stdout.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
            m = _READY.search(seen)
            if m:
                # Keep draining stdout into the log so the server never blocks on a full pipe.
                _drain_to(popen, log_path)
                return FaultProxyServer(url=m.group(1).decode(), popen=popen)
        elif popen.poll() is not None:
            break
    popen.kill()
    popen.wait()
    detail = log_path.read_text(errors="replace").strip().splitlines()[-1:] if log_path.exists() else []
    raise HarnessError(
        "the built-in fault proxy server did not start"
        + (f": {detail[0]}" if detail else f" within {timeout:.0f}s")
    )


def _drain_to(popen: subprocess.Popen, log_path: Path) -> None:
    import threading

    def pump() -> None:
        with open(log_path, "ab") as out:
            for line in popen.stdout:  # type: ignore[union-attr]
                out.write(line)
                out.flush()

    threading.Thread(target=pump, name="fault-proxy-stdout", daemon=True).start()
