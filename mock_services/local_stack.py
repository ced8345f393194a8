"""Start mock services directly as subprocesses (no fault proxy), for tests and benchmarks.

The harness's stack runtime wires every edge through the fault proxy; tests
of the services themselves and the throughput benchmark need the services
alone, started fast on free ports and always stopped. Each service is told
`--port 0` and reports the port it got on its first stdout line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

MODULES = {"bureau": "mock_services.credit_bureau", "gateway": "mock_services.payment_gateway",
           "lending": "mock_services.lending"}


@dataclass
class Service:
    name: str
    kind: str
    args: list[str]
    log_path: Path
    process: subprocess.Popen | None = None
    port: int = 0
    log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 10.0) -> "Service":
        """Start (or restart on the same port when it had one) and wait for /healthz."""
        return self.launch().ready(timeout)

    def launch(self) -> "Service":
        """Spawn the process without waiting (start several at once, then `ready`)."""
        port = str(self.port)
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", MODULES[self.kind], "--host", "127.0.0.1", "--port", port, *self.args],
            stdout=subprocess.PIPE, stderr=self.log, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        return self

    def ready(self, timeout: float = 10.0) -> "Service":
        """Wait for the `listening on` line and a healthy /healthz."""
        assert self.process is not None and self.process.stdout is not None
        line = self.process.stdout.readline().decode()
        if "listening on http://127.0.0.1:" not in line:
            self.process.wait(timeout=timeout)
            raise RuntimeError(f"{self.name} did not start: {self.log_path.read_text()[-2000:]}")
        self.port = int(line.rsplit(":", 1)[1])
        wait_healthy(self.url, timeout)
        return self

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL and reap (a crash, no chance to clean up)."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self._close()

    def stop(self, timeout: float = 5.0) -> None:
        """SIGCONT (in case it was stopped), SIGTERM, SIGKILL after `timeout`."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.kill(self.process.pid, signal.SIGCONT)
                self.process.terminate()
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            except ProcessLookupError:  # pragma: no cover - exited in between
                pass
        self._close()

    def _close(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        if self.log is not None:
            self.log.close()
            self.log = None


def wait_healthy(url: str, timeout: float = 10.0) -> None:
    until = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > until:
            raise RuntimeError(f"{url}/healthz not healthy within {timeout}s")
        time.sleep(0.02)


class LocalStack:
    """Two bureau replicas, primary and backup gateways, and N lending instances on one db."""

    def __init__(self, workdir: Path, lending_args: list[str] | None = None, lending_instances: int = 1,
                 bureau_args: list[str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.lending_args = list(lending_args or [])
        self.bureau_args = list(bureau_args or [])
        self.lending_count = lending_instances
        self.services: dict[str, Service] = {}

    def _service(self, name: str, kind: str, args: list[str]) -> Service:
        service = Service(name, kind, args, self.workdir / f"{name}.log")
        self.services[name] = service
        return service

    def start(self, bureau_urls: list[str] | None = None, primary_url: str | None = None,
              backup_url: str | None = None) -> "LocalStack":
        """Start everything; the *_url arguments redirect lending (e.g. through a relay)."""
        self.start_dependencies()
        return self.start_lending(bureau_urls, primary_url, backup_url)

    def start_dependencies(self) -> "LocalStack":
        """The bureau replicas and the gateways, started side by side."""
        try:
            for replica in ("a", "b"):
                name = f"credit-bureau-{replica}"
                self._service(name, "bureau", ["--db", str(self.workdir / f"{name}.db"), "--name", name,
                                               *self.bureau_args]).launch()
            for role in ("primary", "backup"):
                name = f"payment-gateway-{role}"
                self._service(name, "gateway", ["--db", str(self.workdir / f"{name}.db"), "--name", role]).launch()
            for service in list(self.services.values()):
                service.ready()
        except BaseException:
            self.stop()
            raise
        return self

    def start_lending(self, bureau_urls: list[str] | None = None, primary_url: str | None = None,
                      backup_url: str | None = None) -> "LocalStack":
        """The lending instances, on one shared database, pointed at the dependencies or the given URLs."""
        try:
            bureaus = bureau_urls or [self.bureau("a").url, self.bureau("b").url]
            started = []
            for index in range(self.lending_count):
                name = "lending" if index == 0 else f"lending-{index + 1}"
                args = ["--db", str(self.workdir / "lending.db"), "--instance-id", name,
                        "--gateway-primary-url", primary_url or self.gateway("primary").url,
                        "--gateway-backup-url", backup_url or self.gateway("backup").url, *self.lending_args]
                for url in bureaus:
                    args += ["--bureau-url", url]
                started.append(self._service(name, "lending", args).launch())
            for service in started:
                service.ready()
        except BaseException:
            self.stop()
            raise
        return self

    def bureau(self, replica: str) -> Service:
        return self.services[f"credit-bureau-{replica}"]

    def gateway(self, role: str) -> Service:
        return self.services[f"payment-gateway-{role}"]

    def lending(self, index: int = 0) -> Service:
        return self.services["lending" if index == 0 else f"lending-{index + 1}"]

    def stop(self) -> None:
        """Ask every service to stop at once, then reap each (SIGKILL after 5 s)."""
        services = list(self.services.values())
        for service in services:
            service.signal(signal.SIGCONT)
            service.signal(signal.SIGTERM)
        for service in services:
            service.stop()
