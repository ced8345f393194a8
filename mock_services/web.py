"""A lean asyncio HTTP/1.1 server for the mock services.

Why not aiohttp's server: a drill needs the stack not to be the bottleneck,
and every loan crosses three HTTP hops. A Protocol-based server that parses
only what these services use (Content-Length bodies, keep-alive, pipelining)
costs a fraction of aiohttp's per-request work (see docs/services.md for the
measurement). Handlers are plain coroutines `(Request, **path_params) ->
Response`; an exception in a handler becomes a bare 500 without a `code`,
which is exactly the ungraceful outcome the harness must be able to see.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, unquote

from mock_services.codes import Code

MAX_HEAD = 64 * 1024
MAX_BODY = 8 * 1024 * 1024

REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
    411: "Length Required", 413: "Payload Too Large", 422: "Unprocessable Entity",
    429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
}

log = logging.getLogger("mock_services.web")


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not JSON."""
        return json.loads(self.body or b"null")

    def query_params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query))


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self, keep_alive: bool) -> bytes:
        head = [f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Unknown')}\r\n"
                f"Content-Type: {self.content_type}\r\nContent-Length: {len(self.body)}\r\n"]
        for name, value in self.headers.items():
            head.append(f"{name}: {value}\r\n")
        if not keep_alive:
            head.append("Connection: close\r\n")
        head.append("\r\n")
        return "".join(head).encode("latin-1") + self.body


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload, separators=(",", ":")).encode(), headers=headers or {})


def text_response(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status, text.encode(), content_type=content_type)


Handler = Callable[..., Awaitable[Response]]


class Router:
    """Routes by method and path template ("/v1/loans/{loan_id}")."""

    def __init__(self) -> None:
        self._routes: dict[int, list[tuple[str, list[str], Handler]]] = {}

    def add(self, method: str, template: str, handler: Handler) -> None:
        parts = template.strip("/").split("/")
        self._routes.setdefault(len(parts), []).append((method, parts, handler))

    def resolve(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """(handler, params, path_known): path_known without handler means 405."""
        parts = path.strip("/").split("/")
        path_known = False
        for route_method, template, handler in self._routes.get(len(parts), ()):
            params: dict[str, str] = {}
            for want, got in zip(template, parts):
                if want[:1] == "{":
                    params[want[1:-1]] = unquote(got)
                elif want != got:
                    break
            else:
                if route_method == method:
                    return handler, params, True
                path_known = True
        return None, {}, path_known


class Application:
    """A router plus an optional middleware run around every matched handler."""

    def __init__(self) -> None:
        self.router = Router()

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.router.add(method, template, handler)
            return handler
        return register

    async def handle(self, request: Request) -> Response:
        handler, params, known = self.router.resolve(request.method, request.path)
        if handler is None:
            return self.not_found(request, known)
        try:
            return await handler(request, **params)
        except Exception:  # a bare 500: the ungraceful outcome, on purpose without a code
            log.exception("unhandled error in %s %s", request.method, request.path)
            return text_response(500, "Internal Server Error")

    def not_found(self, request: Request, path_known: bool) -> Response:
        # A code like every other answer, so a client (or a load test) that calls a wrong route
        # reads what went wrong instead of an answer it cannot classify.
        if path_known:
            return json_response(405, {"code": Code.INVALID_REQUEST.value,
                                       "message": f"method {request.method} not allowed on {request.path}"})
        return json_response(404, {"code": Code.NOT_FOUND.value, "message": f"no route {request.method} {request.path}"})


class HttpProtocol(asyncio.Protocol):
    """One connection: parse requests as bytes arrive, answer them in order."""

    __slots__ = ("app", "transport", "buffer", "pending", "busy", "closed")

    def __init__(self, app: Application) -> None:
        self.app = app
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.pending: deque[tuple[Request, bool]] = deque()
        self.busy = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while buffer:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    self._fail(400, "request head too large")
                return
            lines = buffer[:end].decode("latin-1").split("\r\n")
            request_line = lines[0].split(" ")
            if len(request_line) != 3:
                self._fail(400, "malformed request line")
                return
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if not sep:
                    self._fail(400, "malformed header")
                    return
                headers[name.strip().lower()] = value.strip()
            if "transfer-encoding" in headers:
                self._fail(411, "chunked bodies are not supported: send Content-Length")
                return
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                self._fail(400, "bad Content-Length")
                return
            if length > MAX_BODY:
                self._fail(413, "body too large")
                return
            start = end + 4
            if len(buffer) < start + length:
                return
            body = bytes(buffer[start:start + length])
            del buffer[:start + length]
            method, target, version = request_line
            path, _, query = target.partition("?")
            connection = headers.get("connection", "").lower()
            keep_alive = "close" not in connection if version != "HTTP/1.0" else "keep-alive" in connection
            self.pending.append((Request(method, path, query, headers, body), keep_alive))
            if not self.busy:
                self.busy = True
                asyncio.get_running_loop().create_task(self._serve())

    async def _serve(self) -> None:
        try:
            while self.pending:
                request, keep_alive = self.pending.popleft()
                response = await self.app.handle(request)
                if self.closed:
                    return
                self.transport.write(response.encode(keep_alive))  # type: ignore[union-attr]
                if not keep_alive:
                    self.transport.close()  # type: ignore[union-attr]
                    self.closed = True
                    return
        finally:
            self.busy = False

    def _fail(self, status: int, message: str) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(json_response(status, {"message": message}).encode(False))
            self.transport.close()
        self.closed = True
        self.buffer.clear()


async def serve(app: Application, sock: Any) -> asyncio.AbstractServer:
    """Serve on an already bound, listening socket (so bind errors surface early)."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: HttpProtocol(app), sock=sock, backlog=1024)
