"""Fixtures: the fault proxy server as a subprocess, driven over HTTP only.

Upstreams are plain threads on 127.0.0.1 (an echo server and a keep-alive
HTTP/1.1 server) so the tests measure the proxy, not the upstream.
"""

from __future__ import annotations

import http.server
import socket
import socketserver
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests
from toxiproxy import Toxiproxy

from harness.proxy.process import ProxyServerProcess, start_proxy_server


def start_server(*args: str) -> ProxyServerProcess:
    """The server as a child process, started the way the harness starts it."""
    config = Path(args[args.index("--config") + 1]) if "--config" in args else None
    return start_proxy_server(config=config)


def stop_server(server: ProxyServerProcess) -> None:
    server.stop()


@pytest.fixture(scope="session")
def server() -> Iterator[ProxyServerProcess]:
    srv = start_server()
    try:
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture
def api(server: ProxyServerProcess) -> Iterator[str]:
    """The API base URL, emptied of proxies after each test."""
    yield server.url
    for name in requests.get(f"{server.url}/proxies", timeout=5).json():
        requests.delete(f"{server.url}/proxies/{name}", timeout=5)


@pytest.fixture
def client(api: str, server: ProxyServerProcess) -> Toxiproxy:
    toxiproxy = Toxiproxy()
    toxiproxy.update_api_consumer("127.0.0.1", server.port)
    return toxiproxy


# ---- upstreams ---------------------------------------------------------------


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            while data := self.request.recv(65536):
                self.request.sendall(data)
        except OSError:
            pass


class _Threaded(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _serve_in_thread(srv: socketserver.BaseServer) -> Iterator[str]:
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture(scope="session")
def echo_upstream() -> Iterator[str]:
    yield from _serve_in_thread(_Threaded(("127.0.0.1", 0), _EchoHandler))


class _HttpHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else Nagle + delayed ACK add 40 ms per response
    wbufsize = 65536  # head and body leave in one write
    seen: list[str] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(self.rfile)
        _HttpHandler.seen.append(f"{self.command} {self.path}")
        out = b"upstream:" + self.command.encode() + b" " + self.path.encode() + b" " + body
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


def _read_chunked(rfile) -> bytes:
    body = b""
    while True:
        size = int(rfile.readline().split(b";")[0], 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return body
        body += rfile.read(size)
        rfile.readline()


class _HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture(scope="session")
def http_upstream() -> Iterator[str]:
    yield from _serve_in_thread(_HttpServer(("127.0.0.1", 0), _HttpHandler))


@pytest.fixture
def http_seen() -> list[str]:
    _HttpHandler.seen.clear()
    return _HttpHandler.seen


# ---- helpers -------------------------------------------------------------------


def make_proxy(api: str, name: str, upstream: str, **extra: object) -> tuple[dict, int]:
    r = requests.post(f"{api}/proxies", json={"name": name, "upstream": upstream, "listen": "127.0.0.1:0", **extra}, timeout=5)
    assert r.status_code == 201, r.text
    proxy = r.json()
    return proxy, int(proxy["listen"].rsplit(":", 1)[1])


def add_toxic(api: str, proxy: str, **toxic: object) -> dict:
    r = requests.post(f"{api}/proxies/{proxy}/toxics", json=toxic, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        if not more:
            break
        data += more
    return data


def round_trip(sock: socket.socket, payload: bytes) -> float:
    start = time.perf_counter()
    sock.sendall(payload)
    got = recv_exactly(sock, len(payload))
    assert got == payload
    return time.perf_counter() - start


def fastest_round_trip(sock: socket.socket, payload: bytes, tries: int = 3) -> float:
    """The least of a few round trips: an upper bound check then ignores scheduling noise
    on a loaded machine, while a lower bound still holds for every one of them."""
    return min(round_trip(sock, payload) for _ in range(tries))
