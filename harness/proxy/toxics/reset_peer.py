"""reset_peer: once data flows, waits `timeout` ms then resets the connection (TCP RST)."""

from __future__ import annotations

import dataclasses

from harness.proxy.toxics.base import Chunk, Stub, Toxic, attribute


@dataclasses.dataclass(frozen=True)
class ResetPeerToxic(Toxic):
    type_name = "reset_peer"
    order = 50
    timeout: int = attribute(0, unit="ms", main=True)

    async def on_chunk(self, stub: Stub, chunk: Chunk) -> None:
        stub.held = None  # Toxiproxy drops the data: the peer only ever sees the reset
        if self.timeout > 0:
            await stub.sleep(self.timeout / 1000.0)
        stub.reset_connection()

    async def on_eof(self, stub: Stub, chunk: Chunk) -> None:
        await self.on_chunk(stub, chunk)
