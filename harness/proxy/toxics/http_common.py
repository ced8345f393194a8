"""What the two HTTP toxics share: request matching and framing state per connection."""

from __future__ import annotations

import random
import re

from harness.proxy.errors import bad_body
from harness.proxy.http_framing import RequestFramer, RequestHead, Segment, compile_path, request_matches
from harness.proxy.toxics.base import Chunk, Stub, Toxic


def check_path_pattern(path: str) -> None:
    try:
        compile_path(path)
    except re.error as exc:
        raise bad_body(f"attribute path is not a valid pattern: {exc}") from None


def frame(stub: Stub, chunk: Chunk) -> list[Segment]:
    """This chunk cut at request boundaries (an incomplete head waits in the framer)."""
    framer = stub.state.get("framer")
    if framer is None:
        framer = stub.state["framer"] = RequestFramer()
    assert chunk.data is not None
    stub.held = None  # the segments are sent (or swallowed) from here on
    return framer.feed(chunk.data)


class HttpToxic(Toxic):
    """Base of the HTTP toxics: request-side only, toxicity per request.

    HTTP awareness is chaosdrill's own, so these are extensions a plain
    Toxiproxy refuses; the harness says so before a run starts.
    """

    extension = True
    streams = ("upstream",)
    streams_reason = "reads requests"
    per_request_toxicity = True

    def leftover(self, stub: Stub) -> bytes:
        framer = stub.state.get("framer")
        return framer.pending if framer is not None else b""


def selected(stub: Stub, request: RequestHead, method: str, path: str) -> bool:
    """Does this request match, and does it fall in the toxicity share (rolled per request)?"""
    return request_matches(request, method, path) and random.random() < stub.toxicity
