"""A tiny HTTP/1.1 server whose answers are known in advance, for checking
that the load process counts exactly what the server did.

GET paths (the last path segment chooses the behaviour; keep-alive):
  ok, slow (100 ms), degraded (503 OVERLOADED + Retry-After), noretry
  (429 OVERLOADED, no Retry-After), rejected (403 RISK_REJECTED, code not
  first in the body), bare500, unknown (code WHATEVER), reset (TCP RST),
  hang (answers after 2.5 s).
Counts every request it received, per path. `ScriptedServer(respond)`
takes another answer function (method, path, body) -> (status, body bytes,
headers) or RESET, for fakes of other services.
"""

from __future__ import annotations

import json
import socket
import socketserver
import struct
import threading
import time
from collections import Counter
from typing import Callable, Union

RESET = "reset"
Answer = Union[tuple[int, bytes, dict[str, str]], str]
Respond = Callable[[str, str, bytes], Answer]

ANSWERS: dict[str, tuple[int, bytes, dict[str, str]]] = {
    "ok": (200, b'{"code":"OK","message":"fine"}', {}),
    "slow": (200, b'{"code":"OK","message":"slowly"}', {}),
    "degraded": (503, b'{"code":"OVERLOADED","message":"busy"}', {"Retry-After": "1"}),
    "noretry": (429, b'{"code":"OVERLOADED","message":"busy"}', {}),
    "rejected": (403, json.dumps({"message": "no", "reasons": ["risk"], "code": "RISK_REJECTED"}).encode(), {}),
    "bare500": (500, b"Internal Server Error", {"Content-Type": "text/plain"}),
    "unknown": (200, b'{"code":"WHATEVER","message":"?"}', {}),
    "hang": (200, b'{"code":"OK","message":"too late"}', {}),
}
DELAYS = {"slow": 0.1, "hang": 2.5}


def scripted_answer(method: str, path: str, body: bytes) -> Answer:
    kind = path.rstrip("/").rsplit("/", 1)[-1]
    if kind == "reset":
        return RESET
    time.sleep(DELAYS.get(kind, 0.0))
    return ANSWERS.get(kind, (404, b'{"code":"NOT_FOUND","message":"?"}', {}))


class _Handler(socketserver.StreamRequestHandler):
    server: "_Server"

    def handle(self) -> None:
        while True:
            line = self.rfile.readline(65536)
            if not line:
                return
            length = 0
            while True:
                header = self.rfile.readline(65536)
                if header in (b"\r\n", b"\n", b""):
                    break
                name, _, value = header.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = self.rfile.read(length) if length else b""
            method, path = line.split()[0].decode(), line.split()[1].decode()
            with self.server.lock:
                self.server.counts[path] += 1
            answer = self.server.respond(method, path, body)
            if answer == RESET:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                return
            status, body, headers = answer
            head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: keep-alive"]
            head += [f"{k}: {v}" for k, v in headers.items()]
            if "Content-Type" not in headers:
                head.append("Content-Type: application/json")
            try:
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                self.wfile.flush()
            except OSError:
                return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, respond: Respond) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.respond = respond


class ScriptedServer:
    def __init__(self, respond: Respond = scripted_answer) -> None:
        self._server = _Server(respond)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def counts(self) -> dict[str, int]:
        with self._server.lock:
            return dict(self._server.counts)

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
