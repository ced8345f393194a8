"""Every endpoint of the Toxiproxy v2 API and every error, with 2.12's codes and messages."""

from __future__ import annotations

import socket

import pytest
import requests

from .conftest import add_toxic, connect, make_proxy, round_trip


def err(r: requests.Response) -> tuple[int, str]:
    body = r.json()
    assert body["status"] == r.status_code
    return r.status_code, body["error"]


def test_proxy_lifecycle(api, echo_upstream):
    r = requests.post(f"{api}/proxies", json={"name": "p", "upstream": echo_upstream})
    assert r.status_code == 201
    proxy = r.json()
    assert list(proxy) == ["name", "listen", "upstream", "enabled", "toxics"]
    assert proxy["enabled"] is True and proxy["toxics"] == []
    host, port = proxy["listen"].rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0  # no listen given: loopback, real port
    assert requests.get(f"{api}/proxies").json() == {"p": proxy}
    assert requests.get(f"{api}/proxies/p").json() == proxy
    round_trip(connect(int(port)), b"ping")

    r = requests.delete(f"{api}/proxies/p")
    assert r.status_code == 204 and r.content == b""
    assert requests.get(f"{api}/proxies").json() == {}
    with pytest.raises(OSError):
        connect(int(port), timeout=1)


def test_create_errors(api, echo_upstream):
    assert err(requests.post(f"{api}/proxies", json={"upstream": echo_upstream})) == (
        400,
        "missing required field: name",
    )
    assert err(requests.post(f"{api}/proxies", json={"name": "a"})) == (400, "missing required field: upstream")
    assert err(requests.post(f"{api}/proxies", data=b"")) == (400, "bad request body: EOF")
    code, message = err(requests.post(f"{api}/proxies", data=b"{nope"))
    assert code == 400 and message.startswith("bad request body: ")
    code, message = err(requests.post(f"{api}/proxies", json={"name": 5, "upstream": echo_upstream}))
    assert code == 400 and message.startswith("bad request body: ")
    make_proxy(api, "a", echo_upstream)
    assert err(requests.post(f"{api}/proxies", json={"name": "a", "upstream": echo_upstream})) == (
        409,
        "proxy already exists",
    )
    assert err(requests.get(f"{api}/proxies/zzz")) == (404, "proxy not found")
    assert err(requests.delete(f"{api}/proxies/zzz")) == (404, "proxy not found")
    assert err(requests.post(f"{api}/proxies/zzz", json={"enabled": False})) == (404, "proxy not found")


def test_bind_failure_is_500_with_the_system_message(api, echo_upstream):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        r = requests.post(f"{api}/proxies", json={"name": "b", "upstream": echo_upstream, "listen": f"127.0.0.1:{port}"})
        assert err(r) == (500, f"listen tcp 127.0.0.1:{port}: bind: address already in use")
        assert requests.get(f"{api}/proxies").json() == {}
    finally:
        blocker.close()


def test_non_loopback_listen_is_refused(api, echo_upstream):
    code, message = err(requests.post(f"{api}/proxies", json={"name": "x", "upstream": echo_upstream, "listen": "0.0.0.0:0"}))
    assert code == 403 and "not a loopback address" in message and "--allow-non-loopback" in message


def test_update_disable_enable_keeps_port_and_closes_connections(api, echo_upstream):
    proxy, port = make_proxy(api, "u", echo_upstream)
    live = connect(port)
    round_trip(live, b"x")
    r = requests.patch(f"{api}/proxies/u", json={"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["listen"] == proxy["listen"]
    assert live.recv(10) == b""  # live connection closed
    with pytest.raises(OSError):
        connect(port, timeout=1)  # listener closed
    r = requests.post(f"{api}/proxies/u", json={"enabled": True})  # POST works as PATCH
    assert r.status_code == 200 and r.json()["enabled"] is True and r.json()["listen"] == proxy["listen"]
    round_trip(connect(port), b"back")


def test_update_listen_restarts_listener(api, echo_upstream):
    _, old_port = make_proxy(api, "m", echo_upstream)
    r = requests.patch(f"{api}/proxies/m", json={"listen": "127.0.0.1:0"})
    assert r.status_code == 200
    new_port = int(r.json()["listen"].rsplit(":", 1)[1])
    assert new_port != old_port
    round_trip(connect(new_port), b"moved")


def test_created_disabled_then_enabled(api, echo_upstream):
    r = requests.post(f"{api}/proxies", json={"name": "d", "upstream": echo_upstream, "listen": "127.0.0.1:0", "enabled": False})
    assert r.status_code == 201 and r.json()["enabled"] is False and r.json()["listen"] == "127.0.0.1:0"
    r = requests.patch(f"{api}/proxies/d", json={"enabled": True})
    round_trip(connect(int(r.json()["listen"].rsplit(":", 1)[1])), b"on")


def test_toxic_endpoints(api, echo_upstream):
    make_proxy(api, "t", echo_upstream)
    down = add_toxic(api, "t", type="latency", attributes={"latency": 5, "unknown": 1})
    assert down == {
        "attributes": {"latency": 5, "jitter": 0},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1.0,
    }
    up = add_toxic(api, "t", type="bandwidth", stream="upstream", toxicity=0.5)
    assert up["name"] == "bandwidth_upstream" and up["attributes"] == {"rate": 0} and up["toxicity"] == 0.5
    named = add_toxic(api, "t", name="cut", type="slicer", stream="upstream")
    # upstream first, then downstream, each in insertion order
    assert [t["name"] for t in requests.get(f"{api}/proxies/t/toxics").json()] == [
        "bandwidth_upstream",
        "cut",
        "latency_downstream",
    ]
    assert requests.get(f"{api}/proxies/t/toxics/cut").json() == named
    assert [t["name"] for t in requests.get(f"{api}/proxies/t").json()["toxics"]] == [
        "bandwidth_upstream",
        "cut",
        "latency_downstream",
    ]
    # update merges attributes and keeps toxicity unless given
    r = requests.patch(f"{api}/proxies/t/toxics/latency_downstream", json={"attributes": {"jitter": 2}})
    assert r.status_code == 200 and r.json()["attributes"] == {"latency": 5, "jitter": 2} and r.json()["toxicity"] == 1.0
    r = requests.post(f"{api}/proxies/t/toxics/latency_downstream", json={"toxicity": 0.25})
    assert r.json()["toxicity"] == 0.25 and r.json()["attributes"] == {"latency": 5, "jitter": 2}
    r = requests.delete(f"{api}/proxies/t/toxics/cut")
    assert r.status_code == 204 and r.content == b""
    assert [t["name"] for t in requests.get(f"{api}/proxies/t/toxics").json()] == ["bandwidth_upstream", "latency_downstream"]


def test_toxic_errors(api, echo_upstream):
    make_proxy(api, "e", echo_upstream)
    url = f"{api}/proxies/e/toxics"
    assert err(requests.post(f"{api}/proxies/nope/toxics", json={"type": "latency"})) == (404, "proxy not found")
    assert err(requests.post(url, json={"type": "nope"})) == (400, "invalid toxic type")
    assert err(requests.post(url, json={})) == (400, "invalid toxic type")
    assert err(requests.post(url, json={"type": "latency", "stream": "sideways"})) == (
        400,
        "stream was invalid, can be either upstream or downstream",
    )
    code, message = err(requests.post(url, json={"type": "latency", "attributes": {"latency": "slow"}}))
    assert code == 400 and message.startswith("bad request body: ") and "latency" in message
    code, message = err(requests.post(url, json={"type": "latency", "toxicity": "high"}))
    assert code == 400 and message.startswith("bad request body: ")
    add_toxic(api, "e", type="latency")
    assert err(requests.post(url, json={"type": "latency"})) == (409, "toxic already exists")
    # names are unique across both streams
    add_toxic(api, "e", name="same", type="noop", stream="upstream")
    assert err(requests.post(url, json={"name": "same", "type": "noop"})) == (409, "toxic already exists")
    assert err(requests.get(f"{url}/nope")) == (404, "toxic not found")
    assert err(requests.patch(f"{url}/nope", json={})) == (404, "toxic not found")
    assert err(requests.delete(f"{url}/nope")) == (404, "toxic not found")
    code, message = err(requests.patch(f"{url}/latency_downstream", json={"attributes": {"jitter": [1]}}))
    assert code == 400 and message.startswith("bad request body: ")


def test_populate_reset_version(api, echo_upstream):
    body = [
        {"name": "p1", "upstream": echo_upstream, "listen": "127.0.0.1:0"},
        {"name": "p2", "upstream": echo_upstream, "listen": "127.0.0.1:0", "enabled": False},
    ]
    r = requests.post(f"{api}/populate", json=body)
    assert r.status_code == 201
    proxies = r.json()["proxies"]
    assert [p["name"] for p in proxies] == ["p1", "p2"] and [p["enabled"] for p in proxies] == [True, False]
    # same again with the bound address: kept as is, toxics included
    add_toxic(api, "p1", type="latency")
    r = requests.post(f"{api}/populate", json=[{"name": "p1", "upstream": echo_upstream, "listen": proxies[0]["listen"]}])
    assert r.status_code == 201 and r.json()["proxies"][0]["toxics"][0]["name"] == "latency_downstream"

    assert err(requests.post(f"{api}/populate", json=[{"upstream": echo_upstream}])) == (
        400,
        "missing required field: name at proxy 1",
    )
    assert err(requests.post(f"{api}/populate", json=[{"name": "a", "upstream": "x:1"}, {"name": "b"}])) == (
        400,
        "missing required field: upstream at proxy 2",
    )
    assert err(requests.post(f"{api}/populate", data=b"{")) [0] == 400

    r = requests.post(f"{api}/reset")
    assert r.status_code == 204 and r.content == b""
    after = requests.get(f"{api}/proxies").json()
    assert all(p["enabled"] and p["toxics"] == [] for p in after.values())

    r = requests.get(f"{api}/version")
    assert r.status_code == 200 and r.json()["version"].startswith("2.12.0")


def test_populate_bind_failure_reports_what_was_done(api, echo_upstream):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        r = requests.post(
            f"{api}/populate",
            json=[
                {"name": "ok", "upstream": echo_upstream, "listen": "127.0.0.1:0"},
                {"name": "bad", "upstream": echo_upstream, "listen": f"127.0.0.1:{port}"},
            ],
        )
        assert r.status_code == 500
        body = r.json()
        assert body["error"] == f"listen tcp 127.0.0.1:{port}: bind: address already in use"
        assert [p["name"] for p in body["proxies"]] == ["ok"]
    finally:
        blocker.close()


def test_browsers_are_refused(api):
    r = requests.get(f"{api}/proxies", headers={"User-Agent": "Mozilla/5.0"})
    assert r.status_code == 403


def test_toxiproxy_python_client(client, echo_upstream):
    proxy = client.create(upstream=echo_upstream, name="py")
    port = int(proxy.listen.rsplit(":", 1)[1])
    assert set(client.proxies()) == {"py"}
    proxy.add_toxic(type="latency", attributes={"latency": 50})
    toxic = proxy.get_toxic("latency_downstream")
    assert toxic.attributes == {"latency": 50, "jitter": 0} and toxic.toxicity == 1.0
    assert round_trip(connect(port), b"z") >= 0.05
    with proxy.down():
        assert client.get_proxy("py").enabled is False
        with pytest.raises(OSError):
            connect(port, timeout=1)
    assert client.get_proxy("py").enabled is True
    assert client.version().startswith(b'{"version": "2.12.0')
    assert client.reset()
    assert proxy.toxics() == {}
    client.destroy_all()
    assert client.proxies() == {}
