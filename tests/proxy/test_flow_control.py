"""A slow reader must slow the sender through the proxy, not fill the proxy's memory."""

from __future__ import annotations

import socket
import threading
import time
from typing import Iterator

import pytest

from .conftest import add_toxic, connect, make_proxy

FLOOD = 256 * 1024 * 1024  # far more than any buffer on the way


@pytest.fixture
def flood_upstream() -> Iterator[tuple[str, list[int]]]:
    """Writes FLOOD bytes to each client as fast as it is allowed; reports how much it got out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    sent: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        block = b"x" * 65536
        total = 0
        conn.settimeout(0.2)
        with conn:
            while total < FLOOD and not stop.is_set():
                try:
                    total += conn.send(block)
                except socket.timeout:
                    continue
                except OSError:
                    break
                sent[:] = [total]

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}", sent
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("with_toxic", [False, True], ids=["fast path", "toxic pipeline"])
def test_slow_reader_bounds_memory_and_backs_up_the_sender(server, api, flood_upstream, with_toxic):
    upstream, sent = flood_upstream
    _, port = make_proxy(api, "flood", upstream)
    if with_toxic:
        add_toxic(api, "flood", type="latency", attributes={"latency": 1})
    before = rss_kib(server.process.pid)
    sock = connect(port)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    got = len(sock.recv(65536))
    time.sleep(1.0)  # read nothing: everything must back up to the upstream
    backed_up_at = sent[0] if sent else 0
    time.sleep(0.3)
    assert (sent[0] if sent else 0) == backed_up_at  # the sender is stalled
    assert backed_up_at < 40 * 1024 * 1024  # kernel buffers + at most a few MiB in the proxy
    assert rss_kib(server.process.pid) - before < 24 * 1024
    # and it flows again once the reader reads
    deadline = time.time() + 5
    while got < backed_up_at + 8 * 1024 * 1024 and time.time() < deadline:
        got += len(sock.recv(1 << 20))
    assert got >= backed_up_at + 8 * 1024 * 1024
    sock.close()
