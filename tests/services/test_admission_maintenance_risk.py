"""Admission control, maintenance mode and explicit risk decisions, each on and off."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from mock_services.credit_bureau.app import credit_report

from .conftest import Api, code_of, timed


def burst(api: Api, count: int) -> list[tuple[object, float]]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda i: timed(lambda: Api(api.base).borrow(f"b{i}", f"user{i}x", timeout=10)),
                             range(count)))


def slow_bureaus(make_stack, relay, args: list[str]):
    stack = make_stack(["--deadline", "5s", "--dependency-timeout", "3s", *args], start=False)
    links = [relay(stack.bureau(r).port) for r in ("a", "b")]
    for link in links:
        link.set("delay", 0.6)
    return stack.start_lending(bureau_urls=[link.url for link in links])


def test_admission_control_sheds_excess_at_once(make_stack, relay) -> None:
    stack = slow_bureaus(make_stack, relay, ["--max-concurrency", "3"])
    results = burst(Api(stack.lending().url), 16)
    shed = [(r, took) for r, took in results if code_of(r) == "OVERLOADED"]
    assert len(shed) >= 10
    assert all(r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and took < 0.5 for r, took in shed)
    admitted = [r for r, _ in results if code_of(r) != "OVERLOADED"]
    assert admitted and all(code_of(r) in {"APPROVED", "RISK_REJECTED"} for r in admitted)


def test_without_admission_control_everyone_waits(make_stack, relay) -> None:
    stack = slow_bureaus(make_stack, relay, ["--max-concurrency", "3", "--no-admission-control"])
    results = burst(Api(stack.lending().url), 16)
    assert not [r for r, _ in results if code_of(r) == "OVERLOADED"]
    assert min(took for _, took in results) >= 0.5  # nobody gets a fast answer: the queue only grows


def test_maintenance_is_announced_and_keeps_reads_and_repayments(make_stack) -> None:
    stack = make_stack()
    api = Api(stack.lending().url)
    loan_id = api.borrow("before", "alice", 300).json()["loan_id"]
    scheduled = api.call("POST", "/v1/admin/maintenance", {"starts_in": 1.0, "duration": 30, "message": "db upgrade"})
    assert code_of(scheduled) == "OK"
    notice = api.call("GET", "/v1/status").json()["maintenance"]
    assert notice["state"] == "scheduled" and notice["message"] == "db upgrade" and 0 < notice["starts_in"] <= 1.0
    assert code_of(api.borrow("still-open", "alice")) == "APPROVED"  # announced, not yet started
    time.sleep(1.05)
    write = api.borrow("during", "alice")
    assert write.status_code == 503 and code_of(write) == "MAINTENANCE"
    assert write.json()["maintenance"]["message"] == "db upgrade" and int(write.headers["Retry-After"]) >= 25
    assert code_of(api.call("GET", "/v1/users/alice/quota")) == "QUOTA_OK"
    assert code_of(api.call("GET", f"/v1/loans/{loan_id}")) == "LOAN_FOUND"
    repay = api.call("POST", f"/v1/loans/{loan_id}/repayments", {"request_id": "p", "amount": 100})
    assert code_of(repay) == "REPAID"
    assert code_of(api.call("DELETE", "/v1/admin/maintenance")) == "OK"
    assert code_of(api.borrow("after", "alice")) == "APPROVED"


def test_without_readonly_maintenance_is_an_unannounced_outage(make_stack) -> None:
    stack = make_stack(["--no-maintenance-readonly"])
    api = Api(stack.lending().url)
    loan_id = api.borrow("before", "alice", 300).json()["loan_id"]
    api.call("POST", "/v1/admin/maintenance", {"starts_in": 0.5, "duration": 30, "message": "db upgrade"})
    assert api.call("GET", "/v1/status").json()["maintenance"] is None  # no notice
    time.sleep(0.55)
    for answer in (api.call("GET", "/v1/users/alice/quota"), api.call("GET", f"/v1/loans/{loan_id}"),
                   api.call("POST", f"/v1/loans/{loan_id}/repayments", {"request_id": "p", "amount": 100})):
        assert answer.status_code == 503 and code_of(answer) is None


def high_risk_user() -> str:
    return next(f"u{i}" for i in range(1000) if credit_report(f"u{i}", 0.1)["score"] < 550)


def test_risk_decisions_carry_reasons(make_stack) -> None:
    stack = make_stack(["--freeze-after", "2"])
    api = Api(stack.lending().url)
    risky = high_risk_user()
    rejected = api.borrow("risky", risky)
    assert rejected.status_code == 403 and code_of(rejected) == "RISK_REJECTED" and rejected.json()["reasons"]
    quota = api.call("GET", f"/v1/users/{risky}/quota").json()
    assert quota["available"] == 0 and quota["reasons"]
    assert [code_of(api.borrow(f"f{i}", "alice")) for i in range(2)] == ["APPROVED", "APPROVED"]
    frozen = api.borrow("f3", "alice")
    assert frozen.status_code == 403 and code_of(frozen) == "QUOTA_FROZEN"
    assert "frequent cross-borrowing" in frozen.json()["reasons"][0]
    assert code_of(api.call("GET", "/v1/users/alice/quota")) == "QUOTA_FROZEN"
    assert code_of(api.borrow("big", "bob", 10**7)) == "QUOTA_EXCEEDED"


def test_without_risk_reasons_refusals_are_generic_failures(make_stack) -> None:
    stack = make_stack(["--freeze-after", "2", "--no-risk-reasons"])
    api = Api(stack.lending().url)
    rejected = api.borrow("risky", high_risk_user())
    assert rejected.status_code == 403 and code_of(rejected) is None and "reasons" not in rejected.json()
    api.borrow("f1", "alice")
    api.borrow("f2", "alice")
    frozen = api.borrow("f3", "alice")
    assert frozen.status_code == 403 and code_of(frozen) is None
