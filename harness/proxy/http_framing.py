"""Just enough HTTP/1.1 request framing for the HTTP-aware toxics.

The toxics must know where each request starts and ends on a keep-alive
connection (Content-Length and chunked bodies, pipelined requests, heads
split across reads) without buffering bodies, so this splits the byte stream
into segments tagged with their request instead of parsing whole messages.
Anything it cannot frame (a malformed head, an Upgrade/CONNECT tunnel) turns
the rest of the connection into plain pass-through bytes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

MAX_HEAD = 64 * 1024
MAX_LINE = 8 * 1024

_HEAD, _BODY, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _TUNNEL = range(7)


@dataclass
class RequestHead:
    method: str
    target: str
    version: str
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


class Segment:
    """Bytes of one request (`request` None: unframed pass-through bytes)."""

    __slots__ = ("request", "data", "starts", "ends")

    def __init__(self, request: RequestHead | None, data: bytes, starts: bool, ends: bool) -> None:
        self.request = request
        self.data = data
        self.starts = starts
        self.ends = ends


def parse_head(raw: bytes) -> RequestHead | None:
    try:
        text = raw.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes anything
        return None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            return None
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return RequestHead(parts[0], parts[1], parts[2], headers)


class RequestFramer:
    """Splits a client->server byte stream into per-request segments."""

    def __init__(self) -> None:
        self._state = _HEAD
        self._buf = bytearray()
        self._request: RequestHead | None = None
        self._remaining = 0
        self._tunnel_after = False

    @property
    def pending(self) -> bytes:
        """Bytes read but not yet returned in a segment (an incomplete head)."""
        return bytes(self._buf) if self._state == _HEAD else b""

    def feed(self, data: bytes) -> list[Segment]:
        out: list[Segment] = []
        while data:
            if self._state == _TUNNEL:
                out.append(Segment(None, data, False, False))
                return out
            if self._state == _HEAD:
                data = self._feed_head(data, out)
            elif self._state == _BODY:
                take = min(self._remaining, len(data))
                self._remaining -= take
                ends = self._remaining == 0
                out.append(Segment(self._request, data[:take], False, ends))
                data = data[take:]
                if ends:
                    self._request_done()
            else:
                data = self._feed_chunked(data, out)
        return out

    def _feed_head(self, data: bytes, out: list[Segment]) -> bytes:
        self._buf += data
        while self._buf[:2] == b"\r\n":  # stray CRLFs between requests are allowed
            out.append(Segment(None, bytes(self._buf[:2]), False, False))
            del self._buf[:2]
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > MAX_HEAD:
                self._tunnel(out)
            return b""
        raw = bytes(self._buf[: end + 4])
        rest = bytes(self._buf[end + 4 :])
        self._buf.clear()
        request = parse_head(raw[:-4])
        if request is None:
            self._state = _TUNNEL
            out.append(Segment(None, raw, False, False))
            return rest
        self._request = request
        headers = request.headers
        self._tunnel_after = request.method == "CONNECT" or "upgrade" in headers.get("connection", "").lower()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._state = _CHUNK_SIZE
            out.append(Segment(request, raw, True, False))
            return rest
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self._state = _TUNNEL
            out.append(Segment(request, raw, True, True))
            return rest
        self._remaining = length
        if length == 0:
            out.append(Segment(request, raw, True, True))
            self._request_done()
        else:
            self._state = _BODY
            out.append(Segment(request, raw, True, False))
        return rest

    def _feed_chunked(self, data: bytes, out: list[Segment]) -> bytes:
        """Walk chunk sizes, data and trailers; emit the bytes walked as one segment."""
        pos = 0
        n = len(data)
        while pos < n:
            if self._state == _CHUNK_DATA:
                take = min(self._remaining, n - pos)
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._state = _CHUNK_END
                continue
            newline = data.find(b"\n", pos)
            if newline < 0:
                self._buf += data[pos:]
                pos = n
                if len(self._buf) > MAX_LINE:
                    self._buf.clear()
                    self._state = _TUNNEL
                break
            line = bytes(self._buf) + data[pos:newline]
            self._buf.clear()
            pos = newline + 1
            if self._state == _CHUNK_SIZE:
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self._state = _TUNNEL
                    break
                # the line was copied only to parse it: its bytes are in this segment
                if size == 0:
                    self._state = _TRAILER
                else:
                    self._remaining = size
                    self._state = _CHUNK_DATA
            elif self._state == _CHUNK_END:
                self._state = _CHUNK_SIZE
            elif self._state == _TRAILER and not line.strip():
                out.append(Segment(self._request, data[:pos], False, True))
                self._request_done()
                return data[pos:]
        if pos:
            out.append(Segment(self._request, data[:pos], False, False))
        return data[pos:]

    def _request_done(self) -> None:
        self._request = None
        self._state = _TUNNEL if self._tunnel_after else _HEAD

    def _tunnel(self, out: list[Segment]) -> None:
        out.append(Segment(None, bytes(self._buf), False, False))
        self._buf.clear()
        self._state = _TUNNEL


@functools.lru_cache(maxsize=256)
def compile_path(pattern: str) -> re.Pattern[str]:
    """A path pattern: a regular expression matched from the start of the path.

    So a plain '/v1/loans' is a prefix, '$' anchors the end, and '{name}'
    stands for one path segment ('/v1/loans/{id}/repayments').
    """
    return re.compile(re.sub(r"\{[A-Za-z_][A-Za-z0-9_]*\}", "[^/]+", pattern))


def request_matches(request: RequestHead, method: str, path: str) -> bool:
    if method and request.method.upper() != method.upper():
        return False
    return not path or compile_path(path).match(request.path) is not None
