"""Property: any bytes pass through byte-identical under latency, slicer and bandwidth.

Echo upstream, toxics on both streams, payloads of random content and size
sent in random pieces: what comes back must be exactly what went out.
"""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

from .conftest import connect, recv_exactly

TOXIC_SETS = {
    "latency": [{"type": "latency", "attributes": {"latency": 2, "jitter": 2}}],
    "slicer": [{"type": "slicer", "attributes": {"average_size": 7, "size_variation": 5, "delay": 50}}],
    "bandwidth": [{"type": "bandwidth", "attributes": {"rate": 20_000}}],
    "all": [
        {"type": "latency", "attributes": {"latency": 1, "jitter": 1}},
        {"type": "slicer", "attributes": {"average_size": 64, "size_variation": 32, "delay": 10}},
        {"type": "bandwidth", "attributes": {"rate": 50_000}},
    ],
}


@pytest.fixture(scope="module")
def toxic_ports(server, echo_upstream):
    ports = {}
    for name, toxics in TOXIC_SETS.items():
        r = requests.post(f"{server.url}/proxies", json={"name": f"prop-{name}", "upstream": echo_upstream, "listen": "127.0.0.1:0"})
        ports[name] = int(r.json()["listen"].rsplit(":", 1)[1])
        for stream in ("upstream", "downstream"):
            for toxic in toxics:
                body = {**toxic, "stream": stream, "name": f"{toxic['type']}_{stream}"}
                assert requests.post(f"{server.url}/proxies/prop-{name}/toxics", json=body).status_code == 200
    yield ports
    for name in TOXIC_SETS:
        requests.delete(f"{server.url}/proxies/prop-{name}")


payloads = st.lists(st.binary(min_size=1, max_size=6000), min_size=1, max_size=6)


@pytest.mark.parametrize("toxic_set", list(TOXIC_SETS))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=payloads)
def test_bytes_pass_through_unchanged(toxic_ports, toxic_set, pieces):
    sock = connect(toxic_ports[toxic_set])
    try:
        for piece in pieces:
            sock.sendall(piece)
        expected = b"".join(pieces)
        assert recv_exactly(sock, len(expected)) == expected
    finally:
        sock.close()


# ---- HTTP framing ------------------------------------------------------------------


@st.composite
def http_requests(draw) -> tuple[bytes, list[str]]:
    """A keep-alive stream of requests with Content-Length, chunked or no bodies."""
    stream, paths = b"", []
    for index in range(draw(st.integers(1, 4))):
        path = f"/r{index}/" + draw(st.text("abcxyz0123", max_size=8))
        paths.append(path)
        method = draw(st.sampled_from(["GET", "POST", "PUT"]))
        kind = draw(st.sampled_from(["none", "length", "chunked"]))
        head = f"{method} {path}?q=1 HTTP/1.1\r\nHost: upstream\r\n"
        if kind == "length":
            body = draw(st.binary(max_size=300))
            stream += (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        elif kind == "chunked":
            chunks = draw(st.lists(st.binary(min_size=1, max_size=80), max_size=4))
            encoded = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(c), c) for c in chunks)
            trailer = draw(st.sampled_from([b"", b"X-Sum: 1\r\n"]))
            stream += (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + encoded + b"0\r\n" + trailer + b"\r\n"
        else:
            stream += (head + "\r\n").encode()
    return stream, paths


@settings(max_examples=150, deadline=None)
@given(http_requests(), st.lists(st.integers(1, 64), min_size=1, max_size=50))
def test_framer_finds_every_request_however_the_bytes_are_cut(requests_and_paths, cuts):
    from harness.proxy.http_framing import RequestFramer

    stream, paths = requests_and_paths
    framer, segments, pos, i = RequestFramer(), [], 0, 0
    while pos < len(stream):
        step = cuts[i % len(cuts)]
        segments += framer.feed(stream[pos : pos + step])
        pos, i = pos + step, i + 1
    assert b"".join(s.data for s in segments) == stream and framer.pending == b""
    assert [s.request.path for s in segments if s.starts] == paths
    assert [s.request.path for s in segments if s.ends] == paths


@pytest.fixture(scope="module")
def http_toxic_port(server, echo_upstream):
    r = requests.post(f"{server.url}/proxies", json={"name": "prop-http", "upstream": echo_upstream, "listen": "127.0.0.1:0"})
    for toxic in (
        {"type": "http_error", "attributes": {"path": "/never"}},
        {"type": "http_latency", "attributes": {"latency": 5, "path": "/never"}},
    ):
        assert requests.post(f"{server.url}/proxies/prop-http/toxics", json=toxic).status_code == 200
    yield int(r.json()["listen"].rsplit(":", 1)[1])
    requests.delete(f"{server.url}/proxies/prop-http")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests_and_paths=http_requests(), cut=st.integers(1, 200))
def test_unselected_requests_pass_http_toxics_byte_identical(http_toxic_port, requests_and_paths, cut):
    stream, _ = requests_and_paths
    sock = connect(http_toxic_port)
    try:
        for pos in range(0, len(stream), cut):
            sock.sendall(stream[pos : pos + cut])
        assert recv_exactly(sock, len(stream)) == stream  # the echo upstream sends it all back
    finally:
        sock.close()
