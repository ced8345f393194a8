"""http_latency: delays HTTP requests whose method and path match.

Each matching request is held `latency` ms (+- `jitter`) from when its
first byte arrived; other requests on the same connection pass at once
unless queued behind a delayed one (HTTP/1.1 keeps requests in order).
"""

from __future__ import annotations

import dataclasses
import random

from harness.proxy.toxics.base import Chunk, Stub, attribute
from harness.proxy.toxics.http_common import HttpToxic, check_path_pattern, frame, selected


@dataclasses.dataclass(frozen=True)
class HttpLatencyToxic(HttpToxic):
    type_name = "http_latency"
    order = 20
    latency: int = attribute(0, unit="ms", required=True, main=True)
    jitter: int = attribute(0, unit="ms")
    method: str = attribute("", kind="text")
    path: str = attribute("", kind="text")

    def validate(self) -> None:
        super().validate()
        check_path_pattern(self.path)

    async def on_chunk(self, stub: Stub, chunk: Chunk) -> None:
        segments = frame(stub, chunk)
        for index, seg in enumerate(segments):
            request = seg.request
            if seg.starts and request is not None and selected(stub, request, self.method, self.path):
                delay = self.latency + (random.randint(-self.jitter, self.jitter) if self.jitter else 0)
                wait = chunk.ts + max(0, delay) / 1000.0 - stub.now()
                if wait > 0:
                    # while waiting, the segments not yet sent are what an interruption passes on
                    stub.held = Chunk(b"".join(s.data for s in segments[index:]), chunk.ts)
                    await stub.sleep(wait)
            stub.send(Chunk(seg.data, chunk.ts))
