"""The lending invariants on crafted audit data shaped like lending's /v1/audit and the gateways' /v1/ledger."""

from __future__ import annotations

import copy

import pytest

from harness.invariants import check_invariants, invariant, invariants_of, plugins
from harness.invariants.registry import InvariantResult

ALL = ["no_double_disbursement", "no_lost_loans", "paid_by_recorded_gateway", "ledger_balanced",
       "reconciliation_complete"]


def loan(loan_id: str, amount: int = 500, state: str = "DISBURSED", gateway: str | None = "primary",
         outstanding: int | None = None, repayments: list | None = None) -> dict:
    return {"loan_id": loan_id, "id": loan_id, "request_id": f"req-{loan_id}", "user_id": "u1", "amount": amount,
            "outstanding": amount if outstanding is None else outstanding, "state": state, "reasons": [],
            "degraded": False, "gateway": gateway, "code": "APPROVED", "idempotency_keys": [f"disb-{loan_id}"],
            "instance": "lending-0", "created_at": 1.0, "updated_at": 2.0, "acknowledged": True,
            "acknowledged_at": 2.0, "repayments": repayments or []}


def movement(loan_id: str, amount: int = 500, kind: str = "disbursement", key: str | None = None,
             provider: str = "primary") -> dict:
    return {"key": key or (f"disb-{loan_id}" if kind == "disbursement" else f"coll-{loan_id}-r1"), "kind": kind,
            "amount": amount, "reference": loan_id, "status": "succeeded", "provider": provider, "created_at": 1.5}


def ledger(provider: str, *movements: dict) -> dict:
    return {"provider": provider, "movements": list(movements),
            "totals": {"disbursed": sum(m["amount"] for m in movements if m["kind"] == "disbursement"),
                       "collected": sum(m["amount"] for m in movements if m["kind"] == "collection")}}


def repayment(loan_id: str, amount: int, state: str = "COLLECTED") -> dict:
    return {"loan_id": loan_id, "request_id": "r1", "amount": amount, "state": state, "code": "REPAID",
            "gateway": "primary", "idempotency_keys": [f"coll-{loan_id}-r1"], "created_at": 3.0,
            "acknowledged": True, "acknowledged_at": 3.0}


def healthy() -> dict:
    """Three loans: one paid by the primary, one by the backup after failover, one partly repaid; one rejected."""
    return {
        "loans": {"code": "OK", "count": 4, "loans": [
            loan("L1"),
            loan("L2", amount=300, gateway="backup"),
            loan("L3", amount=800, outstanding=600, repayments=[repayment("L3", 200)]),
            loan("L4", state="REJECTED", gateway=None),
        ]},
        "ledger-primary": ledger("primary", movement("L1"), movement("L3", 800),
                                 movement("L3", 200, kind="collection")),
        "ledger-backup": ledger("backup", movement("L2", 300, provider="backup")),
    }


ACKS = [{"request_id": "req-L1", "loan_id": "L1", "code": "APPROVED"},
        {"request_id": "req-L2", "loan_id": "L2", "code": "APPROVED_DEGRADED"},
        {"request_id": "req-L3", "loan_id": "L3", "code": "APPROVED"},
        {"request_id": "req-L4", "loan_id": None, "code": "RISK_REJECTED"}]


def run(data: dict, acks: list | None = None, names: list[str] | None = None) -> dict[str, InvariantResult]:
    results = check_invariants("lending", names or ALL, data, ACKS if acks is None else acks)
    return {r.name: r for r in results}


def test_a_healthy_run_passes_every_invariant():
    results = run(healthy())
    assert all(r.passed for r in results.values()), {n: r.message for n, r in results.items()}
    assert results["no_double_disbursement"].counts == {"loans": 4, "disbursements": 3, "loans_paid": 3, "paid_twice": 0}
    assert results["no_lost_loans"].counts["acknowledged"] == 3  # the rejection is not a loan
    assert results["ledger_balanced"].counts["disbursed_total"] == 1600


def test_a_double_payment_across_both_gateways_is_caught():
    data = healthy()
    # failover without checking the primary's outcome: the backup pays L1 again under a fresh key
    data["ledger-backup"] = ledger("backup", movement("L2", 300, provider="backup"),
                                   movement("L1", key="disb-L1-retry", provider="backup"))
    results = run(data)
    double = results["no_double_disbursement"]
    assert not double.passed and double.counts["paid_twice"] == 1
    assert double.offending == ["loan L1 paid 2 times: primary:disb-L1 (500), backup:disb-L1-retry (500)"]
    assert not results["paid_by_recorded_gateway"].passed
    assert "loan L1 records gateway primary but was paid in: backup, primary" in results["paid_by_recorded_gateway"].offending
    assert not results["ledger_balanced"].passed
    assert "loan L1 (DISBURSED, amount 500): ledgers disbursed 1000" in results["ledger_balanced"].offending


def test_a_lost_loan_is_caught():
    data = healthy()
    data["loans"]["loans"] = [ln for ln in data["loans"]["loans"] if ln["loan_id"] != "L2"]
    data["ledger-backup"] = ledger("backup")
    lost = run(data)["no_lost_loans"]
    assert not lost.passed
    assert lost.offending == ["loan L2 was acknowledged (APPROVED_DEGRADED) but is not in the audit"]
    assert lost.counts["missing"] == 1


def test_an_acknowledged_approval_that_never_paid_is_caught():
    data = healthy()
    data["loans"]["loans"][0]["state"] = "PAYMENT_FAILED"
    data["ledger-primary"]["movements"] = data["ledger-primary"]["movements"][1:]
    lost = run(data)["no_lost_loans"]
    assert not lost.passed and lost.offending == ["loan L1 was acknowledged APPROVED but the audit says PAYMENT_FAILED"]


def test_acks_without_a_loan_id_are_found_by_request_id():
    acks = [{"request_id": "req-L1", "code": "PENDING_RECONCILIATION"}, {"request_id": "req-nope", "code": "APPROVED"}]
    lost = run(healthy(), acks)["no_lost_loans"]
    assert lost.offending == ["request req-nope was acknowledged (APPROVED) but is not in the audit"]


def test_a_payment_in_the_wrong_ledger_is_caught():
    data = healthy()
    data["loans"]["loans"][1]["gateway"] = "primary"  # L2 says primary, money moved at the backup
    r = run(data)["paid_by_recorded_gateway"]
    assert not r.passed and r.offending == ["loan L2 records gateway primary but was paid in: backup"]


def test_a_failed_loan_that_was_paid_and_a_payment_for_no_loan_are_caught():
    data = healthy()
    data["loans"]["loans"][3]["state"] = "PAYMENT_FAILED"
    data["ledger-primary"]["movements"].append(movement("L4"))
    data["ledger-backup"]["movements"].append(movement("GHOST", 50, provider="backup"))
    r = run(data, names=["paid_by_recorded_gateway"])["paid_by_recorded_gateway"]
    assert not r.passed
    assert "loan L4 is PAYMENT_FAILED yet was paid: primary:disb-L4 (500)" in r.offending
    assert "payment for unknown loan GHOST: backup:disb-GHOST (50)" in r.offending
    assert r.counts["orphan_payments"] == 1


def test_repayments_must_match_collections_and_outstanding():
    data = healthy()
    data["ledger-primary"]["movements"].append(movement("L3", 200, kind="collection", key="coll-L3-twice"))
    r = run(data, names=["ledger_balanced"])["ledger_balanced"]
    assert not r.passed and r.offending == ["loan L3: ledgers collected 400, its repayments say 200"]
    data = healthy()
    data["loans"]["loans"][2]["outstanding"] = 800
    r = run(data, names=["ledger_balanced"])["ledger_balanced"]
    assert r.offending == ["loan L3: outstanding 800 != amount 800 - repaid 200"]


def test_unsettled_payments_fail_reconciliation_but_not_the_money_checks():
    data = healthy()
    data["loans"]["loans"].append(loan("L5", state="PENDING_RECONCILIATION"))
    data["loans"]["loans"][2]["repayments"].append({**repayment("L3", 100, "PENDING_COLLECTION"), "request_id": "r2"})
    results = run(data)
    rec = results["reconciliation_complete"]
    assert not rec.passed
    assert rec.offending == ["loan L5 still PENDING_RECONCILIATION", "repayment r2 of loan L3 still PENDING_COLLECTION"]
    assert rec.counts == {"loans": 5, "unresolved_loans": 1, "unresolved_repayments": 1}
    for name in ("no_double_disbursement", "paid_by_recorded_gateway", "ledger_balanced"):
        assert results[name].passed, results[name].offending


def test_refused_movements_moved_no_money():
    data = healthy()
    data["ledger-backup"]["movements"].append({**movement("L1", provider="backup"), "status": "failed"})
    assert run(data, names=["no_double_disbursement"])["no_double_disbursement"].passed


def test_unreadable_audit_data_fails_the_check_with_the_reason():
    results = run({"loans": {"error": "boom"}}, names=["no_lost_loans"])
    assert not results["no_lost_loans"].passed
    assert "no endpoint answered a list of loans" in results["no_lost_loans"].message
    bad = copy.deepcopy(healthy())
    bad["loans"]["loans"][0] = "not a loan"
    assert not run(bad, names=["ledger_balanced"])["ledger_balanced"].passed


def test_registry_lists_plugins_and_rejects_unknown_and_duplicate_names():
    assert "lending" in plugins()
    assert set(ALL) <= set(invariants_of("lending"))
    (unknown,) = check_invariants("lending", ["no_such_check"], healthy(), [])
    assert not unknown.passed and "no invariant 'no_such_check'" in unknown.message
    with pytest.raises(ValueError, match="registered twice"):
        invariant("no_lost_loans", plugin="lending")(lambda data: InvariantResult("x", True))


def test_offending_lists_are_capped_but_counts_are_not():
    data = healthy()
    data["loans"]["loans"] = [loan(f"P{i}", state="PENDING_PAYMENT") for i in range(80)]
    r = run(data, names=["reconciliation_complete"])["reconciliation_complete"]
    assert r.counts["unresolved_loans"] == 80 and len(r.offending) == 50
    assert r.to_dict()["offending"][0] == "loan P0 still PENDING_PAYMENT"
