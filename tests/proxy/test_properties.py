"""Property: any bytes pass through byte-identical under latency, slicer and bandwidth.

Echo upstream, toxics on both streams, payloads of random content and size
sent in random pieces: what comes back must be exactly what went out.
"""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.proxy.conftest import connect, recv_exactly

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
