"""Paying loans out and collecting repayments exactly once, and recording where each ended.

Requests and reconciliation both move money for the same loans: the busy
sets keep them off a payment this process is already making, and each key
generation's claim is committed before anyone may send the key (see
payments.Payments.move for the rule that keeps money from moving twice).
"""

from __future__ import annotations

from typing import Callable

from mock_services.codes import Code
from mock_services.lending.payments import PAID, UNKNOWN, PaymentOutcome, Payments
from mock_services.lending.resilience import Deadline
from mock_services.lending.store import (COLLECTED, DISBURSED, PAYMENT_FAILED, PENDING_COLLECTION, Loan,
                                         Store)


def approved_code(loan: Loan) -> Code:
    return Code.APPROVED_DEGRADED if loan.degraded else Code.APPROVED


def all_keys(loan: Loan, outcome: PaymentOutcome) -> list[str]:
    """Every key the loan's disbursement has used, recorded before and in this attempt."""
    return sorted(set(loan.keys) | set(outcome.keys))


class Movements:
    def __init__(self, store: Store, payments: Payments) -> None:
        self.store = store
        self.payments = payments
        self.busy_loans: set[str] = set()  # loan ids whose request is in progress in this process
        self.busy_repayments: set[tuple[str, str]] = set()

    def _durable_claim(self, claim_keys: Callable[[list[str]], tuple[bool, list[str]]]):
        """A key generation's claim, committed before anyone may send the key."""
        async def claim(labels: list[str]) -> tuple[bool, list[str]]:
            outcome = claim_keys(labels)
            await self.store.durable()
            return outcome

        return claim

    def disbursement(self, loan: Loan, deadline: Deadline, resume: bool, force: bool = False):
        """Pay the loan out exactly once (see payments.Payments.move)."""
        claim = self._durable_claim(lambda labels: self.store.claim_loan_keys(loan, labels))
        return self.payments.move("disbursements", f"disb-{loan.id}", loan.amount, loan.id, deadline, resume,
                                  force=force, used=loan.keys, claim=claim)

    def collection(self, loan: Loan, request_id: str, amount: int, deadline: Deadline, resume: bool,
                   used: list[str], force: bool = False):
        """Collect one repayment exactly once (see payments.Payments.move)."""
        claim = self._durable_claim(lambda labels: self.store.claim_repayment_keys(loan.id, request_id, labels))
        return self.payments.move("collections", f"coll-{loan.id}-{request_id}", amount, loan.id, deadline, resume,
                                  force=force, used=used, claim=claim)

    def settle_loan(self, loan: Loan, outcome: PaymentOutcome, acked: bool = False) -> None:
        """Record a disbursement that was paid (DISBURSED; `acked`: the answer about to be
        sent tells the borrower) or moved nowhere (PAYMENT_FAILED). Not committed yet."""
        keys = all_keys(loan, outcome)
        if outcome.status == PAID:
            self.store.update_loan(loan, state=DISBURSED, gateway=outcome.gateway, keys=keys, acked=acked,
                                   code=approved_code(loan).value)
        else:
            self.store.update_loan(loan, state=PAYMENT_FAILED, keys=keys, code=Code.PAYMENT_UNAVAILABLE.value)

    def settle_collection(self, loan: Loan, request_id: str, amount: int, outcome: PaymentOutcome) -> str:
        """Record a collection's outcome and answer the repayment's state: COLLECTED,
        PENDING_COLLECTION (unknown: reconcile later) or PAYMENT_FAILED. Not committed yet."""
        if outcome.status == PAID:
            self.store.finish_repayment(loan, request_id, amount, COLLECTED, Code.REPAID.value, outcome.gateway,
                                        outcome.keys)
            return COLLECTED
        if outcome.status == UNKNOWN:
            self.store.finish_repayment(loan, request_id, amount, PENDING_COLLECTION,
                                        Code.PENDING_RECONCILIATION.value, None, outcome.keys)
            return PENDING_COLLECTION
        self.store.finish_repayment(loan, request_id, amount, PAYMENT_FAILED, Code.PAYMENT_UNAVAILABLE.value, None,
                                    outcome.keys)
        return PAYMENT_FAILED
