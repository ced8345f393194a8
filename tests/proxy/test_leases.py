"""Fault leases: leased toxics and disables end by themselves unless their owner renews them."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from .conftest import add_toxic, connect, fastest_round_trip, make_proxy, round_trip


def wait_until(predicate, timeout: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if predicate():
            return time.perf_counter() - start
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def toxic_names(api: str, proxy: str) -> list[str]:
    return [t["name"] for t in requests.get(f"{api}/proxies/{proxy}/toxics").json()]


def test_leased_toxic_ends_by_itself_on_live_connections(api, echo_upstream):
    _, port = make_proxy(api, "l1", echo_upstream)
    sock = connect(port)
    t0 = time.perf_counter()
    toxic = add_toxic(api, "l1", type="latency", attributes={"latency": 200}, lease={"owner": "run-a", "ttl": 1})
    assert toxic["lease"]["owner"] == "run-a" and toxic["lease"]["ttl"] == 1.0 and 0 < toxic["lease"]["expires_in"] <= 1
    assert round_trip(sock, b"slow") >= 0.198
    time.sleep(max(0.0, t0 + 0.8 - time.perf_counter()))
    assert toxic_names(api, "l1") == ["latency_downstream"]  # not before its ttl
    wait_until(lambda: toxic_names(api, "l1") == [], 3)
    assert 0.95 <= time.perf_counter() - t0 <= 1 + 1  # within ttl + 1 s
    assert fastest_round_trip(sock, b"fast") < 0.1  # the live connection is clean again


def test_renewed_lease_keeps_the_toxic(api, echo_upstream):
    make_proxy(api, "l2", echo_upstream)
    add_toxic(api, "l2", type="latency", lease={"owner": "run-b", "ttl": 0.6})
    add_toxic(api, "l2", type="noop", stream="upstream", lease={"owner": "someone-else", "ttl": 0.6})
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.is_set():
            r = requests.post(f"{api}/leases/run-b")
            assert r.status_code == 200 and r.json()["renewed"] == 1
            stop.wait(0.2)

    beat = threading.Thread(target=heartbeat)
    beat.start()
    try:
        time.sleep(1.5)
        # the renewed one stays, the other owner's expired
        assert toxic_names(api, "l2") == ["latency_downstream"]
    finally:
        stop.set()
        beat.join()
    took = wait_until(lambda: toxic_names(api, "l2") == [], 3)
    assert took <= 0.6 + 1


def test_leased_disable_is_undone_on_the_same_address(api, echo_upstream):
    proxy, port = make_proxy(api, "l3", echo_upstream)
    r = requests.patch(f"{api}/proxies/l3", json={"enabled": False, "lease": {"owner": "run-c", "ttl": 0.5}})
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["lease"]["owner"] == "run-c"
    with pytest.raises(OSError):
        connect(port, timeout=0.5)
    took = wait_until(lambda: requests.get(f"{api}/proxies/l3").json()["enabled"], 3)
    assert took <= 0.5 + 1
    after = requests.get(f"{api}/proxies/l3").json()
    assert after["listen"] == proxy["listen"] and "lease" not in after
    round_trip(connect(port), b"up again")


def test_lease_listing_renewal_ttl_and_ending_by_owner(api, echo_upstream):
    make_proxy(api, "l4", echo_upstream)
    plain = add_toxic(api, "l4", type="latency")
    assert "lease" not in plain and "lease" not in requests.get(f"{api}/proxies/l4").json()
    add_toxic(api, "l4", name="leased", type="slicer", lease={"owner": "run-d", "ttl": 30})
    requests.patch(f"{api}/proxies/l4", json={"enabled": False, "lease": {"owner": "run-d", "ttl": 30}})
    leases = requests.get(f"{api}/leases").json()["leases"]
    assert [(x["proxy"], x["toxic"], x["owner"]) for x in leases] == [
        ("l4", None, "run-d"),  # the proxy's own lease first, then its toxics'
        ("l4", "leased", "run-d"),
    ]
    r = requests.post(f"{api}/leases/run-d", json={"ttl": 60})
    assert r.json()["renewed"] == 2 and all(x["ttl"] == 60 for x in r.json()["leases"])
    assert requests.post(f"{api}/leases/nobody").json()["renewed"] == 0
    r = requests.delete(f"{api}/leases/run-d")
    assert r.status_code == 200 and r.json()["ended"] == 2
    proxy = requests.get(f"{api}/proxies/l4").json()
    assert proxy["enabled"] is True and [t["name"] for t in proxy["toxics"]] == ["latency_downstream"]
    assert requests.get(f"{api}/leases").json()["leases"] == []


def test_lease_can_be_added_or_dropped_by_update(api, echo_upstream):
    make_proxy(api, "l5", echo_upstream)
    add_toxic(api, "l5", type="latency")
    r = requests.patch(f"{api}/proxies/l5/toxics/latency_downstream", json={"lease": {"owner": "o", "ttl": 5}})
    assert r.json()["lease"]["owner"] == "o"
    r = requests.patch(f"{api}/proxies/l5/toxics/latency_downstream", json={"attributes": {"latency": 3}})
    assert r.json()["lease"]["owner"] == "o"  # kept when not mentioned
    r = requests.patch(f"{api}/proxies/l5/toxics/latency_downstream", json={"lease": None})
    assert "lease" not in r.json()


@pytest.mark.parametrize(
    "lease",
    [{"owner": "", "ttl": 1}, {"owner": "x"}, {"owner": "x", "ttl": 0}, {"owner": "x", "ttl": "1"}, "x"],
)
def test_bad_leases_are_refused(api, echo_upstream, lease):
    make_proxy(api, "l6", echo_upstream)
    r = requests.post(f"{api}/proxies/l6/toxics", json={"type": "latency", "lease": lease})
    assert r.status_code == 400 and r.json()["error"].startswith("bad request body: lease")
    assert toxic_names(api, "l6") == []


def test_reset_ends_leases(api, echo_upstream):
    make_proxy(api, "l7", echo_upstream)
    requests.patch(f"{api}/proxies/l7", json={"enabled": False, "lease": {"owner": "r", "ttl": 30}})
    add_toxic(api, "l7", type="latency", lease={"owner": "r", "ttl": 30})
    requests.post(f"{api}/reset")
    assert requests.get(f"{api}/leases").json()["leases"] == []


def test_plain_toxiproxy_client_copes_with_leases(client, api, echo_upstream):
    make_proxy(api, "l8", echo_upstream)
    add_toxic(api, "l8", type="latency", lease={"owner": "r", "ttl": 30})
    proxy = client.get_proxy("l8")
    assert set(proxy.toxics()) == {"latency_downstream"}
