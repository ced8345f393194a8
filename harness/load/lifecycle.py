"""What every load process (standalone, master, worker) does the same way:
stop on SIGTERM/SIGINT, flush once a second, follow the schedule until the
hard time bound. gevent-based: imported only inside the load process.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any, Callable

import gevent
from gevent.event import Event

from harness.load.schedule import LoadSchedule, UserTarget

log = logging.getLogger("chaosdrill.load")


class StopEvent(Event):
    """Set by the first SIGTERM or SIGINT; `signum` says which."""

    signum: int | None = None


def stop_on_signals() -> StopEvent:
    """An event set by SIGTERM or SIGINT (the first one; a second is ignored
    too: the process is already stopping and will flush and exit). Silent:
    whoever waits on it says what the stop does."""
    stop = StopEvent()

    def handler(signum: int) -> None:
        if not stop.is_set():
            stop.signum = signum
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, handler, signum)
    return stop


def every_second(action: Callable[[], None], clock: Callable[[], float] = time.time,
                 after: float = 0.005) -> gevent.Greenlet:
    """Run `action` just after each second boundary of `clock`."""

    def loop() -> None:
        while True:
            now = clock()
            gevent.sleep(max(0.0, int(now) + 1 + after - now))
            try:
                action()
            except Exception:  # noqa: BLE001 - a failed flush must not end the flush loop
                log.exception("periodic action failed")

    return gevent.spawn(loop)


def follow_schedule(runner: Any, schedule: LoadSchedule, stop: Event, run_time_s: float,
                    tick: Callable[[], None] | None = None,
                    on_change: Callable[[UserTarget], None] | None = None) -> str:
    """Apply stage and control changes until stopped or out of time; says why it ended."""
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        if elapsed >= run_time_s:
            log.info("run_time_s (%.1f s) reached: stopping", run_time_s)
            return "run_time"
        for target in schedule.changes(elapsed):
            log.info("users -> %d (spawn rate %g/s)", target.users, target.spawn_rate)
            runner.start(target.users, target.spawn_rate)
            if on_change is not None:
                on_change(target)
        if tick is not None:
            tick()
        if stop.wait(timeout=min(0.1, max(0.0, run_time_s - elapsed))):
            log.info("signal received: stopping users, flushing metrics")
            return "signal"
