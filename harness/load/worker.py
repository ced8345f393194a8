"""A Locust worker of a distributed load: local (started by the master) or
on another machine (`chaosdrill worker --master HOST[:PORT]`).

It first asks the master for the run's config (and locustfile text) on a
throw-away connection, so a remote worker needs nothing but the address;
it then joins as an ordinary Locust worker, measures its clock offset from
the master every few seconds, and sends its exact per-second records and
acknowledgements to the master once a second, keyed on the master's clock.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import sys
import time
import uuid
from typing import Any

import gevent
from locust.env import Environment
from locust.rpc import Message, rpc

from harness.errors import HarnessError
from harness.load import acks, protocol
from harness.load.buckets import MetricsCollector
from harness.load.clock import ClockSync
from harness.load.config import LoadConfig, parse_config
from harness.load.cpu import CpuMeter
from harness.load.lifecycle import StopEvent, every_second, stop_on_signals
from harness.load.standalone import classifier_for
from harness.load.users import materialise_locustfile, prepare_user_classes

log = logging.getLogger("chaosdrill.load")
CONFIG_TIMEOUT_S = 30.0


def fetch_config(host: str, port: int, sync: ClockSync, stop: StopEvent) -> tuple[LoadConfig, str] | None:
    """The master's config and a local path to its locustfile; None when a
    signal came first."""
    ident = f"chaosdrill-hello-{uuid.uuid4().hex}"
    client = rpc.Client(host, port, ident)
    reply = None
    try:
        t0 = time.time()
        client.send(Message(protocol.HELLO, {"t0": t0}, ident))
        reply = gevent.spawn(_config_reply, client)
        gevent.wait([reply, stop], timeout=CONFIG_TIMEOUT_S, count=1)
        if stop.is_set():
            return None
        if not reply.ready():
            raise HarnessError(f"the load master at {host}:{port} sent no config within {CONFIG_TIMEOUT_S:.0f} s")
        msg = reply.get()
        sync.add(t0, msg.data["master_t"], time.time())
    finally:
        if reply is not None:
            reply.kill()
        client.close(linger=0)
    config = parse_config(msg.data["config"])
    return config, materialise_locustfile(config.locustfile, msg.data.get("locustfile_source"))


def _config_reply(client: Any) -> Message:
    while True:
        msg = client.recv()
        if msg.type == protocol.CONFIG:
            return msg


class Worker:
    def __init__(self, host: str, port: int, fetched: tuple[LoadConfig, str], sync: ClockSync,
                 name: str | None = None) -> None:
        self.sync = sync
        self.config, locustfile = fetched
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        classes = prepare_user_classes(self.config, locustfile, first_user=random.randrange(1 << 16))
        self.collector = MetricsCollector(classifier_for(self.config), self.name, targets=self.config.targets())
        self.collector.clock_offset = self.sync.offset
        self.cpu = CpuMeter(self.name, self.collector.now)
        acks.install(self.collector)
        self.env = Environment(user_classes=classes)
        self.env.events.request.add_listener(self.collector.on_request)
        self.env.events.test_stop.add_listener(lambda **_: self.send(final=True))
        self.runner = self.env.create_worker_runner(host, port)
        self.runner.register_message(protocol.PONG, self._on_pong)
        log.info("worker %s joined %s:%d (clock offset %+.4f s, rtt %.4f s)", self.name, host, port,
                 self.sync.offset, self.sync.rtt)

    def _on_pong(self, environment: Any, msg: Any) -> None:
        self.collector.clock_offset = self.sync.add(msg.data["t0"], msg.data["master_t"], time.time())

    def send(self, final: bool = False) -> None:
        records, acknowledgements = self.collector.drain(final=final)
        if not final:  # sent each second: how busy this worker was over it
            records.append(self.cpu.record())
        if records or acknowledgements or final:
            self.runner.send_message(protocol.METRICS, {"worker": self.name, "records": records,
                                                        "acks": acknowledgements, "final": final})

    def ping(self) -> None:
        self.runner.send_message(protocol.PING, {"t0": time.time()})

    def run(self, stop: StopEvent) -> None:
        flusher = every_second(self.send, clock=self.collector.now)
        pinger = gevent.spawn(self._ping_loop)
        # The master normally ends the run; these are the bounds if it cannot.
        limit = self.config.run_time_s + self.config.request_timeout_s + 60.0
        ended = gevent.spawn(self.runner.greenlet.join)
        gevent.joinall([ended, gevent.spawn(stop.wait)], timeout=limit, count=1)
        if not ended.ready():
            why = signal.Signals(stop.signum).name if stop.signum else "time bound"
            log.info("worker %s stopping on its own (%s)", self.name, why)
            self.runner.stop()  # fires test_stop: the final flush
            self.runner.quit()
        flusher.kill()
        pinger.kill()
        gevent.sleep(0.2)  # let the socket deliver the last message

    def _ping_loop(self) -> None:
        while True:
            gevent.sleep(protocol.PING_INTERVAL_S)
            self.ping()


def run_worker(master: str, name: str | None = None) -> int:
    """Ctrl-C (SIGINT), before or after joining: the last second flushed if
    joined, one line, exit 130. SIGTERM: the same, silently, exit 0."""
    host, port = protocol.master_address(master)
    stop = stop_on_signals()
    # `chaosdrill worker` holds SIGINT back across its exec, so that a Ctrl-C
    # while Python and Locust load waits, pending, for this handler.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    sync = ClockSync()
    fetched = fetch_config(host, port, sync, stop)
    if fetched is not None:
        Worker(host, port, fetched, sync, name).run(stop)
    code = 0
    if stop.signum == signal.SIGINT:
        print("chaosdrill worker: interrupted", file=sys.stderr)
        code = 130
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # zmq sockets may still be lingering; everything has been sent
