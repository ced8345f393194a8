"""http_error: answers a share of HTTP requests itself, without forwarding them.

The share is the toxic's toxicity, rolled per request (not per connection as
for TCP toxics, since keep-alive clients reuse a few connections for
everything). Optional `method` and `path` narrow it to one route. The answer
carries `status`, `headers` and `body`, plus `X-Chaosdrill-Toxic: <name>`
so a report can tell injected errors from real ones.
"""

from __future__ import annotations

import dataclasses
import http

from harness.proxy.errors import bad_body
from harness.proxy.toxics.base import Chunk, Stub, attribute
from harness.proxy.toxics.http_common import HttpToxic, check_path_pattern, frame, selected


@dataclasses.dataclass(frozen=True)
class HttpErrorToxic(HttpToxic):
    type_name = "http_error"
    order = 10
    status: int = attribute(503, kind="status", main=True)
    body: str = attribute("", kind="text")
    headers: tuple[tuple[str, str], ...] = attribute((), kind="headers")
    method: str = attribute("", kind="text")
    path: str = attribute("", kind="text")

    def validate(self) -> None:
        super().validate()
        if not 100 <= self.status <= 599:
            raise bad_body(f"attribute status must be an HTTP status (100-599), got {self.status}")
        check_path_pattern(self.path)
        for name, value in self.headers:
            if any(c in name + value for c in "\r\n") or not name:
                raise bad_body(f"attribute headers has an invalid header {name!r}")

    def response(self, head_only: bool, keep_alive: bool, toxic_name: str) -> bytes:
        try:
            reason = http.HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Injected"
        body = self.body.encode()
        names = {n.lower() for n, _ in self.headers}
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        if "content-type" not in names:
            lines.append("Content-Type: text/plain; charset=utf-8")
        lines.append(f"Content-Length: {len(body)}")
        if not keep_alive:
            lines.append("Connection: close")
        lines.append(f"X-Chaosdrill-Toxic: {toxic_name}")
        lines.extend(f"{n}: {v}" for n, v in self.headers if n.lower() != "content-length")
        out = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        return out if head_only else out + body

    async def on_chunk(self, stub: Stub, chunk: Chunk) -> None:
        segments = frame(stub, chunk)
        for seg in segments:
            request = seg.request
            if seg.starts:
                stub.state["answer"] = request is not None and selected(stub, request, self.method, self.path)
            if request is None or not stub.state.get("answer"):
                stub.send(Chunk(seg.data, chunk.ts))
                continue
            if seg.ends:  # the whole request was swallowed: answer it
                stub.state["answer"] = False
                answer = self.response(request.method == "HEAD", request.keep_alive, stub.name)
                stub.reply(answer, not request.keep_alive)
            elif seg.starts and "100-continue" in request.headers.get("expect", "").lower():
                # the client waits for a go-ahead before sending its body: answer now and
                # close, since it may or may not send the body after a final status
                stub.reply(self.response(request.method == "HEAD", False, stub.name), True)
                return
