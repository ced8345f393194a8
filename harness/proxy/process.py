"""Starting the fault proxy server as a child process and learning its address.

The harness and the tests run the server in its own process (so it can be
killed and restarted like any service, and so its event loop never competes
with theirs); this finds the port it bound from its one ready line.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.errors import HarnessError, UsageError

READY_PREFIX = "chaosdrill proxy-server listening on "


class ProxyServerProcess:
    """A running `python -m harness.proxy`; `url` is its API base URL."""

    def __init__(self, process: subprocess.Popen, url: str, log: Path, own_log: bool) -> None:
        self.process = process
        self.url = url
        self.log = log  # the server's stderr (lease expiries, errors)
        self._own_log = own_log

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (listeners and connections closed), SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self._own_log:
            self.log.unlink(missing_ok=True)

    def __enter__(self) -> "ProxyServerProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_proxy_server(
    port: int = 0,
    host: str = "127.0.0.1",
    config: Path | None = None,
    allow_non_loopback: bool = False,
    log: Path | None = None,
    timeout: float = 10.0,
    new_session: bool = False,
) -> ProxyServerProcess:
    """Start the server and wait for its ready line.

    A failure to start (port in use, bad config) raises UsageError carrying
    the server's own one-line message; no answer in `timeout` raises HarnessError.
    """
    cmd = [sys.executable, "-m", "harness.proxy", "--host", host, "--port", str(port)]
    if config is not None:
        cmd += ["--config", str(config)]
    if allow_non_loopback:
        cmd.append("--allow-non-loopback")
    own_log = log is None
    if log is None:
        fd, name = tempfile.mkstemp(prefix="chaosdrill-proxy-", suffix=".log")
        os.close(fd)
        log = Path(name)
    with open(log, "ab") as stderr:
        # new_session: a Ctrl-C on the terminal reaches only the runner, which still
        # needs the server to remove its faults before stopping it.
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL,
                                   start_new_session=new_session)
    try:
        line = _read_line(process, timeout)
    except BaseException:
        # Ctrl-C (or anything else) while the server starts: it runs in its own
        # session, so nothing else would ever stop it.
        ProxyServerProcess(process, "", log, own_log).stop()
        raise
    if line.startswith(READY_PREFIX):
        return ProxyServerProcess(process, line[len(READY_PREFIX) :].strip(), log, own_log)
    server = ProxyServerProcess(process, "", log, own_log=False)
    server.stop()
    message = log.read_text(errors="replace").strip().splitlines()
    if own_log:
        log.unlink(missing_ok=True)
    if process.returncode == 2 and message:
        raise UsageError(message[-1].removeprefix("chaosdrill proxy-server: error: "))
    raise HarnessError(f"the fault proxy server did not start: {message[-1] if message else 'no output'}")


def _read_line(process: subprocess.Popen, timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return buffer.decode(errors="replace")
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            buffer += chunk
    return buffer.decode(errors="replace").split("\n", 1)[0]
