"""slow_close: holds the close of a direction for `delay` ms after its end."""

from __future__ import annotations

import dataclasses

from harness.proxy.toxics.base import Chunk, Stub, Toxic, attribute


@dataclasses.dataclass(frozen=True)
class SlowCloseToxic(Toxic):
    type_name = "slow_close"
    order = 30
    delay: int = attribute(0, unit="ms", required=True, main=True)

    async def on_eof(self, stub: Stub, chunk: Chunk) -> None:
        await stub.sleep(self.delay / 1000.0)
        stub.send(chunk)
