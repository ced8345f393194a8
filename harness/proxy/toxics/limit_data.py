"""limit_data: closes the connection once `bytes` have passed in this direction."""

from __future__ import annotations

import dataclasses

from harness.proxy.toxics.base import Chunk, Stub, Toxic, attribute


@dataclasses.dataclass(frozen=True)
class LimitDataToxic(Toxic):
    type_name = "limit_data"
    order = 70
    bytes: int = attribute(0, unit="B", required=True, main=True)

    async def on_chunk(self, stub: Stub, chunk: Chunk) -> None:
        data = chunk.data
        assert data is not None
        sent = stub.state.get("sent", 0)
        room = max(0, self.bytes - sent)
        if room < len(data):
            data = data[:room]
        stub.held = None
        if data:
            stub.send(Chunk(data, chunk.ts))
            stub.state["sent"] = sent + len(data)
        if stub.state.get("sent", 0) >= self.bytes:
            stub.close_connection()
