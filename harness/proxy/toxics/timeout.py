"""timeout: swallows all data and closes the connection after `timeout` ms without data.

The timer restarts with each chunk that arrives, as Toxiproxy's does (its
select loop makes a new timer on every pass), so a direction that keeps
receiving data faster than `timeout` is held open: what closes is an idle
connection, and a drill sees here what it would see against Toxiproxy.
With timeout 0 the connection is held open, silent, until the client gives
up. Removing the toxic closes the connections it held, as Toxiproxy does:
bytes were dropped, so the stream can no longer be trusted.
"""

from __future__ import annotations

import dataclasses

from harness.proxy.toxics.base import Chunk, Stub, Toxic, attribute


@dataclasses.dataclass(frozen=True)
class TimeoutToxic(Toxic):
    type_name = "timeout"
    order = 40
    timeout: int = attribute(0, unit="ms", main=True)  # 0: hold the connection open

    def on_start(self, stub: Stub) -> None:
        if self.timeout > 0:
            stub.state["timer"] = stub.call_later(self.timeout / 1000.0, stub.close_connection)

    def _restart_timer(self, stub: Stub) -> None:
        if self.timeout > 0:
            self.on_stop(stub)
            self.on_start(stub)

    def on_stop(self, stub: Stub) -> None:
        timer = stub.state.pop("timer", None)
        if timer is not None:
            timer.cancel()

    def on_removed(self, stub: Stub) -> None:
        stub.close_connection()

    async def on_chunk(self, stub: Stub, chunk: Chunk) -> None:
        stub.held = None  # dropped
        self._restart_timer(stub)

    async def on_eof(self, stub: Stub, chunk: Chunk) -> None:
        stub.close_connection()
