"""Turn one finished request into (outcome class, code, Retry-After missing).

Runs in the Locust hot path for every request, so the common case is cheap:
a body that starts with the classification field (`{"code":"APPROVED",...`,
as the lending service answers) is read without a JSON parse; anything else
falls back to json.loads. Works with FastHttpUser and HttpUser responses
(both have status_code, headers and content). No gevent/locust imports here.

Transport failures get pseudo-codes so a report can say what went wrong:
"timeout", "reset", "refused", "closed", "error"; an answer without a
usable code is "http_<status>". All of these are ungraceful, as is an
unknown code and any answer slower than the client deadline ("timeout").
"""

from __future__ import annotations

import json
import socket
from typing import Any

SUCCESS, DEGRADED, REJECTED, UNGRACEFUL = "success", "degraded", "rejected", "ungraceful"

_CLOSED_NAMES = ("HTTPConnectionClosed", "EmptyResponse", "RemoteDisconnected", "IncompleteRead",
                 "HTTPParseError", "ChunkedEncodingError", "ProtocolError", "BadStatusLine")
_TIMEOUT_NAMES = ("Timeout", "ReadTimeout", "ConnectTimeout", "ReadTimeoutError", "ConnectTimeoutError")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (`original`, causes, requests' first arg)."""
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and all(cur is not e for e in out):
        out.append(cur)
        nxt = getattr(cur, "original", None)
        if not isinstance(nxt, BaseException):
            nxt = cur.__cause__ or cur.__context__
        if nxt is None and cur.args and isinstance(cur.args[0], BaseException):
            nxt = cur.args[0]
        cur = nxt
    return out


def transport_code(exc: BaseException) -> str:
    """A short pseudo-code for a failure that produced no HTTP answer; the most
    specific cause anywhere in the chain wins (a reset beats "closed")."""
    chain = _chain(exc)
    for e in chain:
        if isinstance(e, (TimeoutError, socket.timeout)) or type(e).__name__ in _TIMEOUT_NAMES:
            return "timeout"
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return "refused"
        if isinstance(e, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            return "reset"
    text = " ".join(str(e).lower() for e in chain)
    if "timed out" in text:
        return "timeout"
    if "refused" in text:
        return "refused"
    if "reset by peer" in text or "broken pipe" in text:
        return "reset"
    if any(type(e).__name__ in _CLOSED_NAMES for e in chain):
        return "closed"
    return "error"


class Classifier:
    """Classification rules of one stack: a body field and its code lists."""

    def __init__(self, field: str, code_classes: dict[str, str], retryable_codes: frozenset[str],
                 timeout_ms: float) -> None:
        self.field = field
        self.code_classes = code_classes
        self.retryable = retryable_codes
        self.timeout_ms = timeout_ms
        self._prefix = b'{"' + field.encode() + b'":"'
        self._prefix_len = len(self._prefix)

    def code_of(self, body: bytes | None) -> str | None:
        """The top-level classification field of a JSON body, or None."""
        if not body:
            return None
        if body.startswith(self._prefix):
            end = body.find(b'"', self._prefix_len)
            if end > 0:
                raw = body[self._prefix_len:end]
                if b"\\" not in raw:
                    try:
                        return raw.decode()
                    except UnicodeDecodeError:
                        return None
        stripped = body.lstrip()
        if not stripped.startswith(b"{"):
            return None
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
        value = data.get(self.field) if isinstance(data, dict) else None
        return value if isinstance(value, str) and value else None

    def classify(self, response: Any, exception: BaseException | None,
                 response_time_ms: float) -> tuple[str, str, bool]:
        """(class, code, retry_after_missing) for one finished request."""
        status = getattr(response, "status_code", 0) or 0 if response is not None else 0
        if not status:
            return UNGRACEFUL, transport_code(exception) if exception is not None else "error", False
        if response_time_ms > self.timeout_ms:
            return UNGRACEFUL, "timeout", False
        try:
            body = response.content
        except Exception:  # noqa: BLE001 - a body that breaks while read is a transport failure
            return UNGRACEFUL, "closed", False
        code = self.code_of(body)
        if code is None:
            return UNGRACEFUL, f"http_{status}", False
        cls = self.code_classes.get(code, UNGRACEFUL)
        missing = False
        if code in self.retryable:
            headers = getattr(response, "headers", None)
            missing = not (headers and headers.get("Retry-After"))
        return cls, code, missing
