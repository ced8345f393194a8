"""A lean keep-alive HTTP/1.1 client for lending's dependency calls.

Why hand-written: lending makes two or three upstream calls per loan, and
the client side of aiohttp costs more CPU per call than the whole lean server
(measured in docs/services.md). Besides speed, lending needs to know *how* a
call failed, because that decides whether a payment may be retried elsewhere:
`sent=False` (the connection was refused: the request never left) versus
`sent=True` (a timeout or reset after sending: the outcome is unknown).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any
from urllib.parse import urlsplit


class DependencyError(Exception):
    """A dependency call that did not produce an HTTP response."""

    def __init__(self, dependency: str, kind: str, sent: bool, detail: str = "") -> None:
        super().__init__(f"{dependency}: {kind}{': ' + detail if detail else ''}")
        self.dependency = dependency
        self.kind = kind  # "connect", "timeout", "reset", "breaker-open", "status"
        self.sent = sent  # True: the request may have reached the dependency


class HttpResponse:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class _ClientProtocol(asyncio.Protocol):
    __slots__ = ("transport", "buffer", "waiter", "closed", "reusable")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[HttpResponse] | None = None
        self.closed = False
        self.reusable = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionResetError("connection closed before a complete response"))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        end = buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        lines = buffer[:end].decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        start = end + 4
        if len(buffer) < start + length:
            return
        body = bytes(buffer[start:start + length])
        del buffer[:start + length]
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            self.waiter.set_exception(ConnectionResetError(f"malformed status line {lines[0]!r}"))
            return
        if headers.get("connection", "").lower() == "close":
            self.reusable = False
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result(HttpResponse(status, headers, body))


class HttpClient:
    """Keep-alive connection pool to one base URL (http://host:port)."""

    def __init__(self, base_url: str, name: str, max_idle: int = 256) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"{name}: URL must look like http://HOST:PORT, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.host = parts.hostname
        self.port = parts.port
        self.host_header = f"{self.host}:{self.port}"
        self.max_idle = max_idle
        self._idle: deque[_ClientProtocol] = deque()

    async def request(self, method: str, path: str, payload: Any = None,
                      headers: dict[str, str] | None = None, timeout: float | None = None) -> HttpResponse:
        """One call; raises DependencyError when no response arrived in time."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        protocol = None
        while self._idle:
            candidate = self._idle.pop()
            if not candidate.closed:
                protocol = candidate
                break
        if protocol is None:
            try:
                connect = loop.create_connection(_ClientProtocol, self.host, self.port)
                _, protocol = await (connect if timeout is None else asyncio.wait_for(connect, timeout))
            except asyncio.TimeoutError:
                raise DependencyError(self.name, "timeout", sent=False, detail="connect timed out") from None
            except OSError as exc:
                raise DependencyError(self.name, "connect", sent=False, detail=str(exc)) from None
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        head = [f"{method} {path} HTTP/1.1\r\nHost: {self.host_header}\r\nContent-Length: {len(body)}\r\n"]
        if payload is not None:
            head.append("Content-Type: application/json\r\n")
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}\r\n")
        head.append("\r\n")
        waiter: asyncio.Future[HttpResponse] = loop.create_future()
        protocol.waiter = waiter
        try:
            protocol.transport.write("".join(head).encode("latin-1") + body)  # type: ignore[union-attr]
        except RuntimeError as exc:  # uvloop: a pooled connection the peer closed before we noticed
            protocol.transport.abort()  # type: ignore[union-attr]
            raise DependencyError(self.name, "reset", sent=False, detail=f"connection already closed: {exc}") from None
        timer = None
        if deadline is not None:
            timer = loop.call_at(deadline, _expire, waiter)
        try:
            response = await waiter
        except asyncio.TimeoutError:
            protocol.transport.abort()  # type: ignore[union-attr]
            raise DependencyError(self.name, "timeout", sent=True, detail=f"no response within {timeout:.3f}s") from None
        except ConnectionError as exc:
            protocol.transport.abort()  # type: ignore[union-attr]
            raise DependencyError(self.name, "reset", sent=True, detail=str(exc)) from None
        except asyncio.CancelledError:
            protocol.transport.abort()  # type: ignore[union-attr]
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if protocol.reusable and not protocol.closed and len(self._idle) < self.max_idle:
            self._idle.append(protocol)
        else:
            protocol.transport.close()  # type: ignore[union-attr]
        return response

    def close(self) -> None:
        while self._idle:
            protocol = self._idle.pop()
            if protocol.transport is not None:
                protocol.transport.close()


def _expire(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_exception(asyncio.TimeoutError())
