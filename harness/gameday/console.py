"""The game day console: live charts, links and services, events, a command line.

A Textual app that only draws: it reads the live model (redrawing when the
model's version moved, at most twice a second) and hands typed lines to the
session, which runs them as tasks. Nothing slow runs on the event loop, so
keystrokes echo at once even while the load saturates the machine.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.drivers.linux_driver import LinuxDriver
from textual.suggester import Suggester
from textual.widgets import Input, RichLog, Static

from harness.errors import ChaosdrillError
from harness.gameday import grammar
from harness.gameday.live import LiveModel, Row

if TYPE_CHECKING:
    from harness.gameday.session import GameDay

BLOCKS = "▁▂▃▄▅▆▇█"
CLASS_STYLE = {"success": "green", "degraded": "yellow", "rejected": "blue", "ungraceful": "red"}
LATENCY_STYLE = {"p50": "cyan", "p95": "yellow", "p99": "red"}
EVENT_STYLE = {"note": "bold magenta", "fault_applied": "red", "fault_removed": "green", "recovered": "bold green",
               "command_failed": "bold red", "fault_failed": "bold red", "hypothesis_judged": "bold cyan",
               "command": "dim", "help": "cyan", "phase_started": "bold yellow", "phase_ended": "yellow",
               "finding": "bold blue", "action_item": "bold blue"}


def sparkline(values: list[float], width: int, reduce: str = "mean") -> str:
    """Values squeezed into `width` columns (mean or max per column), scaled to the window's max."""
    if width <= 0:
        return ""
    if not values:
        return " " * width
    per = max(1, -(-len(values) // width))
    columns = []
    for i in range(0, len(values), per):
        chunk = values[i:i + per]
        columns.append(max(chunk) if reduce == "max" else sum(chunk) / len(chunk))
    top = max(columns) or 1.0
    line = "".join(BLOCKS[min(len(BLOCKS) - 1, int(v / top * (len(BLOCKS) - 1) + 0.5))] if v > 0 else " "
                   for v in columns)
    return line.rjust(width)


class CommandSuggester(Suggester):
    """Completes the word being typed from the running game day's names."""

    def __init__(self, session: "GameDay") -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.session = session

    async def get_suggestion(self, value: str) -> str | None:
        return grammar.suggest(value, self.session.vocabulary())


class CommandInput(Input):
    def __init__(self, session: "GameDay", **kwargs: Any) -> None:
        super().__init__(suggester=CommandSuggester(session), **kwargs)
        self.session = session
        self.history: list[str] = []
        self._pos = 0

    def _on_key(self, event: events.Key) -> None:
        """Enter, Tab and the history keys act here, in order with the keys around them.

        A binding runs once its key has bubbled up to the app, by which time
        keys typed after it (a script, a fast typist) are already in the box:
        "users 5" Enter "note x" Enter submitted "users 5note x" twice, and
        "down credit-bureau-" Tab "a" completed the "a" too.
        """
        actions = {"enter": lambda: self.submit_line(self.value), "tab": self.action_complete,
                   "up": lambda: self.action_history(-1), "down": lambda: self.action_history(1)}
        action = actions.get(event.key)
        if action is not None:  # anything else goes on to Input's own handler (Textual walks the MRO)
            event.stop()
            event.prevent_default()
            action()

    def _on_paste(self, event: events.Paste) -> None:
        """A pasted runbook runs line by line; an unfinished last line stays in the box."""
        event.stop()
        event.prevent_default()  # Input's own handler would paste the first line again
        text = self.value[:self.cursor_position] + event.text + self.value[self.cursor_position:]
        *whole, rest = re.split(r"\r\n|\r|\n", text)  # terminals paste line ends as CR, LF or both
        for line in whole:
            self.submit_line(line)
        self.value = rest
        self.cursor_position = len(rest)

    def submit_line(self, line: str) -> None:
        self.remember(line.strip())  # here, so ↑ typed right after Enter finds it
        self.post_message(self.Submitted(self, line))
        self.value = ""

    def action_complete(self) -> None:
        """Tab: grammar.tab_complete's line, and the candidates listed under the log."""
        completed = grammar.tab_complete(self.value, self.session.vocabulary())
        if completed != self.value:
            self.value = completed
            self.cursor_position = len(completed)
        self.app.show_candidates(self.value)  # type: ignore[attr-defined]

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._pos = max(0, min(len(self.history), self._pos + step))
        self.value = self.history[self._pos] if self._pos < len(self.history) else ""
        self.cursor_position = len(self.value)

    def remember(self, line: str) -> None:
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
        self._pos = len(self.history)


class HangupSafeDriver(LinuxDriver):
    """Textual's terminal driver, told when the terminal has hung up.

    Textual writes through a thread with a bounded queue; once the terminal
    is gone that thread dies on the first failed write and the queue fills,
    and the next write would block the event loop for good. After
    `hang_up()` every write is dropped instead, so the game day can still
    remove its faults and write its record.
    """

    hung_up = False

    def hang_up(self) -> None:
        self.hung_up = True

    def write(self, data: str) -> None:
        if not self.hung_up:
            super().write(data)

    def close(self) -> None:
        if not self.hung_up:
            super().close()


class GamedayApp(App):
    TITLE = "chaosdrill gameday"
    CSS = """
    Screen { layout: vertical; }
    #header { height: 1; background: $boost; }
    #top { height: 14; }
    #charts { width: 3fr; border: round $primary; padding: 0 1; }
    #state { width: 2fr; border: round $primary; padding: 0 1; }
    #status { height: 2; padding: 0 1; }
    #log { height: 1fr; border: round $primary; }
    #hint { height: 1; padding: 0 1; color: $text-muted; }
    #cmd { height: 3; }
    """
    BINDINGS = [Binding("ctrl+c", "quit_gameday", "quit", priority=True),
                Binding("ctrl+q", "quit_gameday", "quit", priority=True)]

    def __init__(self, session: "GameDay") -> None:
        super().__init__(driver_class=HangupSafeDriver)
        self.session = session
        self.model: LiveModel = session.model
        self._drawn_version = -1
        self._events_shown = 0

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        with Horizontal(id="top"):
            yield Static(id="charts")
            yield Static(id="state")
        yield Static(id="status")
        yield RichLog(id="log", wrap=True, markup=False, max_lines=2000)
        yield Static("Tab completes, ↑↓ history; 'help' lists the commands; 'quit' (or Ctrl-C) ends the game day",
                     id="hint")
        yield CommandInput(self.session, id="cmd", placeholder="latency LINK 800ms jitter=200ms | down LINK | "
                                                               "kill SERVICE | clear all | users N | note TEXT")

    def on_mount(self) -> None:
        self.query_one("#cmd", CommandInput).focus()
        self.set_interval(0.5, self.redraw)
        self.redraw()

    # ------------------------------------------------------------ input
    def on_input_changed(self, event: Input.Changed) -> None:
        self.show_candidates(event.value)

    def show_candidates(self, value: str) -> None:
        hint = self.query_one("#hint", Static)
        try:
            candidates = grammar.complete(value, self.session.vocabulary()) if value else []
        except Exception:
            candidates = []
        if candidates:
            hint.update(Text("  ".join(candidates[:14]) + ("  …" if len(candidates) > 14 else ""), style="cyan"))
        else:
            word = value.split(" ", 1)[0]
            hint.update(Text(grammar.HELP.get(word, grammar.HELP["toxic"] if word in grammar.TOXICS else ""),
                             style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        line = event.value.strip()  # the box cleared itself and remembered the line on Enter
        if not line:
            return
        hint = self.query_one("#hint", Static)
        try:
            self.session.submit(line)
            hint.update(Text(f"> {line}", style="dim"))
        except ChaosdrillError as exc:
            hint.update(Text(str(exc), style="bold red"))
            self.model.event("command_failed", f"{line}: {exc}")
        self.redraw()
        if self.session.quit_requested.is_set():
            self.exit()

    def hang_up(self) -> None:
        """The terminal is gone: stop writing to it (see HangupSafeDriver)."""
        driver = getattr(self, "_driver", None)
        if isinstance(driver, HangupSafeDriver):
            driver.hang_up()

    def action_quit_gameday(self) -> None:
        self.session.request_quit("Ctrl-C")
        self.exit()

    # ------------------------------------------------------------ drawing
    def redraw(self) -> None:
        if self.session.quit_requested.is_set():
            self.exit()
            return
        model = self.model
        self.query_one("#header", Static).update(self._header())
        if model.version == self._drawn_version:
            return
        self._drawn_version = model.version
        self.query_one("#charts", Static).update(self._charts())
        self.query_one("#state", Static).update(self._state())
        self.query_one("#status", Static).update(self._status())
        log = self.query_one("#log", RichLog)
        fresh = min(model.event_count - self._events_shown, len(model.events))
        new = list(model.events)[-fresh:] if fresh > 0 else []
        for wall, kind, message in new:
            t = model.offset(wall)
            log.write(Text.assemble((f"t+{t:7.1f}s ", "dim"), (f"{kind:<16} ", EVENT_STYLE.get(kind, "bold")),
                                    message))
        self._events_shown = model.event_count

    def _header(self) -> Text:
        m = self.model
        web = f"  web {m.web_url}" if m.web_url else ""
        phase = f"  phase {m.phase}" if m.phase else ""
        return Text(f" chaosdrill gameday  {m.stack_name}  {m.status}  t+{m.offset():.0f}s  "
                    f"{m.users} users{phase}  faults {len(m.faults)}{web}", style="bold")

    def _charts(self) -> Text:
        rows: list[Row] = self.model.recent()
        width = max(10, self.query_one("#charts", Static).size.width - 26)
        out = Text()
        out.append(f"throughput req/s, last {len(rows)}s\n", style="bold")
        for cls in ("success", "degraded", "rejected", "ungraceful"):
            values = [float(r.classes[cls]) for r in rows]
            out.append(f"{cls:<11}", style=CLASS_STYLE[cls])
            out.append(sparkline(values, width), style=CLASS_STYLE[cls])
            out.append(f" {values[-1] if values else 0:>8.0f}\n")
        out.append("latency ms (max per column)\n", style="bold")
        for key in ("p50", "p95", "p99"):
            values = [getattr(r, key) for r in rows]
            out.append(f"{key:<11}", style=LATENCY_STYLE[key])
            out.append(sparkline(values, width, "max"), style=LATENCY_STYLE[key])
            out.append(f" {values[-1] if values else 0:>8.1f}\n")
        cur = self.model.current()
        out.append(f"now: {cur.n} req/s  error rate {cur.error_rate * 100:.1f}%  ungraceful {cur.classes['ungraceful']}"
                   f"  p99 {cur.p99:.0f} ms", style="bold")
        return out

    def _state(self) -> Text:
        m = self.model
        out = Text()
        out.append("links\n", style="bold")
        for name in m.links:
            faults = m.link_faults(name)
            breaker = m.breaker_for(name)
            out.append(f"{name:<34}", style="red" if faults else "green")
            out.append(", ".join(f"{f.id} {f.label.split(' on ')[0]}" for f in faults) or "ok",
                       style="bold red" if faults else "green")
            if breaker:
                out.append(f"  breaker {breaker}", style="red" if breaker == "open" else
                           ("yellow" if breaker == "half-open" else "dim"))
            out.append("\n")
        out.append("services\n", style="bold")
        for v in m.services:
            style = "green" if v.state == "running" else "bold red"
            faults = [f.id for f in m.faults.values() if f.target.get("service") == v.service
                      and f.target.get("instance", 0) == v.index]
            out.append(f"{v.name:<26}{v.state:<8}", style=style)
            out.append(f" pid {v.pid or '-'}", style="dim")
            if v.in_use:
                out.append("  " + ", ".join(f"{k} {x}" for k, x in v.in_use.items()), style="cyan")
            if faults:
                out.append("  " + " ".join(faults), style="bold red")
            out.append("\n")
        return out

    def _status(self) -> Text:
        m = self.model
        out = Text()
        if m.faults:
            out.append("active: " + "; ".join(f"{f.id} {f.label}" for f in m.faults.values()), style="bold red")
        else:
            out.append("no fault active", style="green")
        if m.recovery:
            out.append(f"   recovery: {m.recovery['state']}"
                       + (f" after {m.recovery['after_s']:.0f}s" if "after_s" in m.recovery else ""), style="cyan")
        out.append("\n")
        if m.hypothesis:
            out.append(f"hypothesis {m.hypothesis['name']}: {m.hypothesis['text']}  {m.hypothesis.get('live', '')}",
                       style="bold cyan")
        elif m.hypotheses:
            last = m.hypotheses[-1]
            out.append(f"{last['name']}: {'held' if last['passed'] else 'did NOT hold'} — {last['summary']}",
                       style="green" if last["passed"] else "bold red")
        return out
