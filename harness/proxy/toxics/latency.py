"""latency: delays every chunk by `latency` ms (+- `jitter`) from its arrival.

Chunks are delayed from the moment they arrived, not from when the previous
chunk left, so a stream is pipelined rather than slowed to one chunk per
delay, which is what Toxiproxy does too.
"""

from __future__ import annotations

import dataclasses
import random

from harness.proxy.toxics.base import Chunk, Stub, Toxic, attribute


@dataclasses.dataclass(frozen=True)
class LatencyToxic(Toxic):
    type_name = "latency"
    order = 10
    latency: int = attribute(0, unit="ms", required=True, main=True)
    jitter: int = attribute(0, unit="ms")

    def delay_seconds(self) -> float:
        delay = self.latency
        if self.jitter > 0:
            delay += random.randint(-self.jitter, self.jitter)
        return max(0, delay) / 1000.0

    async def on_chunk(self, stub: Stub, chunk: Chunk) -> None:
        wait = chunk.ts + self.delay_seconds() - stub.now()
        if wait > 0:
            await stub.sleep(wait)  # cut short by an update: the chunk goes on now
        chunk.ts = stub.now()
        stub.send(chunk)
