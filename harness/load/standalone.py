"""One load process that runs every user itself (config `processes: 0`)."""

from __future__ import annotations

import logging
import time
from typing import Any

from locust.env import Environment

from harness.load import acks
from harness.load.buckets import RECORD_VERSION, MetricsCollector
from harness.load.classify import Classifier
from harness.load.config import LoadConfig
from harness.load.cpu import CpuMeter
from harness.load.lifecycle import every_second, follow_schedule, stop_on_signals
from harness.load.schedule import LoadSchedule
from harness.load.stream import JsonlWriter
from harness.load.users import prepare_user_classes, stop_timeout

log = logging.getLogger("chaosdrill.load")


def classifier_for(config: LoadConfig) -> Classifier:
    return Classifier(config.classification_field, config.code_classes, config.retryable_codes,
                      config.request_timeout_s * 1000.0)


class StreamFiles:
    """The metrics and acknowledgements files one process appends to."""

    def __init__(self, config: LoadConfig) -> None:
        self.metrics = JsonlWriter(config.metrics_path)
        self.acks = JsonlWriter(config.acks_path) if config.acks_path else None

    def event(self, kind: str, worker: str, **fields: Any) -> None:
        """An event line in the metrics stream (docs/load.md lists the kinds)."""
        self.metrics.write([{"v": RECORD_VERSION, "event": kind, "worker": worker, "t": time.time(), **fields}])

    def write(self, records: list[dict], acknowledgements: list[dict]) -> None:
        self.metrics.write(records)
        if self.acks is not None:
            self.acks.write(acknowledgements)

    def close(self) -> None:
        self.metrics.close()
        if self.acks is not None:
            self.acks.close()


def run_standalone(config: LoadConfig) -> int:
    stop = stop_on_signals()
    classes = prepare_user_classes(config)
    collector = MetricsCollector(classifier_for(config), "local", targets=config.targets())
    acks.install(collector)
    files = StreamFiles(config)
    env = Environment(user_classes=classes, stop_timeout=stop_timeout(config))
    env.events.request.add_listener(collector.on_request)
    runner = env.create_local_runner()
    cpu = CpuMeter("local", collector.now)

    def flush() -> None:
        records, acknowledgements = collector.drain()
        files.write([*records, cpu.record()], acknowledgements)

    flusher = every_second(flush)
    schedule = LoadSchedule(config)
    try:
        runner.start(schedule.initial.users, schedule.initial.spawn_rate)
        files.event("load_started", "local", users=schedule.initial.users, spawn_rate=schedule.initial.spawn_rate)
        why = follow_schedule(runner, schedule, stop, config.run_time_s,
                              on_change=lambda t: files.event("users_changed", "local", users=t.users,
                                                              spawn_rate=t.spawn_rate))
        files.event("load_stopping", "local", reason=why)
        runner.stop()  # waits for in-flight tasks (stop_timeout)
    finally:
        flusher.kill()
        files.write(*collector.drain(final=True))
        files.close()
        runner.quit()
    log.info("load stopped")
    return 0
