"""A game day from start to record: start, console, and cleanup on every exit path.

Quitting, Ctrl-C (a key in the console, SIGINT outside it), SIGTERM and the
terminal closing (SIGHUP) all end the same way: the console closes, every
fault is removed, the load and the stack stop, and the journal and report
are written. After SIGHUP there is no terminal left to write to, so the
standard streams are pointed at /dev/null first and the record is written
all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from typing import Any

from harness.errors import ChaosdrillError
from harness.gameday.session import GamedayOptions, GameDay

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
CONSOLE_CLOSE_S = 3.0


def _detach_from_terminal() -> None:
    """The terminal is gone: writes to it would fail, so they go nowhere instead."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        try:
            os.dup2(devnull, fd)
        except OSError:
            pass
    os.close(devnull)


async def run_gameday(opts: GamedayOptions, console: bool = True) -> int:
    """Run a game day until the operator (or a signal) ends it; returns the exit code."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    session = GameDay(opts)
    app: Any = None
    phase = {"now": "starting"}

    def on_signal(sig: signal.Signals) -> None:
        session.trace(f"{sig.name} while {phase['now']}")
        if sig == signal.SIGHUP:
            if app is not None:
                app.hang_up()
            _detach_from_terminal()
        if phase["now"] == "closing":
            opts.progress.event(f"{sig.name}: still removing faults and writing the record, please wait")
            return
        session.request_quit(sig.name)
        if phase["now"] == "starting":
            main.cancel()
        elif app is not None:
            app.exit()

    for sig in SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    data: dict = {}
    lines = EventLines(session)
    try:
        try:
            await session.start()
            opts.progress.event(f"game day running: {session.run_dir}")
            phase["now"] = "running"
            if console:
                from harness.gameday.console import GamedayApp

                app = GamedayApp(session)
                await _run_console(app, session)
                lines.skip()
            else:
                await _run_plain(session, lines)
        except asyncio.CancelledError:
            why = f"interrupted by {session.ended_by or 'cancellation'} while starting"
            session.log("gameday_interrupted", why)
            session.record.interrupted = why
        except ChaosdrillError as exc:
            session.record.failure = session.record.failure or str(exc)
            session.record.failure_code = exc.exit_code
    finally:
        phase["now"] = "closing"
        session.trace("closing")
        data = await asyncio.shield(session.close())
        session.trace("closed")
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)
    with contextlib.suppress(OSError):  # no terminal any more
        # Without a console, the rest of the trail; with one, what failed after it closed.
        lines.flush(None if not console else ("command_failed",))
    _print_summary(session, data)  # a failure's message is its verdict line, said once
    if not data and session.record.failure:  # nothing started, so no record and no verdict: say it here
        print(f"chaosdrill: error: {session.record.failure}", file=sys.stderr)
    code = int(data.get("exit_code", 3)) if data else (session.record.failure_code or 3)
    if session.console_abandoned:
        # The record is written and everything stopped; the console's threads may never end.
        os._exit(code)
    return code


async def _run_console(app: Any, session: GameDay) -> None:
    """Run the console until it closes or a signal asks to quit.

    After a signal the console gets a few seconds to close; a console that
    cannot (its terminal is gone mid-write) is left behind, so the record
    is written whatever state the terminal is in.
    """
    app_task = asyncio.create_task(app.run_async())
    quit_task = asyncio.create_task(session.quit_requested.wait())
    try:
        await asyncio.wait({app_task, quit_task}, return_when=asyncio.FIRST_COMPLETED)
        if not app_task.done():
            app.exit()
            await asyncio.wait({app_task}, timeout=CONSOLE_CLOSE_S)
        if not app_task.done():
            session.trace("the console did not close; going on without it")
            session.console_abandoned = True
            app_task.cancel()
        elif app_task.exception() is not None:  # a console bug (or a vanished terminal) still ends cleanly
            exc = app_task.exception()
            session.log("console_failed", f"{type(exc).__name__}: {exc}")
        else:
            session.trace("console closed")
    finally:
        quit_task.cancel()
    if not session.quit_requested.is_set():
        session.request_quit("the console closing")


class EventLines:
    """The game day's events as plain lines on stdout, each once: while it runs without a
    console, and after it closes, so what ends during the wind-down (a command still
    running at `quit` that then fails) is seen and not only in the journal."""

    def __init__(self, session: GameDay) -> None:
        self.model = session.model
        self.shown = 0

    def skip(self) -> None:
        """The console showed everything so far."""
        self.shown = self.model.event_count

    def flush(self, kinds: tuple[str, ...] | None = None) -> None:
        model = self.model
        fresh = min(model.event_count - self.shown, len(model.events))
        for wall, kind, message in (list(model.events)[-fresh:] if fresh > 0 else []):
            if kinds is None or kind in kinds:
                print(f"t+{model.offset(wall):7.1f}s {kind:<16} {message}", flush=True)
        self.shown = model.event_count


async def _run_plain(session: GameDay, lines: EventLines) -> None:
    """No console: events as plain lines on stdout, and commands from stdin when it is a file or a pipe.

    A script may hold `wait DURATION` lines between commands and should end
    with `quit`; without one the game day runs until Ctrl-C or SIGTERM.
    """
    loop = asyncio.get_running_loop()
    if not sys.stdin.isatty():
        threading.Thread(target=_read_commands, args=(session, loop), name="gameday-stdin", daemon=True).start()
    while not session.quit_requested.is_set():
        lines.flush()
        try:
            await asyncio.wait_for(session.quit_requested.wait(), timeout=0.25)
        except asyncio.TimeoutError:
            pass
    lines.flush()  # the `quit` itself, before the wind-down prints its own lines


def _read_commands(session: GameDay, loop: asyncio.AbstractEventLoop) -> None:
    """Runs on its own thread: one command per line; `wait 10s` pauses the script."""
    from harness.schema.durations import parse_duration

    for raw in sys.stdin:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.split()[0] == "wait":
            try:
                time.sleep(parse_duration(line.partition(" ")[2].strip()))
            except ValueError as exc:
                loop.call_soon_threadsafe(session.model.event, "command_failed", f"{line}: {exc}")
            continue
        loop.call_soon_threadsafe(_submit, session, line)
        if line in ("quit", "exit"):
            return


def _submit(session: GameDay, line: str) -> None:
    try:
        session.submit(line)
    except ChaosdrillError as exc:
        session.model.event("command_failed", f"{line}: {exc}")


def _print_summary(session: GameDay, data: dict) -> None:
    from harness.run.drill import print_verdict

    try:
        if data:
            print_verdict(data, session.run_dir)
        sys.stdout.flush()
    except OSError:
        pass  # no terminal any more
