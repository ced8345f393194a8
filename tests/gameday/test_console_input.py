"""The console's command line gets every line as typed: keys in a burst, and a pasted runbook.

Runs the real Textual app headless (Textual's test driver) against a session
that only records what it is handed; the terminal tests in test_console.py
cover the app against a running game day.
"""

from __future__ import annotations

import asyncio

import pytest
from textual import events

from harness.gameday.console import CommandInput, GamedayApp
from harness.gameday.grammar import Vocabulary
from harness.gameday.live import LiveModel


class RecordingSession:
    """What the console needs of a game day: a model, names, and somewhere to submit lines."""

    def __init__(self) -> None:
        self.model = LiveModel("lending")
        self.quit_requested = asyncio.Event()
        self.lines: list[str] = []

    def vocabulary(self) -> Vocabulary:
        return Vocabulary(links={"lending->credit-bureau-a": "credit-bureau-a"}, services={"lending": 1})

    def submit(self, line: str) -> None:
        self.lines.append(line)

    def request_quit(self, why: str) -> None:
        self.quit_requested.set()


def keys_for(text: str) -> list[events.Key]:
    return [events.Key("enter", "\r") if ch == "\n" else events.Key("space" if ch == " " else ch, ch) for ch in text]


async def _until(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)


def test_lines_typed_in_one_burst_are_submitted_one_by_one_in_order():
    async def scenario() -> tuple[list[str], str]:
        session = RecordingSession()
        app = GamedayApp(session)  # type: ignore[arg-type]
        async with app.run_test() as pilot:
            box = app.query_one("#cmd", CommandInput)
            for key in keys_for("users 5 300\nnote paged on-call\nno"):  # all queued before any is handled
                app.post_message(key)  # as the terminal driver delivers them
            await _until(lambda: len(session.lines) == 2 and box.value == "no")
            await pilot.pause()
            return session.lines, box.value

    lines, left = asyncio.run(scenario())
    assert lines == ["users 5 300", "note paged on-call"]
    assert left == "no"  # the unfinished line waits in the box


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_a_pasted_runbook_runs_line_by_line(end):
    async def scenario() -> tuple[list[str], str, list[str]]:
        session = RecordingSession()
        app = GamedayApp(session)  # type: ignore[arg-type]
        async with app.run_test() as pilot:
            box = app.query_one("#cmd", CommandInput)
            app.post_message(events.Paste(f"down lending->credit-bureau-a{end}note bureau down{end}clear"))
            await _until(lambda: len(session.lines) == 2)
            await pilot.pause()
            return session.lines, box.value, box.history

    lines, left, history = asyncio.run(scenario())
    assert lines == ["down lending->credit-bureau-a", "note bureau down"]
    assert left == "clear"
    assert history == lines  # ↑ brings them back, like typed ones


class TwoBureausSession(RecordingSession):
    def vocabulary(self) -> Vocabulary:
        return Vocabulary(links={"lending->credit-bureau-a": "credit-bureau-a",
                                 "lending->credit-bureau-b": "credit-bureau-b"},
                          services={"credit-bureau-a": 1, "credit-bureau-b": 1, "lending": 1})


def test_tab_and_history_keys_act_in_order_with_the_keys_around_them():
    # Seen in a terminal test: "down credit-bureau-" Tab "a" Enter, typed in one burst, ran
    # "down credit-bureau-a a": the Tab ran as a binding after the "a" was already in the box.
    async def scenario() -> list[str]:
        session = TwoBureausSession()
        app = GamedayApp(session)  # type: ignore[arg-type]
        async with app.run_test() as pilot:
            box = app.query_one("#cmd", CommandInput)
            burst = [*keys_for("down credit-bureau-"), events.Key("tab", None), *keys_for("a\n")]
            burst += [*keys_for("note x\n"), events.Key("up", None), events.Key("up", None), events.Key("enter", "\r")]
            for key in burst:
                app.post_message(key)
            await _until(lambda: len(session.lines) == 3)
            await pilot.pause()
            return session.lines

    assert asyncio.run(scenario()) == ["down credit-bureau-a", "note x", "down credit-bureau-a"]
