"""Every TCP toxic measurably doing what it says, on new and on live connections."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from .conftest import add_toxic, connect, fastest_round_trip, make_proxy, recv_exactly, round_trip


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    start = time.perf_counter()
    data = b""
    while more := sock.recv(65536):
        data += more
    return data, time.perf_counter() - start


def test_latency_adds_the_configured_delay(api, echo_upstream):
    _, port = make_proxy(api, "lat", echo_upstream)
    sock = connect(port)
    base = round_trip(sock, b"warm")
    add_toxic(api, "lat", type="latency", attributes={"latency": 300})
    took = fastest_round_trip(sock, b"hello")
    assert 0.298 <= took <= 0.300 + base + 0.03, took


def test_latency_is_pipelined_not_serialised(api, echo_upstream):
    _, port = make_proxy(api, "pipe", echo_upstream)
    add_toxic(api, "pipe", type="latency", attributes={"latency": 200})
    sock = connect(port)
    start = time.perf_counter()
    for i in range(5):
        sock.sendall(b"%d" % i)
        time.sleep(0.04)
    assert recv_exactly(sock, 5) == b"01234"
    # serialised delays would take 5 x 200 ms; pipelined ones end 200 ms after the last send
    assert time.perf_counter() - start < 0.2 + 5 * 0.04 + 0.25  # serialised: >= 1 s


def test_latency_on_both_streams_adds_up(api, echo_upstream):
    _, port = make_proxy(api, "both", echo_upstream)
    add_toxic(api, "both", type="latency", stream="upstream", attributes={"latency": 100})
    add_toxic(api, "both", type="latency", stream="downstream", attributes={"latency": 150})
    sock = connect(port)
    took = fastest_round_trip(sock, b"x")
    assert 0.248 <= took < 0.25 + 0.05, took


def test_jitter_stays_within_bounds(api, echo_upstream):
    _, port = make_proxy(api, "jit", echo_upstream)
    add_toxic(api, "jit", type="latency", attributes={"latency": 60, "jitter": 40})
    sock = connect(port)
    times = [round_trip(sock, b"j") for _ in range(8)]
    assert all(0.018 <= t for t in times) and sorted(times)[len(times) // 2] <= 0.13, times
    assert max(times) - min(times) > 0.005  # it does vary


def test_reset_peer_resets_the_connection(api, echo_upstream):
    _, port = make_proxy(api, "rst", echo_upstream)
    add_toxic(api, "rst", type="reset_peer", attributes={"timeout": 0})
    sock = connect(port)
    sock.sendall(b"x")
    with pytest.raises(ConnectionResetError):
        sock.recv(10)


def test_reset_peer_waits_its_timeout(api, echo_upstream):
    _, port = make_proxy(api, "rst2", echo_upstream)
    add_toxic(api, "rst2", type="reset_peer", stream="upstream", attributes={"timeout": 200})
    sock = connect(port)
    start = time.perf_counter()
    sock.sendall(b"x")
    with pytest.raises(ConnectionResetError):
        sock.recv(10)
    assert 0.19 <= time.perf_counter() - start < 0.6


def test_timeout_drops_data_then_closes(api, echo_upstream):
    _, port = make_proxy(api, "to", echo_upstream)
    add_toxic(api, "to", type="timeout", attributes={"timeout": 300})
    sock = connect(port)
    sock.sendall(b"lost")
    data, took = read_until_closed(sock)
    assert data == b"" and 0.28 <= took <= 0.6, took


def test_timeout_restarts_with_each_chunk_as_toxiproxys_does(api, echo_upstream):
    _, port = make_proxy(api, "idle", echo_upstream)
    add_toxic(api, "idle", type="timeout", stream="upstream", attributes={"timeout": 300})
    sock = connect(port, timeout=0.15)
    start = time.perf_counter()
    for _ in range(6):  # a chunk every ~150 ms: never 300 ms without data
        sock.sendall(b"x")
        last = time.perf_counter()
        with pytest.raises(socket.timeout):
            sock.recv(10)  # dropped, and still open (a close would read b"")
    assert last - start >= 0.7
    sock.settimeout(2)
    data, _ = read_until_closed(sock)
    idle = time.perf_counter() - last
    assert data == b"" and 0.25 <= idle <= 0.6, idle  # closed ~300 ms after the last chunk


def test_timeout_zero_holds_until_removed(api, echo_upstream):
    _, port = make_proxy(api, "hold", echo_upstream)
    add_toxic(api, "hold", type="timeout", stream="upstream", attributes={"timeout": 0})
    sock = connect(port, timeout=0.5)
    sock.sendall(b"never")
    with pytest.raises(socket.timeout):
        sock.recv(10)  # silence, connection open
    assert requests.delete(f"{api}/proxies/hold/toxics/timeout_upstream").status_code == 204
    sock.settimeout(2)
    assert sock.recv(10) == b""  # removing the toxic closes the connections it held


def test_bandwidth_limits_the_rate(api, echo_upstream):
    _, port = make_proxy(api, "bw", echo_upstream)
    add_toxic(api, "bw", type="bandwidth", attributes={"rate": 100})  # 100 KB/s = 100_000 B/s
    sock = connect(port)
    payload = bytes(range(256)) * 200  # 51_200 bytes -> 0.512 s
    start = time.perf_counter()
    sock.sendall(payload)
    assert recv_exactly(sock, len(payload)) == payload
    took = time.perf_counter() - start
    assert 0.45 <= took <= 0.8, took


def test_slicer_cuts_into_small_pieces(api, echo_upstream):
    _, port = make_proxy(api, "sl", echo_upstream)
    add_toxic(api, "sl", type="slicer", attributes={"average_size": 10, "size_variation": 4, "delay": 10_000})
    sock = connect(port)
    payload = b"x" * 200
    sock.sendall(payload)
    pieces = []
    while sum(map(len, pieces)) < len(payload):
        pieces.append(sock.recv(1000))
    assert b"".join(pieces) == payload
    assert len(pieces) >= 10 and max(map(len, pieces)) <= 30, [len(p) for p in pieces]


def test_limit_data_closes_after_n_bytes(api, echo_upstream):
    _, port = make_proxy(api, "lim", echo_upstream)
    add_toxic(api, "lim", type="limit_data", attributes={"bytes": 10})
    sock = connect(port)
    sock.sendall(b"0123456789abcdefghij")
    data, _ = read_until_closed(sock)
    assert data == b"0123456789"


def test_slow_close_delays_the_close(api, echo_upstream):
    _, port = make_proxy(api, "sc", echo_upstream)
    fast = connect(port)
    fast.shutdown(socket.SHUT_WR)  # echo server closes, proxy passes the close on
    _, quick = read_until_closed(fast)
    add_toxic(api, "sc", type="slow_close", attributes={"delay": 300})
    slow = connect(port)
    round_trip(slow, b"data still flows")
    slow.shutdown(socket.SHUT_WR)
    _, took = read_until_closed(slow)
    assert quick < 0.25 and 0.29 <= took <= 0.6, (quick, took)


def test_noop_passes_through(api, echo_upstream):
    _, port = make_proxy(api, "noop", echo_upstream)
    add_toxic(api, "noop", type="noop")
    assert fastest_round_trip(connect(port), b"same") < 0.1


def test_toxicity_zero_and_one(api, echo_upstream):
    _, port = make_proxy(api, "tox", echo_upstream)
    add_toxic(api, "tox", type="latency", toxicity=0.0, attributes={"latency": 200})
    assert fastest_round_trip(connect(port), b"a") < 0.1
    requests.patch(f"{api}/proxies/tox/toxics/latency_downstream", json={"toxicity": 1.0})
    assert round_trip(connect(port), b"b") >= 0.198


def test_toxicity_is_rolled_per_connection(api, echo_upstream):
    _, port = make_proxy(api, "roll", echo_upstream)
    add_toxic(api, "roll", type="latency", toxicity=0.5, attributes={"latency": 100})
    slow = 0
    for _ in range(20):
        sock = connect(port)
        first = round_trip(sock, b"1")
        second = round_trip(sock, b"2")
        assert (first >= 0.098) == (second >= 0.098)  # same roll for the whole connection
        slow += first >= 0.098
        sock.close()
    assert 3 <= slow <= 17, slow


def test_live_connection_follows_add_update_remove(api, echo_upstream):
    _, port = make_proxy(api, "live", echo_upstream)
    sock = connect(port)
    assert fastest_round_trip(sock, b"a") < 0.05
    add_toxic(api, "live", type="latency", attributes={"latency": 200})
    assert 0.198 <= fastest_round_trip(sock, b"b", 2) < 0.25
    requests.patch(f"{api}/proxies/live/toxics/latency_downstream", json={"attributes": {"latency": 80}})
    assert 0.078 <= fastest_round_trip(sock, b"c") < 0.13
    add_toxic(api, "live", type="latency", stream="upstream", name="up", attributes={"latency": 50})
    assert 0.128 <= fastest_round_trip(sock, b"d") < 0.18
    requests.delete(f"{api}/proxies/live/toxics/latency_downstream")
    requests.delete(f"{api}/proxies/live/toxics/up")
    assert fastest_round_trip(sock, b"e") < 0.05


def test_removing_a_toxic_keeps_bytes_in_flight(api, echo_upstream):
    _, port = make_proxy(api, "flight", echo_upstream)
    add_toxic(api, "flight", type="latency", attributes={"latency": 5000})
    sock = connect(port)
    sock.sendall(b"in flight")
    time.sleep(0.1)
    start = time.perf_counter()
    requests.delete(f"{api}/proxies/flight/toxics/latency_downstream")
    assert recv_exactly(sock, 9) == b"in flight"
    assert time.perf_counter() - start < 1.0  # not the 5 s the toxic would have held it


def test_reset_clears_toxics_on_live_connections(api, echo_upstream):
    _, port = make_proxy(api, "rs", echo_upstream)
    add_toxic(api, "rs", type="latency", attributes={"latency": 300})
    sock = connect(port)
    assert round_trip(sock, b"slow") >= 0.298
    assert requests.post(f"{api}/reset").status_code == 204
    assert fastest_round_trip(sock, b"fast") < 0.05


def test_unreachable_upstream_closes_the_client(api):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    dead = probe.getsockname()[1]
    probe.close()
    _, port = make_proxy(api, "dead", f"127.0.0.1:{dead}")
    sock = connect(port)
    assert read_until_closed(sock)[0] == b""


def test_server_that_speaks_first_and_hangs_up(api):
    """A greeting sent (and the socket closed) before the proxy has wired the client still arrives."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def greet() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            conn.sendall(b"220 hello\r\n")
            conn.close()

    thread = threading.Thread(target=greet, daemon=True)
    thread.start()
    try:
        _, port = make_proxy(api, "greet", f"127.0.0.1:{listener.getsockname()[1]}")
        for _ in range(2):
            data, _ = read_until_closed(connect(port))
            assert data == b"220 hello\r\n"
    finally:
        thread.join(timeout=5)
        listener.close()
