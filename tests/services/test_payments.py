"""Payment-gateway faults: a killed primary, lost answers, unknowable outcomes.

The money invariant checked throughout: a loan is paid by exactly one
movement across both gateways' ledgers, never two.
"""

from __future__ import annotations

import time
from collections import Counter

import requests

from .conftest import Api, code_of, ledger

FAST = ["--deadline", "1s", "--dependency-timeout", "200ms"]


def payments_per_loan(stack) -> Counter:
    movements = ledger(stack.gateway("primary").url) + ledger(stack.gateway("backup").url)
    return Counter(m["reference"] for m in movements if m["kind"] == "disbursement")


def test_killed_primary_fails_over_to_backup(make_stack) -> None:
    stack = make_stack(FAST)
    api = Api(stack.lending().url)
    before = api.borrow("before", "alice").json()["loan_id"]
    stack.gateway("primary").kill()  # SIGKILL, reaped: gone before the next loan (else its outcome is unknowable)
    time.sleep(0.1)
    loans = [api.borrow(f"r{i}", f"user{i}x") for i in range(4)]
    approved = [loan.json() for loan in loans if code_of(loan) == "APPROVED"]
    assert approved and all(code_of(loan) in {"APPROVED", "RISK_REJECTED"} for loan in loans), [r.text for r in loans]
    assert {loan["gateway"] for loan in approved} == {"backup"}
    assert api.metric("chaosdrill_gateway_in_use", gateway="backup") == 1
    assert api.metric("chaosdrill_gateway_in_use", gateway="primary") == 0
    repay = api.call("POST", f"/v1/loans/{before}/repayments", {"request_id": "p", "amount": 100})
    assert code_of(repay) == "REPAID" and repay.json()["gateway"] == "backup"
    paid = Counter(m["reference"] for m in ledger(stack.gateway("backup").url) if m["kind"] == "disbursement")
    assert sorted(paid) == sorted(loan["loan_id"] for loan in approved) and set(paid.values()) == {1}


def test_without_failover_a_killed_primary_means_payment_unavailable(make_stack) -> None:
    stack = make_stack([*FAST, "--no-failover"])
    api = Api(stack.lending().url)
    primary = stack.gateway("primary")
    primary.kill()
    time.sleep(0.1)
    answer = api.borrow("r1", "user1x")
    assert answer.status_code == 503 and code_of(answer) == "PAYMENT_UNAVAILABLE" and "Retry-After" in answer.headers
    assert ledger(stack.gateway("backup").url) == []
    primary.start()  # back on the same port and database: the retried request pays once
    retried = api.borrow("r1", "user1x")
    assert code_of(retried) == "APPROVED" and retried.json()["gateway"] == "primary"
    assert payments_per_loan(stack) == {retried.json()["loan_id"]: 1}


def test_lost_answer_is_resolved_by_asking_the_primary(make_stack, relay) -> None:
    stack = make_stack(FAST, start=False)
    link = relay(stack.gateway("primary").port)
    stack.start_lending(primary_url=link.url)
    link.set("lose_post_responses")  # the primary pays, lending never hears back
    answer = Api(stack.lending().url).borrow("r1", "user1x")
    assert code_of(answer) == "APPROVED" and answer.json()["gateway"] == "primary"
    assert payments_per_loan(stack) == {answer.json()["loan_id"]: 1}
    assert ledger(stack.gateway("backup").url) == []


def test_unknowable_outcome_is_parked_then_reconciled_once(make_stack, relay) -> None:
    stack = make_stack([*FAST, "--reconcile-interval", "60s"], start=False)
    link = relay(stack.gateway("primary").port)
    stack.start_lending(primary_url=link.url)
    api = Api(stack.lending().url)
    link.set("lose_responses")  # neither the payment's answer nor the status check come back
    answer = api.borrow("r1", "user1x")
    assert answer.status_code == 202 and code_of(answer) == "PENDING_RECONCILIATION"
    assert int(answer.headers["Retry-After"]) >= 1
    loan_id = answer.json()["loan_id"]
    (entry,) = api.call("GET", "/v1/audit").json()["loans"]
    assert entry["state"] == "PENDING_RECONCILIATION" and entry["acknowledged"]
    assert payments_per_loan(stack) == {loan_id: 1}  # the primary did pay; the backup was not tried
    link.set("pass")
    result = api.call("POST", "/v1/admin/reconcile").json()
    assert result["resolved"] == {"DISBURSED": 1} and result["still_pending"] == 0
    loan = api.call("GET", f"/v1/loans/{loan_id}").json()
    assert loan["state"] == "DISBURSED" and loan["gateway"] == "primary"
    assert payments_per_loan(stack) == {loan_id: 1}
    replay = api.borrow("r1", "user1x")
    assert code_of(replay) == "APPROVED" and replay.json()["replayed"] is True


def test_without_idempotency_check_a_lost_answer_pays_twice(make_stack, relay) -> None:
    stack = make_stack([*FAST, "--no-idempotency-check"], start=False)
    link = relay(stack.gateway("primary").port)
    stack.start_lending(primary_url=link.url)
    link.set("lose_post_responses")
    answer = Api(stack.lending().url).borrow("r1", "user1x")
    loan_id = answer.json()["loan_id"]
    assert code_of(answer) == "APPROVED"
    assert payments_per_loan(stack)[loan_id] >= 2  # the symptom: the borrower was paid twice


def test_a_payment_held_by_a_paused_backup_is_never_paid_again_elsewhere(make_stack) -> None:
    """Found by a game day: backup paused mid-payment, primary back, reconciliation ran."""
    import signal

    stack = make_stack([*FAST, "--reconcile-interval", "60s"])
    api = Api(stack.lending().url)
    primary, backup = stack.gateway("primary"), stack.gateway("backup")
    primary.kill()
    time.sleep(0.1)
    backup.signal(signal.SIGSTOP)  # it accepts the payment request but cannot answer
    try:
        answer = api.borrow("r1", "user1x")
        assert answer.status_code == 202 and code_of(answer) == "PENDING_RECONCILIATION", answer.text
        loan_id = answer.json()["loan_id"]
        primary.start()  # the primary is back; the backup still holds the first attempt
        result = api.call("POST", "/v1/admin/reconcile").json()
        assert result["still_pending"] == 1  # the backup's answer is unknown: nobody pays yet
        assert ledger(primary.url) == []  # (the paused backup cannot be asked for its ledger)
    finally:
        backup.signal(signal.SIGCONT)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not payments_per_loan(stack):
        time.sleep(0.1)  # the backup processes the request it was holding
    result = api.call("POST", "/v1/admin/reconcile").json()
    assert result["resolved"] == {"DISBURSED": 1}
    assert api.call("GET", f"/v1/loans/{loan_id}").json()["gateway"] == "backup"
    assert payments_per_loan(stack) == {loan_id: 1}


def _gateway_saw(url: str, result: str) -> float:
    text = requests.get(url + "/metrics", timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("chaosdrill_gateway_movements_total{") and f'result="{result}"' in line)


def test_a_payment_request_held_in_the_network_lands_after_failover_and_moves_nothing(make_stack, relay) -> None:
    """The primary gets the request only after lending gave up on it and the backup paid."""
    stack = make_stack(FAST, start=False)
    link = relay(stack.gateway("primary").port)
    stack.start_lending(primary_url=link.url)
    link.set("hold_payments")
    answer = Api(stack.lending().url).borrow("r1", "user1x")
    assert code_of(answer) == "APPROVED" and answer.json()["gateway"] == "backup", answer.text
    loan_id = answer.json()["loan_id"]
    assert link.held >= 1
    link.release()  # the held request(s) land at the primary now
    primary = stack.gateway("primary").url
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _gateway_saw(primary, "voided") + len(ledger(primary)) < link.held:
        time.sleep(0.05)
    assert payments_per_loan(stack) == {loan_id: 1}
    assert _gateway_saw(primary, "voided") == link.held  # each refused: lending had voided the key first


def test_a_key_voided_at_every_gateway_is_renewed_and_the_loan_paid_once(make_stack, relay) -> None:
    stack = make_stack(["--deadline", "3s", "--dependency-timeout", "150ms", "--retry-attempts", "1",
                        "--breaker-failures", "100"], start=False)
    links = {role: relay(stack.gateway(role).port) for role in ("primary", "backup")}
    stack.start_lending(primary_url=links["primary"].url, backup_url=links["backup"].url)
    api = Api(stack.lending().url)
    for link in links.values():
        link.set("hold_payments")  # every payment request vanishes; voids get through
    first = api.borrow("r1", "user1x")
    assert code_of(first) == "PAYMENT_UNAVAILABLE" and "Retry-After" in first.headers, first.text
    for link in links.values():
        link.set("pass")
    retried = api.borrow("r1", "user1x")
    assert code_of(retried) == "APPROVED", retried.text
    loan_id = retried.json()["loan_id"]
    (entry,) = api.call("GET", "/v1/audit").json()["loans"]
    for link in links.values():
        link.release()  # every request held so far lands, long after its key was voided
    held = sum(link.held for link in links.values())
    urls = [stack.gateway(role).url for role in links]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and sum(_gateway_saw(u, "voided") for u in urls) < held:
        time.sleep(0.05)
    assert sum(_gateway_saw(u, "voided") for u in urls) == held
    assert payments_per_loan(stack) == {loan_id: 1}
    (paid,) = [m for u in urls for m in ledger(u) if m["reference"] == loan_id]
    assert ".g" in paid["key"] and f"{entry['gateway']}:{paid['key']}" in entry["idempotency_keys"]
