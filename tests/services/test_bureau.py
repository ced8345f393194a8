"""Credit-bureau faults: a stopped replica, both down, a hanging link.

Each mechanism is shown working, then switched off to show the symptom it
prevents appearing for real.
"""

from __future__ import annotations

import signal
import time

import pytest
import requests

from .conftest import Api, code_of, timed

FAST = ["--deadline", "1.5s", "--dependency-timeout", "300ms", "--breaker-reset", "30s"]
DECIDED = {"APPROVED", "RISK_REJECTED"}


def test_stopped_replica_fails_over_and_opens_its_breaker(make_stack) -> None:
    stack = make_stack(FAST)
    api = Api(stack.lending().url)
    stack.bureau("b").signal(signal.SIGSTOP)
    for i in range(12):
        answer, took = timed(lambda: api.borrow(f"r{i}", f"user-{i}"))
        assert code_of(answer) in DECIDED, answer.text
        assert took < 1.7
    assert api.metric("chaosdrill_breaker_state", dependency="credit-bureau-b") == 2
    assert api.metric("chaosdrill_breaker_state", dependency="credit-bureau-a") == 0
    _, took = timed(lambda: api.borrow("fast", "user-fast"))
    assert took < 0.25  # the open breaker skips the stopped replica: no 300 ms timeout


def test_without_failover_a_stopped_replica_fails_requests(make_stack) -> None:
    stack = make_stack([*FAST, "--no-failover"])
    api = Api(stack.lending().url)
    stack.bureau("b").signal(signal.SIGSTOP)
    codes = [code_of(api.borrow(f"r{i}", f"user-{i}")) for i in range(6)]
    assert "CREDIT_UNAVAILABLE" in codes or "DEFERRED" in codes, codes


def test_both_down_serves_cached_reports_and_explicit_unavailable(make_stack) -> None:
    stack = make_stack(FAST)
    api = Api(stack.lending().url)
    assert code_of(api.call("GET", "/v1/users/known/quota")) == "QUOTA_OK"
    stack.bureau("a").signal(signal.SIGSTOP)
    stack.bureau("b").signal(signal.SIGSTOP)
    quota, took = timed(lambda: api.call("GET", "/v1/users/known/quota"))
    assert code_of(quota) == "QUOTA_DEGRADED" and quota.json()["degraded"] is True and took < 1.7
    loan = api.borrow("cached", "known")
    assert loan.status_code == 201 and code_of(loan) == "APPROVED_DEGRADED"
    unknown, took = timed(lambda: api.borrow("new", "stranger"))
    assert code_of(unknown) in {"CREDIT_UNAVAILABLE", "DEFERRED"} and took < 1.7
    assert int(unknown.headers["Retry-After"]) >= 1
    audit = {entry["request_id"]: entry for entry in api.call("GET", "/v1/audit").json()["loans"]}
    assert audit["cached"]["degraded"] is True and "new" not in audit


def test_without_fallback_a_bureau_outage_is_a_bare_500(make_stack) -> None:
    stack = make_stack([*FAST, "--no-fallback"])
    api = Api(stack.lending().url)
    assert code_of(api.call("GET", "/v1/users/known/quota")) == "QUOTA_OK"
    stack.bureau("a").signal(signal.SIGSTOP)
    stack.bureau("b").signal(signal.SIGSTOP)
    for answer in (api.call("GET", "/v1/users/known/quota"), api.borrow("x", "known")):
        assert answer.status_code == 500 and code_of(answer) is None


def test_deadline_answers_in_time_when_the_bureau_hangs(make_stack, relay) -> None:
    stack = make_stack(["--deadline", "1s"], start=False)
    hangs = [relay(stack.bureau(r).port) for r in ("a", "b")]
    for r in hangs:
        r.set("blackhole")
    stack.start_lending(bureau_urls=[r.url for r in hangs])
    answer, took = timed(lambda: Api(stack.lending().url).borrow("slow", "user-slow"))
    assert code_of(answer) in {"DEFERRED", "CREDIT_UNAVAILABLE"} and took < 1.3, (answer.text, took)


def test_without_deadline_a_hanging_bureau_hangs_the_client(make_stack, relay) -> None:
    stack = make_stack(["--no-deadline"], start=False)
    hangs = [relay(stack.bureau(r).port) for r in ("a", "b")]
    for r in hangs:
        r.set("blackhole")
    stack.start_lending(bureau_urls=[r.url for r in hangs])
    with pytest.raises(requests.Timeout):
        Api(stack.lending().url).borrow("slow", "user-slow", timeout=3.0)


def test_breaker_fails_fast_then_recovers(make_stack, relay) -> None:
    stack = make_stack(["--dependency-timeout", "300ms", "--breaker-failures", "3", "--breaker-reset", "1.5s"],
                       start=False)
    links = [relay(stack.bureau(r).port) for r in ("a", "b")]
    for r in links:
        r.set("blackhole")
    stack.start_lending(bureau_urls=[r.url for r in links])
    api = Api(stack.lending().url)
    for i in range(4):
        api.borrow(f"open{i}", f"u{i}")
    assert api.metric("chaosdrill_breaker_state", dependency="credit-bureau-a") == 2
    answer, took = timed(lambda: api.borrow("fast", "u-fast"))
    assert code_of(answer) == "CREDIT_UNAVAILABLE" and took < 0.25, took  # no 300 ms timeout waited
    for r in links:
        r.set("pass")
    time.sleep(1.6)
    assert code_of(api.borrow("after", "u-after")) in DECIDED
    assert api.metric("chaosdrill_breaker_state", dependency="credit-bureau-a") + \
        api.metric("chaosdrill_breaker_state", dependency="credit-bureau-b") < 4


def test_without_breaker_every_request_waits_for_timeouts(make_stack, relay) -> None:
    stack = make_stack(["--dependency-timeout", "300ms", "--breaker-failures", "3", "--no-breaker"], start=False)
    links = [relay(stack.bureau(r).port) for r in ("a", "b")]
    for r in links:
        r.set("blackhole")
    stack.start_lending(bureau_urls=[r.url for r in links])
    api = Api(stack.lending().url)
    for i in range(2):  # 6 failed attempts: with a breaker both replicas' would be open by now
        api.borrow(f"slow{i}", f"u{i}")
    _, took = timed(lambda: api.borrow("still-slow", "u-slow"))
    assert took >= 0.3, took  # no breaker: the dead dependency's timeout is waited every time
    with pytest.raises(KeyError):  # switched off, it exports no state rather than a steady "closed"
        api.metric("chaosdrill_breaker_state", dependency="credit-bureau-a")


def test_retries_cover_a_dead_replica(make_stack) -> None:
    stack = make_stack(["--no-upstream-check"], start=False)
    dead = "http://127.0.0.1:9"  # discard port: nothing listens, connection refused
    stack.start_lending(bureau_urls=[dead, stack.bureau("a").url])
    api = Api(stack.lending().url)
    assert all(code_of(api.borrow(f"r{i}", f"u{i}")) in DECIDED for i in range(4))


def test_without_retries_a_dead_replica_fails_requests(make_stack) -> None:
    stack = make_stack(["--no-upstream-check", "--no-retries"], start=False)
    dead = "http://127.0.0.1:9"
    stack.start_lending(bureau_urls=[dead, stack.bureau("a").url])
    api = Api(stack.lending().url)
    codes = [code_of(api.borrow(f"r{i}", f"u{i}")) for i in range(4)]
    assert "CREDIT_UNAVAILABLE" in codes, codes
