"""bandwidth: limits a direction to `rate` KB/s (1 KB = 1000 bytes).

Large chunks are sent in 100 ms slices so the receiver sees a steady rate
rather than one burst after a long pause; the debt of time carried between
chunks keeps the long-run rate exact.
"""

from __future__ import annotations

import dataclasses

from harness.proxy.toxics.base import Chunk, Stub, Toxic, attribute


@dataclasses.dataclass(frozen=True)
class BandwidthToxic(Toxic):
    type_name = "bandwidth"
    order = 20
    rate: int = attribute(0, unit="KB/s", required=True, main=True)

    async def on_chunk(self, stub: Stub, chunk: Chunk) -> None:
        if self.rate <= 0:
            stub.send(chunk)
            return
        bytes_per_second = self.rate * 1000
        debt = stub.state.get("debt", 0.0) + len(chunk.data) / bytes_per_second
        slice_size = max(1, self.rate * 100)  # what the rate allows in 100 ms
        data = chunk.data
        assert data is not None
        while len(data) > slice_size:
            if await stub.sleep(0.1):
                break  # updated: the rest goes on unthrottled, the next chunk uses the new rate
            stub.send(Chunk(data[:slice_size], chunk.ts))
            data = data[slice_size:]
            stub.held = Chunk(data, chunk.ts)
            debt -= 0.1
        else:
            start = stub.now()
            if debt > 0:
                await stub.sleep(debt)
            debt -= stub.now() - start
        stub.state["debt"] = debt
        stub.send(Chunk(data, chunk.ts))
