"""Request bodies mean what they mean to Toxiproxy's Go decoder.

A script developed against this server must do the same against a real
Toxiproxy 2.12, and the other way round. These cases were found by sending
the same requests to both servers side by side.
"""

from __future__ import annotations

import pytest
import requests

from .conftest import add_toxic, connect, make_proxy, round_trip


def test_field_names_match_without_regard_to_case(api, echo_upstream):
    r = requests.post(f"{api}/proxies", json={"NAME": "p", "UpStream": echo_upstream, "Listen": "127.0.0.1:0"})
    assert r.status_code == 201 and r.json()["name"] == "p"
    port = int(r.json()["listen"].rsplit(":", 1)[1])
    round_trip(connect(port), b"ping")

    r = requests.patch(f"{api}/proxies/p", json={"Enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False
    with pytest.raises(OSError):
        connect(port, timeout=1)  # really disabled, not a field ignored

    r = requests.post(
        f"{api}/proxies/p/toxics",
        json={"Type": "latency", "Stream": "upstream", "Toxicity": 0.5, "Attributes": {"LATENCY": 7, "Jitter": 2}},
    )
    assert r.status_code == 200
    toxic = r.json()
    assert toxic["attributes"] == {"latency": 7, "jitter": 2} and toxic["toxicity"] == 0.5

    r = requests.patch(f"{api}/proxies/p/toxics/latency_upstream", json={"Attributes": {"Latency": 11}, "TOXICITY": 0.9})
    assert r.status_code == 200
    assert r.json()["attributes"] == {"latency": 11, "jitter": 2} and r.json()["toxicity"] == 0.9


def test_the_last_of_two_spellings_wins(api, echo_upstream):
    r = requests.post(f"{api}/proxies", data=f'{{"name": "a", "Name": "b", "upstream": "{echo_upstream}"}}')
    assert r.status_code == 201 and r.json()["name"] == "b"


def test_text_after_the_first_json_value_is_ignored(api, echo_upstream):
    body = f'{{"name": "p", "upstream": "{echo_upstream}"}} trailing words {{"name": "q"}}'
    r = requests.post(f"{api}/proxies", data=body)
    assert r.status_code == 201 and r.json()["name"] == "p"
    assert list(requests.get(f"{api}/proxies").json()) == ["p"]
    r = requests.post(f"{api}/proxies/p/toxics", data='{"type": "noop"}\n{"type": "latency"}')
    assert r.status_code == 200 and r.json()["type"] == "noop"


def test_null_bodies(api, echo_upstream):
    r = requests.post(f"{api}/proxies", data="null")
    assert (r.status_code, r.json()["error"]) == (400, "missing required field: name")
    proxy, _ = make_proxy(api, "p", echo_upstream)
    r = requests.patch(f"{api}/proxies/p", data="null")
    assert r.status_code == 200 and r.json() == proxy  # nothing changed
    r = requests.post(f"{api}/proxies/p/toxics", data="null")
    assert (r.status_code, r.json()["error"]) == (400, "invalid toxic type")
    add_toxic(api, "p", type="latency", attributes={"latency": 5})
    r = requests.patch(f"{api}/proxies/p/toxics/latency_downstream", data="null")
    assert r.status_code == 200 and r.json()["attributes"]["latency"] == 5


def test_populate_lists_none_as_null_and_errors_carry_the_list(api, echo_upstream):
    for body in ("[]", "null"):
        r = requests.post(f"{api}/populate", data=body)
        assert r.status_code == 201 and r.json() == {"proxies": None}
    r = requests.post(f"{api}/populate", json=[{"upstream": echo_upstream}])
    assert r.status_code == 400
    assert r.json() == {"error": "missing required field: name at proxy 1", "status": 400, "proxies": None}
    r = requests.post(f"{api}/populate", data=b"{")
    assert r.status_code == 400 and r.json()["proxies"] is None and r.json()["error"].startswith("bad request body: ")


@pytest.mark.parametrize("raw", ["100.0", "1e3", "100000000000000000000", "-9223372036854775809"])
def test_integer_attributes_refuse_what_go_int64_refuses(api, echo_upstream, raw):
    make_proxy(api, "p", echo_upstream)
    r = requests.post(f"{api}/proxies/p/toxics", data=f'{{"type": "latency", "attributes": {{"latency": {raw}}}}}')
    assert r.status_code == 400
    assert r.json()["error"].startswith("bad request body: attribute latency must be an integer")
    assert requests.get(f"{api}/proxies/p/toxics").json() == []
    add_toxic(api, "p", type="latency", attributes={"latency": 9223372036854775807})  # int64's largest is fine
