"""The Locust master of a distributed load (config `processes: N`).

It runs no users: it starts N local worker processes (remote ones may join
with `chaosdrill worker --master HOST:PORT`), hands each worker the config
and its clock, drives the user count, and appends every worker's
per-second records and acknowledgements to the stream files as they come.
A worker that stops answering heartbeats is written to the stream as a
`worker_lost` event.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from typing import Any

import gevent
from locust.env import Environment
from locust.rpc import Message
from locust.runners import STATE_MISSING

from harness.errors import HarnessError
from harness.load import protocol
from harness.load.config import LoadConfig
from harness.load.cpu import CpuMeter
from harness.load.lifecycle import every_second, follow_schedule, stop_on_signals
from harness.load.schedule import LoadSchedule
from harness.load.standalone import StreamFiles
from harness.load.users import locustfile_source, prepare_user_classes, stop_timeout

log = logging.getLogger("chaosdrill.load")


def _set_parent_death_signal() -> None:
    """Local workers die with the master even when it is SIGKILLed."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Master:
    def __init__(self, config: LoadConfig) -> None:
        self.config = config
        self.files = StreamFiles(config)
        classes = prepare_user_classes(config)
        self.env = Environment(user_classes=classes, stop_timeout=stop_timeout(config))
        self.runner = self.env.create_master_runner(master_bind_host=config.master_bind_host,
                                                       master_bind_port=config.master_port)
        self.port: int = self.runner.server.port
        self.source = locustfile_source(config.locustfile)
        self.finals: set[str] = set()
        self.workers: dict[str, str] = {}  # locust client id -> chaosdrill worker id
        self.lost: set[str] = set()
        self.popens: list[subprocess.Popen] = []
        r = self.runner
        r.register_message(protocol.HELLO, self._on_hello)
        r.register_message(protocol.PING, self._on_ping)
        r.register_message(protocol.METRICS, self._on_metrics)

    # ------------------------------------------------------------ messages
    def _on_hello(self, environment: Any, msg: Any) -> None:
        self.runner.send_message(protocol.CONFIG, {
            "config": self.config.to_json(), "locustfile_source": self.source,
            "t0": msg.data.get("t0"), "master_t": time.time()}, client_id=msg.node_id)

    def _on_ping(self, environment: Any, msg: Any) -> None:
        self.runner.send_message(protocol.PONG, {"t0": msg.data.get("t0"), "master_t": time.time()},
                                 client_id=msg.node_id)

    def _on_metrics(self, environment: Any, msg: Any) -> None:
        data = msg.data
        self.workers[msg.node_id] = data.get("worker", msg.node_id)
        self.files.write(data.get("records", []), data.get("acks", []))
        if data.get("final"):
            self.finals.add(msg.node_id)

    # ------------------------------------------------------------ workers
    def start_local_workers(self, n: int) -> None:
        cmd = [sys.executable, "-m", "harness.load", "--worker", "--master", f"127.0.0.1:{self.port}"]
        for _ in range(n):
            self.popens.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, preexec_fn=_set_parent_death_signal))

    def wait_for_workers(self, n: int, stop: Any) -> None:
        wait_s = self.config.worker_join_timeout_s
        deadline = time.monotonic() + wait_s
        while self.runner.worker_count < n:
            if stop.is_set():
                return
            dead = [p.pid for p in self.popens if p.poll() is not None]
            if dead:
                raise HarnessError(f"load worker process(es) {dead} exited before joining the master")
            if time.monotonic() > deadline:
                raise HarnessError(f"only {self.runner.worker_count} of {n} load workers joined the master "
                                   f"on {self.config.master_bind_host}:{self.port} within {wait_s:g} s")
            gevent.sleep(0.05)
        log.info("%d workers joined", self.runner.worker_count)

    def _name(self, client_id: str) -> str:
        return self.workers.get(client_id, client_id)

    def check_lost(self) -> None:
        """One worker_lost event per worker that went away before sending its
        final batch, whichever sign comes first."""
        done = {self._name(c) for c in self.finals}
        for client in list(self.runner.clients.values()):
            if client.state == STATE_MISSING and client.id not in self.finals:
                self._lost(self._name(client.id), "missed heartbeats")
        for p in self.popens:
            if p.poll() is not None:
                names = [n for n in self.workers.values() if n.endswith(f":{p.pid}")]
                name = names[0] if names else f"pid:{p.pid}"
                if name not in done:
                    self._lost(name, f"local worker process exited with {p.returncode}")

    def _lost(self, name: str, detail: str) -> None:
        if name not in self.lost:
            self.lost.add(name)
            self._event("worker_lost", name, detail)

    def _event(self, kind: str, worker: str, detail: str, **extra: Any) -> None:
        log.log(logging.INFO if kind == "master_listening" else logging.WARNING, "%s: %s (%s)", kind, worker, detail)
        self.files.event(kind, worker, detail=detail, **extra)

    # ------------------------------------------------------------ run
    def run(self, stop: Any) -> int:
        config = self.config
        schedule = LoadSchedule(config)
        self._event("master_listening", "master", f"{config.master_bind_host}:{self.port}", port=self.port)
        cpu = CpuMeter("master")  # the master is a load process too: it may be what saturates
        meter = every_second(lambda: self.files.write([cpu.record()], []))
        try:
            self.start_local_workers(config.processes)
            self.wait_for_workers(config.processes + config.expect_workers, stop)
            if not stop.is_set():
                self.runner.start(schedule.initial.users, schedule.initial.spawn_rate)
                self.files.event("load_started", "master", users=schedule.initial.users,
                                 spawn_rate=schedule.initial.spawn_rate, workers=self.runner.worker_count)
                why = follow_schedule(self.runner, schedule, stop, config.run_time_s, tick=self.check_lost,
                                      on_change=lambda t: self.files.event("users_changed", "master", users=t.users,
                                                                           spawn_rate=t.spawn_rate))
                self.files.event("load_stopping", "master", reason=why)
            self.check_lost()
            expected = {c.id for c in self.runner.clients.values()
                        if c.state != STATE_MISSING and self._name(c.id) not in self.lost}
            # Locust's own "stop" parks each worker for stop_timeout before it
            # listens again; "quit" stops users gracefully (in-flight tasks
            # finish), fires test_stop (the worker's final flush) and exits.
            for client_id in expected:
                self.runner.server.send_to_client(Message("quit", None, client_id))
            deadline = time.monotonic() + stop_timeout(config) + 5.0
            while not expected <= self.finals and time.monotonic() < deadline:
                gevent.sleep(0.05)
            missing = expected - self.finals
            if missing:
                log.warning("no final metrics from %s", ", ".join(sorted(missing)))
        finally:
            meter.kill()
            self.runner.quit()
            self._reap_workers()
            self.files.close()
        return 0

    def _reap_workers(self) -> None:
        deadline = time.monotonic() + 5.0
        for p in self.popens:
            while p.poll() is None and time.monotonic() < deadline:
                gevent.sleep(0.05)
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def run_master(config: LoadConfig) -> int:
    stop = stop_on_signals()
    return Master(config).run(stop)
