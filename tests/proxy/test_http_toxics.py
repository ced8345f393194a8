"""http_error and http_latency on keep-alive HTTP/1.1 connections."""

from __future__ import annotations

import time

import requests

from .conftest import add_toxic, connect, make_proxy


def test_http_error_answers_matching_requests_without_forwarding(api, http_upstream, http_seen):
    _, port = make_proxy(api, "he", http_upstream)
    toxic = add_toxic(
        api,
        "he",
        type="http_error",
        attributes={"status": 503, "body": "bureau down", "headers": {"Retry-After": "3"}, "path": "/v1/reports"},
    )
    assert toxic["name"] == "http_error_upstream" and toxic["stream"] == "upstream"
    assert toxic["attributes"]["headers"] == {"Retry-After": "3"}
    base = f"http://127.0.0.1:{port}"
    with requests.Session() as s:  # one keep-alive connection for all of them
        r = s.get(f"{base}/v1/reports/42")
        assert (r.status_code, r.text, r.headers["Retry-After"]) == (503, "bureau down", "3")
        assert r.headers["X-Chaosdrill-Toxic"] == "http_error_upstream"
        r = s.post(f"{base}/v1/reports/7", data=b"x" * 5000)  # a body is swallowed too
        assert r.status_code == 503
        r = s.post(f"{base}/v1/reports/8", data=iter([b"chunk", b"ed"]))  # chunked body
        assert r.status_code == 503
        r = s.post(f"{base}/v1/other", data=iter([b"a", b"b"]))
        assert (r.status_code, r.text) == (200, "upstream:POST /v1/other ab")
        r = s.get(f"{base}/v1/other?q=1")
        assert r.status_code == 200
    assert http_seen == ["POST /v1/other", "GET /v1/other?q=1"]


def test_http_error_share_is_the_toxicity_per_request(api, http_upstream):
    _, port = make_proxy(api, "share", http_upstream)
    add_toxic(api, "share", type="http_error", stream="upstream", toxicity=0.5, attributes={"status": 500})
    with requests.Session() as s:
        codes = [s.get(f"http://127.0.0.1:{port}/x").status_code for _ in range(100)]
    assert set(codes) == {200, 500}
    assert 25 <= codes.count(500) <= 75


def test_http_error_method_filter_and_connection_close(api, http_upstream):
    _, port = make_proxy(api, "meth", http_upstream)
    add_toxic(api, "meth", type="http_error", attributes={"status": 429, "method": "POST"})
    base = f"http://127.0.0.1:{port}"
    assert requests.get(f"{base}/a").status_code == 200
    sock = connect(port)
    sock.sendall(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
    data = b""
    while more := sock.recv(4096):
        data += more
    assert data.startswith(b"HTTP/1.1 429 Too Many Requests\r\n") and b"Connection: close" in data


def test_http_latency_delays_matching_routes_only(api, http_upstream):
    _, port = make_proxy(api, "hl", http_upstream)
    add_toxic(
        api, "hl", type="http_latency", attributes={"latency": 300, "method": "GET", "path": "/v1/loans/{id}$"}
    )
    base = f"http://127.0.0.1:{port}"
    with requests.Session() as s:
        s.get(f"{base}/warm")
        timings: dict[str, list[float]] = {}
        for label, method, path in [
            ("match", "GET", "/v1/loans/12"),
            ("deeper", "GET", "/v1/loans/12/repayments"),
            ("method", "POST", "/v1/loans/12"),
            ("match2", "GET", "/v1/loans/13?x=1"),
        ] * 2:
            start = time.perf_counter()
            assert s.request(method, base + path).status_code == 200
            timings.setdefault(label, []).append(time.perf_counter() - start)
    # every matching request is delayed; the least of two ignores a loaded machine's noise
    assert all(t >= 0.298 for t in timings["match"] + timings["match2"]), timings
    assert min(timings["match"]) < 0.36 and min(timings["match2"]) < 0.36, timings
    assert min(timings["deeper"]) < 0.1 and min(timings["method"]) < 0.1, timings


def test_http_toxics_refuse_the_downstream_stream(api, http_upstream):
    make_proxy(api, "hd", http_upstream)
    r = requests.post(f"{api}/proxies/hd/toxics", json={"type": "http_error", "stream": "downstream"})
    assert r.status_code == 400 and "upstream stream only" in r.json()["error"]
    r = requests.post(f"{api}/proxies/hd/toxics", json={"type": "http_latency", "attributes": {"path": "(("}})
    assert r.status_code == 400 and r.json()["error"].startswith("bad request body: ")
    r = requests.post(f"{api}/proxies/hd/toxics", json={"type": "http_error", "attributes": {"status": 42}})
    assert r.status_code == 400


def test_http_error_added_and_removed_on_a_live_keepalive_connection(api, http_upstream):
    _, port = make_proxy(api, "hlive", http_upstream)
    base = f"http://127.0.0.1:{port}"
    with requests.Session() as s:
        assert s.get(f"{base}/a").status_code == 200
        add_toxic(api, "hlive", type="http_error", stream="upstream", attributes={"status": 502})
        assert s.get(f"{base}/a").status_code == 502
        requests.delete(f"{api}/proxies/hlive/toxics/http_error_upstream")
        assert s.get(f"{base}/a").status_code == 200


def test_split_request_head_survives_http_toxics(api, http_upstream):
    _, port = make_proxy(api, "split", http_upstream)
    add_toxic(api, "split", type="http_latency", attributes={"latency": 1, "path": "/nothing"})
    sock = connect(port)
    request = b"GET /piece HTTP/1.1\r\nHost: x\r\n\r\n"
    for i in range(0, len(request), 3):
        sock.sendall(request[i : i + 3])
        time.sleep(0.002)
    sock.settimeout(2)
    answer = b""
    while not answer.endswith(b"upstream:GET /piece "):
        more = sock.recv(4096)
        assert more, answer
        answer += more
    assert answer.startswith(b"HTTP/1.1 200 ")
    sock.close()


def test_http_error_answers_expect_100_continue_at_once(api, http_upstream, http_seen):
    _, port = make_proxy(api, "expect", http_upstream)
    add_toxic(api, "expect", type="http_error", attributes={"status": 503})
    sock = connect(port)
    start = time.perf_counter()
    sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n")
    data = b""
    while more := sock.recv(4096):
        data += more
    assert data.startswith(b"HTTP/1.1 503 ") and b"Connection: close" in data
    assert time.perf_counter() - start < 1.0 and http_seen == []  # not curl's 1 s wait
