"""slicer: cuts each chunk into pieces of about `average_size` bytes.

Pieces vary by up to `size_variation` bytes and are `delay` microseconds
apart, which exposes readers that assume one read returns one message.
"""

from __future__ import annotations

import dataclasses
import random

from harness.proxy.toxics.base import Chunk, Stub, Toxic, attribute


@dataclasses.dataclass(frozen=True)
class SlicerToxic(Toxic):
    type_name = "slicer"
    order = 60
    average_size: int = attribute(0, unit="B", required=True, main=True)
    size_variation: int = attribute(0, unit="B")
    delay: int = attribute(0, unit="us")  # microseconds, as in Toxiproxy

    def cut_points(self, start: int, end: int) -> list[int]:
        """Boundaries of the pieces of [start, end), split in halves until small enough."""
        if (end - start) - self.average_size <= self.size_variation:
            return [end]
        mid = start + (end - start) // 2
        if self.size_variation > 0:
            mid += random.randint(-self.size_variation, self.size_variation - 1)
        mid = min(max(mid, start + 1), end - 1)
        return self.cut_points(start, mid) + self.cut_points(mid, end)

    async def on_chunk(self, stub: Stub, chunk: Chunk) -> None:
        data = chunk.data
        assert data is not None
        if self.average_size <= 0 or len(data) <= 1:
            stub.send(chunk)
            return
        start = 0
        for end in self.cut_points(0, len(data)):
            stub.send(Chunk(data[start:end], chunk.ts))
            start = end
            if start >= len(data):
                return
            stub.held = Chunk(data[start:], chunk.ts)
            if self.delay > 0 and await stub.sleep(self.delay / 1_000_000):
                break  # updated: the rest goes on in one piece
        stub.send(Chunk(data[start:], chunk.ts))
