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
import os
import signal
import sys
import traceback
from typing import Any

from harness.errors import ChaosdrillError
from harness.gameday.session import GamedayOptions, GameDay

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


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
        if sig == signal.SIGHUP:
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
    try:
        try:
            await session.start()
            opts.progress.event(f"game day running: {session.run_dir}")
            phase["now"] = "running"
            if console:
                from harness.gameday.console import GamedayApp

                app = GamedayApp(session)
                try:
                    await app.run_async()
                except Exception as exc:  # a console bug (or a vanished terminal) still ends cleanly
                    session.log("console_failed", f"{type(exc).__name__}: {exc}",
                                {"traceback": traceback.format_exc()})
                if not session.quit_requested.is_set():
                    session.request_quit("the console closing")
            else:
                await session.quit_requested.wait()
        except asyncio.CancelledError:
            session.log("gameday_interrupted", f"interrupted by {session.ended_by or 'cancellation'} while starting")
        except ChaosdrillError as exc:
            session.book.failure = session.book.failure or str(exc)
            opts.progress.event(f"chaosdrill: error: {exc}")
    finally:
        phase["now"] = "closing"
        data = await asyncio.shield(session.close())
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)
    _print_summary(session, data)
    return int(data.get("exit_code", 3)) if data else 3


def _print_summary(session: GameDay, data: dict) -> None:
    from harness.commands.run import print_verdict

    try:
        if data:
            print_verdict(data, session.run_dir)
        sys.stdout.flush()
    except OSError:
        pass  # no terminal any more
