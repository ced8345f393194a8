"""One event bus for everything a run reports as it happens.

A run's events have several readers: the journal (the record every
verdict and report is made from), the progress lines on a terminal, and,
in a game day, the live console and web view. Each reader subscribes a
sink; whoever has something to say (the stack starting, a fault going on,
a phase beginning) emits one `Event` and never needs to know who listens.

An event has two texts because its readers differ: `message` is what the
record keeps ("down on lending->bureau: proxy disabled"); `line` is what a
person watching sees ("[  3.0s] fault on: down on lending->bureau"), and
defaults to the message. `record=False` is for lines meant only for a
person (a prompt to wait), `show=False` for record-only entries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

__all__ = ["Event", "EventBus", "Sink", "journal_sink", "progress_sink"]


@dataclass(frozen=True)
class Event:
    kind: str  # a snake_case type: stack_started, fault_applied, phase_started, ...
    message: str  # the record's text
    data: Mapping[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)  # wall clock
    line: str | None = None  # the text a person watching sees; None: the message
    record: bool = True  # kept in the journal
    show: bool = True  # shown to a person

    @property
    def text(self) -> str:
        """What a person sees."""
        return self.line if self.line is not None else self.message


Sink = Callable[[Event], None]


class EventBus:
    """Sinks in subscription order; one failing sink never silences the others."""

    def __init__(self, *sinks: Sink) -> None:
        self._sinks: list[Sink] = list(sinks)

    def subscribe(self, sink: Sink) -> Sink:
        self._sinks.append(sink)
        return sink

    def unsubscribe(self, sink: Sink) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)

    def publish(self, event: Event) -> Event:
        for sink in list(self._sinks):
            try:
                sink(event)
            except Exception:  # a reader's bug (a closed terminal) must not stop the run
                pass
        return event

    def emit(self, kind: str, message: str, data: Mapping[str, Any] | None = None, *, at: float | None = None,
             line: str | None = None, record: bool = True, show: bool = True) -> Event:
        return self.publish(Event(kind, message, dict(data or {}), time.time() if at is None else at, line,
                                  record, show))

    def say(self, line: str) -> Event:
        """A line for the person watching only (not part of the record)."""
        return self.emit("progress", line, record=False)


class _Records(Protocol):
    def event(self, kind: str, message: str, data: dict | None = None, at: float | None = None) -> None: ...


class _Lines(Protocol):
    def event(self, text: str) -> None: ...


def journal_sink(journal: _Records) -> Sink:
    """Record events in the run's journal."""

    def sink(event: Event) -> None:
        if event.record:
            journal.event(event.kind, event.message, dict(event.data), at=event.at)

    return sink


def progress_sink(progress: _Lines) -> Sink:
    """Print events as progress lines."""

    def sink(event: Event) -> None:
        if event.show:
            progress.event(event.text)

    return sink
