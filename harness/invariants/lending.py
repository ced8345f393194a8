"""The lending platform's invariants: money moves once, to the right place, and nothing is lost.

Each reads the raw loans and gateway ledgers (lending_records.py) and the
client-side acknowledgements, and names every offending loan.
"""

from __future__ import annotations

from harness.invariants.lending_records import (
    COLLECTED,
    LOAN_CODES,
    PAID_CODES,
    PAID_STATES,
    PENDING_COLLECTION,
    UNSETTLED_STATES,
    read_records,
)
from harness.invariants.registry import AuditData, InvariantResult, invariant

PLUGIN = "lending"


def _result(name: str, offending: list[str], counts: dict[str, int], failed: str, passed: str) -> InvariantResult:
    """Failed with `failed` as the message when anything offends, else passed with `passed`."""
    if offending:
        return InvariantResult(name, False, counts, offending, failed)
    return InvariantResult(name, True, counts, [], passed)


@invariant("no_double_disbursement", plugin=PLUGIN)
def no_double_disbursement(data: AuditData) -> InvariantResult:
    """No loan is paid out more than once, across all gateways' ledgers."""
    rec = read_records(data)
    paid = rec.disbursements()
    offending = [
        f"loan {loan_id} paid {len(moves)} times: {', '.join(m.describe() for m in moves)}"
        for loan_id, moves in sorted(paid.items())
        if len(moves) > 1
    ]
    counts = {"loans": len(rec.loans), "disbursements": sum(len(m) for m in paid.values()),
              "loans_paid": len(paid), "paid_twice": len(offending)}
    return _result("no_double_disbursement", offending, counts,
                   f"{len(offending)} loan(s) paid more than once",
                   f"each of {len(paid)} paid loan(s) paid once")


@invariant("no_lost_loans", plugin=PLUGIN)
def no_lost_loans(data: AuditData) -> InvariantResult:
    """Every loan acknowledged to a client exists; one acknowledged as approved was paid out."""
    rec = read_records(data)
    offending: list[str] = []
    acked = missing = unpaid = 0
    for ack in data.acknowledgements:
        code = ack.get("code")
        if code is not None and code not in LOAN_CODES:
            continue
        acked += 1
        loan_id, request_id = ack.get("loan_id"), ack.get("request_id")
        loan = rec.loans.get(str(loan_id)) if loan_id else None
        if loan is None and request_id:
            loan = rec.by_request.get(str(request_id))
        who = f"loan {loan_id}" if loan_id else f"request {request_id}"
        if loan is None:
            missing += 1
            offending.append(f"{who} was acknowledged ({code}) but is not in the audit")
        elif code in PAID_CODES and loan.state not in PAID_STATES:
            unpaid += 1
            offending.append(f"{who} was acknowledged {code} but the audit says {loan.state}")
    counts = {"acknowledged": acked, "missing": missing, "acknowledged_unpaid": unpaid, "loans": len(rec.loans)}
    return _result("no_lost_loans", offending, counts,
                   f"{missing} acknowledged loan(s) missing, {unpaid} acknowledged as approved but not paid",
                   f"all {acked} acknowledged loan(s) are in the audit")


@invariant("paid_by_recorded_gateway", plugin=PLUGIN)
def paid_by_recorded_gateway(data: AuditData) -> InvariantResult:
    """Each paid loan's disbursement is in exactly the ledger of the gateway its record names."""
    rec = read_records(data)
    paid = rec.disbursements()
    offending: list[str] = []
    checked = 0
    for loan in rec.loans.values():
        moves = paid.get(loan.id, [])
        ledgers = sorted({m.ledger for m in moves})
        if loan.state in UNSETTLED_STATES:
            continue  # outcome not known yet: reconciliation_complete reports these
        checked += 1
        if loan.state in PAID_STATES:
            named = rec.ledger_named(loan.gateway)
            if named is None:
                offending.append(f"loan {loan.id} is {loan.state} via gateway {loan.gateway!r}, which has no ledger"
                                 + (f" (paid in: {', '.join(ledgers)})" if ledgers else ""))
            elif ledgers != [named.provider]:
                where = ", ".join(ledgers) if ledgers else "no ledger"
                offending.append(f"loan {loan.id} records gateway {loan.gateway} but was paid in: {where}")
        elif moves:
            offending.append(f"loan {loan.id} is {loan.state} yet was paid: {', '.join(m.describe() for m in moves)}")
    orphans = sorted(ref for ref in paid if ref not in rec.loans)
    offending += [f"payment for unknown loan {ref}: {', '.join(m.describe() for m in paid[ref])}" for ref in orphans]
    counts = {"loans_checked": checked, "mismatched": len(offending) - len(orphans), "orphan_payments": len(orphans)}
    return _result("paid_by_recorded_gateway", offending, counts,
                   f"{len(offending)} loan(s) not paid where their record says",
                   f"all {checked} settled loan(s) paid exactly where recorded")


@invariant("ledger_balanced", plugin=PLUGIN)
def ledger_balanced(data: AuditData) -> InvariantResult:
    """The ledgers' money matches the loans: disbursed = amount, collected = repaid, outstanding adds up."""
    rec = read_records(data)
    paid, collected = rec.disbursements(), rec.collections()
    offending: list[str] = []
    total_out = total_in = 0
    for loan in rec.loans.values():
        out = sum(m.amount for m in paid.get(loan.id, []))
        got = sum(m.amount for m in collected.get(loan.id, []))
        total_out += out
        total_in += got
        repaid = sum(int(r.get("amount", 0)) for r in loan.repayments if r.get("state") == COLLECTED)
        pending = any(r.get("state") == PENDING_COLLECTION for r in loan.repayments)
        if loan.state not in UNSETTLED_STATES:
            expected = loan.amount if loan.state in PAID_STATES else 0
            if out != expected:
                offending.append(f"loan {loan.id} ({loan.state}, amount {loan.amount}): ledgers disbursed {out}")
        if not pending and got != repaid:
            offending.append(f"loan {loan.id}: ledgers collected {got}, its repayments say {repaid}")
        if loan.state in PAID_STATES and loan.outstanding is not None and not pending \
                and loan.outstanding != loan.amount - repaid:
            offending.append(f"loan {loan.id}: outstanding {loan.outstanding} != amount {loan.amount} - repaid {repaid}")
    counts = {"loans": len(rec.loans), "disbursed_total": total_out, "collected_total": total_in,
              "unbalanced": len(offending)}
    return _result("ledger_balanced", offending, counts,
                   f"{len(offending)} imbalance(s) between loans and ledgers",
                   f"ledgers match {len(rec.loans)} loan(s): {total_out} disbursed, {total_in} collected")


@invariant("reconciliation_complete", plugin=PLUGIN)
def reconciliation_complete(data: AuditData) -> InvariantResult:
    """After reconciliation no payment outcome is left unknown."""
    rec = read_records(data)
    offending = [f"loan {loan.id} still {loan.state}" for loan in rec.loans.values() if loan.state in UNSETTLED_STATES]
    pending_repayments = [
        f"repayment {r.get('request_id')} of loan {loan.id} still {PENDING_COLLECTION}"
        for loan in rec.loans.values() for r in loan.repayments if r.get("state") == PENDING_COLLECTION
    ]
    counts = {"loans": len(rec.loans), "unresolved_loans": len(offending), "unresolved_repayments": len(pending_repayments)}
    offending += pending_repayments
    return _result("reconciliation_complete", offending, counts,
                   f"{len(offending)} payment(s) still awaiting reconciliation",
                   "every payment outcome is resolved")
