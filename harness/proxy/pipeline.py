"""The toxic pipeline of one connection direction (Toxiproxy's ToxicLink).

Used only while a direction has toxics; otherwise bytes go straight from one
socket to the other (see connection.py). Each toxic runs as one task (a
ToxicStage) reading its inbox; stages are chained in the proxy's toxic order, and
can be appended, updated and removed while bytes flow without losing or
reordering any: a removed stage hands what it holds and its inbox to the next
one before the previous stage is rewired past it.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from typing import TYPE_CHECKING, Any, Callable, Protocol

from harness.proxy.toxics.base import Chunk, Toxic

if TYPE_CHECKING:
    from harness.proxy.toxic_chain import InstalledToxic

# Bytes queued inside a pipeline before the source socket stops being read.
HIGH_WATER = 4 * 1024 * 1024
LOW_WATER = 1 * 1024 * 1024


class Socket(Protocol):
    """One socket of the connection, as a direction uses it (connection.Side)."""

    def pause(self, reason: str) -> None: ...

    def resume(self, reason: str) -> None: ...

    def write(self, data: bytes) -> None: ...

    def write_eof(self) -> bool: ...

    def route_direct(self, link: "ToxicLink") -> None: ...

    def route_to_pipeline(self, link: "ToxicLink") -> None: ...


class Ends(Protocol):
    """The connection a direction belongs to, as its pipeline and toxics use it (connection.Connection)."""

    def direction_ended(self, link: "ToxicLink") -> None: ...

    def reply(self, data: bytes, close: bool) -> None: ...

    def close(self) -> None: ...

    def reset(self) -> None: ...


class ToxicStage:
    """One toxic running on one connection direction; also the toxic's Stub."""

    def __init__(self, link: "ToxicLink", installed: "InstalledToxic") -> None:
        self.link = link
        self.installed = installed
        self.next: ToxicStage | None = None
        self.inbox: collections.deque[Chunk] = collections.deque()
        self.held: Chunk | None = None
        self.state: dict[str, Any] = {}
        self.toxicity = installed.toxicity
        self.name = installed.name
        self.active = True
        self.toxic: Toxic = installed.toxic
        self._waiter: asyncio.Future[None] | None = None
        self._interrupt: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    # ---- lifecycle, driven by the link ----------------------------------

    def start(self) -> None:
        self.toxic = self.installed.toxic
        self.toxicity = self.installed.toxicity
        self.active = self.toxic.per_request_toxicity or random.random() < self.toxicity
        if self.active:
            self.toxic.on_start(self)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def update(self) -> None:
        """New attributes or toxicity: wake a sleeping toxic and roll again."""
        if self.active:
            self.toxic.on_stop(self)
        if self._interrupt is not None and not self._interrupt.done():
            self._interrupt.set_result(None)
        self.start()

    def stop(self) -> list[Chunk]:
        """Cancel the task; return what it held and queued, in order."""
        if self.active:
            self.toxic.on_stop(self)
        if self._task is not None:
            self._task.cancel()
            self._task = None
        pending = [self.held] if self.held is not None else []
        self.held = None
        leftover = self.toxic.leftover(self) if self.active else b""
        if leftover:
            pending.append(Chunk(leftover, self.now()))
        pending.extend(self.inbox)
        for chunk in self.inbox:
            if chunk.data is not None:
                self.link.queued -= len(chunk.data)
        self.inbox.clear()
        return pending

    # ---- the inbox ------------------------------------------------------

    def put(self, chunk: Chunk) -> None:
        if (not self.active or self.toxic.passes_through) and not self.inbox and self.held is None:
            self.send(chunk)  # nothing queued ahead of it: pass it on without a task switch
            return
        self.inbox.append(chunk)
        if chunk.data is not None:
            self.link.queued += len(chunk.data)
            if self.link.queued > HIGH_WATER:
                self.link.source.pause("pipeline")
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _recv(self) -> Chunk:
        while not self.inbox:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        chunk = self.inbox.popleft()
        if chunk.data is not None:
            self.link.queued -= len(chunk.data)
            if self.link.queued < LOW_WATER:
                self.link.source.resume("pipeline")
        return chunk

    async def _run(self) -> None:
        while True:
            chunk = await self._recv()
            self.held = chunk
            toxic = self.toxic
            if not self.active:
                self.send(chunk)
            elif chunk.data is None:
                await toxic.on_eof(self, chunk)
            else:
                await toxic.on_chunk(self, chunk)
            self.held = None
            if chunk.data is None:
                return

    # ---- the Stub interface the toxics use ------------------------------

    def send(self, chunk: Chunk) -> None:
        if chunk is self.held:
            self.held = None
        if self.next is not None:
            self.next.put(chunk)
        else:
            self.link.sink(chunk)

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> bool:
        """True when woken early by update(), False when slept in full, and never short: the loop's
        timers run on its cached whole-millisecond clock (uvloop) and can fire a little early, so
        the rest is waited out and a chunk never leaves before its delay."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + seconds
        wait = seconds
        while True:
            self._interrupt = interrupt = loop.create_future()
            handle = loop.call_later(wait, _resolve, interrupt, False)
            try:
                if (await interrupt) is None:
                    return True
            finally:
                handle.cancel()
                self._interrupt = None
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            wait = max(left, 0.001)

    def call_later(self, seconds: float, callback: Callable[[], Any]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(seconds, callback)

    def close_connection(self) -> None:
        self.link.connection.close()

    def reset_connection(self) -> None:
        self.link.connection.reset()

    def reply(self, data: bytes, close: bool = False) -> None:
        self.link.connection.reply(data, close)


def _resolve(fut: asyncio.Future[Any], value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


class ToxicLink:
    """One direction of one connection: source socket -> toxics -> destination socket."""

    def __init__(self, connection: Ends, source: Socket, dest: Socket, direction: str) -> None:
        self.connection = connection
        self.source = source
        self.dest = dest
        self.direction = direction
        self.stages: list[ToxicStage] = []
        self.queued = 0
        self.done = False  # end of stream delivered (or the destination is gone)
        self.source_closed = False

    @property
    def has_toxics(self) -> bool:
        return bool(self.stages)

    def feed(self, data: bytes) -> None:
        self.stages[0].put(Chunk(data, time.monotonic()))

    def source_ended(self) -> None:
        if self.source_closed:
            return
        self.source_closed = True
        if self.stages:
            self.stages[0].put(Chunk(None, time.monotonic()))
        else:
            self.sink(Chunk(None, 0.0))

    def sink(self, chunk: Chunk) -> None:
        if self.done:
            return
        if chunk.data is not None:
            self.dest.write(chunk.data)
        else:
            self.done = True
            self.connection.direction_ended(self)

    # ---- live toxic changes --------------------------------------------

    def add_toxic(self, installed: "InstalledToxic") -> None:
        if self.done:
            return
        stage = ToxicStage(self, installed)
        if self.stages:
            self.stages[-1].next = stage
        self.stages.append(stage)
        self.source.route_to_pipeline(self)
        stage.start()

    def update_toxic(self, installed: "InstalledToxic") -> None:
        for stage in self.stages:
            if stage.installed is installed:
                stage.update()

    def remove_toxic(self, installed: "InstalledToxic") -> None:
        for index, stage in enumerate(self.stages):
            if stage.installed is installed:
                break
        else:
            return
        pending = stage.stop()
        del self.stages[index]
        if index > 0:
            self.stages[index - 1].next = stage.next
        for chunk in pending:
            if stage.next is not None:
                stage.next.put(chunk)
            else:
                self.sink(chunk)
        if not self.stages:
            self.source.route_direct(self)
            self.source.resume("pipeline")
        if stage.active:
            stage.toxic.on_removed(stage)

    def cancel(self) -> None:
        for stage in self.stages:
            stage.stop()
        self.stages.clear()
        self.done = True
