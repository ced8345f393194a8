"""A borrower's whole journey through the real HTTP APIs, and idempotency."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import requests

from mock_services.local_stack import LocalStack

from mock_services.codes import CODE_CLASS, RETRYABLE, Code

from .conftest import Api, code_of, ledger


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[LocalStack]:
    """One stack for the journey tests: each uses its own users, request ids and gateway keys."""
    shared = LocalStack(Path(tmp_path_factory.mktemp("flow")))
    try:
        yield shared.start()
    finally:
        shared.stop()


def test_quota_borrow_read_repay_audit(stack: LocalStack) -> None:
    api = Api(stack.lending().url)
    quota = api.call("GET", "/v1/users/alice/quota")
    assert quota.status_code == 200 and code_of(quota) == "QUOTA_OK"
    assert quota.json()["available"] == quota.json()["limit"] > 0

    loan = api.borrow("req-1", "alice", 300)
    assert loan.status_code == 201 and code_of(loan) == "APPROVED", loan.text
    loan_id = loan.json()["loan_id"]
    assert api.call("GET", "/v1/users/alice/quota").json()["outstanding"] == 300

    read = api.call("GET", f"/v1/loans/{loan_id}")
    assert code_of(read) == "LOAN_FOUND" and read.json()["state"] == "DISBURSED"
    assert code_of(api.call("GET", "/v1/loans/nope")) == "NOT_FOUND"
    wrong = api.call("GET", "/v1/nope")  # a route that does not exist answers with a code too
    assert (wrong.status_code, code_of(wrong)) == (404, "NOT_FOUND")
    wrong = api.call("DELETE", f"/v1/loans/{loan_id}")
    assert (wrong.status_code, code_of(wrong)) == (405, "INVALID_REQUEST")

    first = api.call("POST", f"/v1/loans/{loan_id}/repayments", {"request_id": "pay-1", "amount": 100})
    assert code_of(first) == "REPAID" and first.json()["outstanding"] == 200
    again = api.call("POST", f"/v1/loans/{loan_id}/repayments", {"request_id": "pay-1", "amount": 100})
    assert code_of(again) == "REPAID" and again.json()["replayed"] is True
    rest = api.call("POST", f"/v1/loans/{loan_id}/repayments", {"request_id": "pay-2", "amount": 200})
    assert code_of(rest) == "REPAID" and rest.json()["loan_state"] == "REPAID"
    too_much = api.call("POST", f"/v1/loans/{loan_id}/repayments", {"request_id": "pay-3", "amount": 1})
    assert code_of(too_much) == "INVALID_REQUEST"

    (entry,) = [e for e in api.call("GET", "/v1/audit").json()["loans"] if e["loan_id"] == loan_id]
    assert entry["state"] == "REPAID" and entry["gateway"] == "primary" and entry["acknowledged"]
    assert entry["idempotency_keys"] == [f"primary:disb-{loan_id}"]  # keys sent or voided: the primary paid
    assert [r["state"] for r in entry["repayments"]] == ["COLLECTED", "COLLECTED"]
    movements = [m for m in ledger(stack.gateway("primary").url) if m["reference"] == loan_id]
    assert [(m["kind"], m["amount"]) for m in movements] == [("disbursement", 300), ("collection", 100),
                                                             ("collection", 200)]
    assert not [m for m in ledger(stack.gateway("backup").url) if m["reference"] == loan_id]


def test_loan_requests_are_idempotent_by_request_id(stack: LocalStack) -> None:
    api = Api(stack.lending().url)
    first = api.borrow("same", "bob", 200)
    second = api.borrow("same", "bob", 200)
    assert code_of(second) == "APPROVED" and second.json()["replayed"] is True
    assert second.json()["loan_id"] == first.json()["loan_id"]
    conflict = api.borrow("same", "bob", 999)
    assert conflict.status_code == 409 and code_of(conflict) == "IDEMPOTENCY_CONFLICT"
    loan_id = first.json()["loan_id"]
    assert len([m for m in ledger(stack.gateway("primary").url) if m["reference"] == loan_id]) == 1
    assert [e["request_id"] for e in api.call("GET", "/v1/audit").json()["loans"]].count("same") == 1


def test_gateway_idempotency_key_semantics(stack: LocalStack) -> None:
    url = stack.gateway("backup").url
    post = lambda body, key="k1": requests.post(url + "/v1/disbursements", json=body, timeout=5,  # noqa: E731
                                                headers={"Idempotency-Key": key} if key else {})
    created = post({"amount": 50, "reference": "L1"})
    assert created.status_code == 201 and created.json()["replayed"] is False
    replay = post({"amount": 50, "reference": "L1"})
    assert replay.status_code == 200 and replay.json()["replayed"] is True
    assert post({"amount": 51, "reference": "L1"}).status_code == 409
    assert post({"amount": 50, "reference": "L1"}, key=None).status_code == 400
    assert requests.get(url + "/v1/disbursements/k1", timeout=5).json()["amount"] == 50
    assert requests.get(url + "/v1/disbursements/nope", timeout=5).status_code == 404
    assert requests.get(url + "/v1/collections/k1", timeout=5).status_code == 404
    assert [m["key"] for m in ledger(url)].count("k1") == 1


def test_a_voided_key_is_fenced_and_a_paid_one_answers_its_movement(stack: LocalStack) -> None:
    url = stack.gateway("primary").url
    post = lambda key: requests.post(url + "/v1/disbursements", json={"amount": 70, "reference": "L9"},  # noqa: E731
                                     headers={"Idempotency-Key": f"void-test-{key}"}, timeout=5)
    void = lambda key: requests.post(f"{url}/v1/disbursements/void-test-{key}/void", timeout=5)  # noqa: E731
    assert post("paid").status_code == 201
    moved = void("paid")
    assert moved.status_code == 200 and moved.json()["status"] == "succeeded" and moved.json()["amount"] == 70
    assert post("paid").json()["replayed"] is True  # too late to void: still the one movement

    first, again = void("late"), void("late")
    assert first.json() == again.json() and first.json()["status"] == "voided"
    late = post("late")  # the request that was held up in the network lands now
    assert late.status_code == 409 and late.json()["error"] == "idempotency_key_voided"
    assert requests.get(url + "/v1/disbursements/void-test-late", timeout=5).status_code == 404
    keys = [m["key"] for m in ledger(url)]
    assert keys.count("void-test-paid") == 1 and "void-test-late" not in keys


def test_every_answer_has_a_code_and_retryable_ones_retry_after(make_stack) -> None:
    stack = make_stack(["--max-concurrency", "1"])
    api = Api(stack.lending().url)
    answers = [api.call("GET", "/v1/users/u9/quota"), api.borrow("r", "u9"), api.call("POST", "/v1/loans", {"x": 1}),
               api.call("GET", "/v1/status"), api.call("POST", "/v1/admin/maintenance", {"starts_in": 0, "duration": 5}),
               api.borrow("r2", "u9")]
    for answer in answers:
        code = Code(answer.json()["code"])
        assert code in CODE_CLASS and answer.json()["message"]
        assert ("Retry-After" in answer.headers) == (code in RETRYABLE), (code, answer.headers)
    assert code_of(answers[-1]) == "MAINTENANCE" and int(answers[-1].headers["Retry-After"]) >= 4
    assert "chaosdrill_breaker_state" in api.call("GET", "/metrics").text
