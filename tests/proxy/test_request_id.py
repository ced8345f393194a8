"""X-Toxiproxy-Request-Id: on every answer, new each time, in Toxiproxy's (xid) format."""

from __future__ import annotations

import base64
import itertools
import re
import time

import requests

from harness.proxy.request_id import HEADER, PATTERN, RequestIds

from .conftest import make_proxy


def xid_parts(request_id: str) -> tuple[int, int, int]:
    """(seconds, pid, counter) of an xid: 12 bytes as 20 lowercase base32hex characters."""
    raw = base64.b32hexdecode(request_id.upper() + "====")
    assert base64.b32hexencode(raw)[:20].decode().lower() == request_id  # canonical, as xid checks
    return int.from_bytes(raw[:4], "big"), int.from_bytes(raw[7:9], "big"), int.from_bytes(raw[9:], "big")


def test_every_kind_of_answer_carries_a_new_id(api, echo_upstream, server):
    session = requests.Session()
    answers = [
        (200, session.get(f"{api}/version")),
        (201, session.post(f"{api}/proxies", json={"name": "rid", "upstream": echo_upstream})),
        (409, session.post(f"{api}/proxies", json={"name": "rid", "upstream": echo_upstream})),
        (400, session.post(f"{api}/proxies", data=b"{nope")),
        (400, session.post(f"{api}/proxies/rid/toxics", json={"type": "bogus"})),
        (404, session.get(f"{api}/proxies/zzz")),
        (404, session.get(f"{api}/no/such/route")),
        (405, session.put(f"{api}/version")),
        (403, session.get(f"{api}/proxies", headers={"User-Agent": "Mozilla/5.0"})),
        (204, session.delete(f"{api}/proxies/rid")),
        (204, session.post(f"{api}/reset")),
        (200, session.get(f"{api}/leases")),
    ]
    ids = []
    for status, r in answers:
        assert r.status_code == status, (r.request.method, r.request.url, r.text)
        assert re.match(PATTERN, r.headers.get(HEADER, "")), (r.request.url, r.headers)
        ids.append(r.headers[HEADER])
    assert len(set(ids)) == len(ids)

    parts = [xid_parts(i) for i in ids]
    assert all(abs(seconds - time.time()) < 60 for seconds, _, _ in parts)
    assert {pid for _, pid, _ in parts} == {server.pid & 0xFFFF}
    counters = [counter for _, _, counter in parts]  # one server, one request at a time: +1 each
    assert all((b - a) % 2**24 == 1 for a, b in zip(counters, counters[1:]))


def test_a_request_id_sent_by_the_client_is_not_echoed(api):
    r = requests.get(f"{api}/version", headers={HEADER: "a" * 20})
    assert re.match(PATTERN, r.headers[HEADER]) and r.headers[HEADER] != "a" * 20


def test_ids_match_the_reference_encoding_across_seconds_and_counter_wrap(monkeypatch):
    ids = RequestIds()
    ids._counter = itertools.count(2**24 - 2)
    clock = iter([1_700_000_000, 1_700_000_000, 1_700_000_001, 2**32 + 5])
    monkeypatch.setattr(time, "time", lambda: next(clock) + 0.5)
    made = [ids.new() for _ in range(4)]
    assert [xid_parts(i)[0] for i in made] == [1_700_000_000, 1_700_000_000, 1_700_000_001, 5]
    assert [xid_parts(i)[2] for i in made] == [2**24 - 2, 2**24 - 1, 0, 1]
    assert all(re.match(PATTERN, i) for i in made)
    assert made[:3] == sorted(made[:3])  # sortable by time (until the 32-bit seconds wrap)
