"""Repayments: POST /v1/loans/{id}/repayments, idempotent by request id.

The repayment row is committed before any money is collected, so a repeat
of the request (or reconciliation, after a crash or a timeout) resumes the
same collection with the same keys instead of collecting twice.
"""

from __future__ import annotations

from typing import Any

from mock_services.codes import Code
from mock_services.lending.admission import request_deadline, timebox
from mock_services.lending.answers import BadRequest, answer, field, without_code
from mock_services.lending.config import Settings
from mock_services.lending.movements import Movements
from mock_services.lending.resilience import Deadline
from mock_services.lending.store import COLLECTED, DISBURSED, PENDING_COLLECTION, Loan, Store
from mock_services.web import Request, Response


class RepaymentHandlers:
    def __init__(self, settings: Settings, store: Store, movements: Movements) -> None:
        self.settings = settings
        self.store = store
        self.movements = movements

    async def repay(self, request: Request, loan_id: str) -> Response:
        try:
            body = request.json()
            request_id = field(body, "request_id", str)
            amount = field(body, "amount", int)
        except (BadRequest, ValueError) as exc:
            return answer(Code.INVALID_REQUEST, f"bad repayment: {exc}")
        loan = self.store.loan(loan_id)
        if loan is None:
            return answer(Code.NOT_FOUND, f"no loan {loan_id}", loan_id=loan_id)
        existing = self.store.repayment(loan_id, request_id)
        busy_key = (loan_id, request_id)
        busy_repayments = self.movements.busy_repayments
        if existing is not None:
            if existing["amount"] != amount:
                return answer(Code.IDEMPOTENCY_CONFLICT, "this request_id was already used for a different repayment")
            if existing["state"] == COLLECTED:
                return answer(Code.REPAID, "repayment received", **without_code(existing),
                              outstanding=loan.outstanding, loan_state=loan.state, replayed=True)
            if busy_key in busy_repayments:
                return answer(Code.DEFERRED, "your repayment is being processed: ask again shortly", retry_after=1)
        else:
            if loan.state != DISBURSED:
                return answer(Code.INVALID_REQUEST, f"loan {loan_id} is {loan.state}: nothing to repay now",
                              state=loan.state)
            if amount > loan.outstanding:
                return answer(Code.INVALID_REQUEST, f"amount {amount} exceeds the outstanding {loan.outstanding}")
            if not self.store.create_repayment(loan_id, request_id, amount):
                return answer(Code.DEFERRED, "your repayment is being processed: ask again shortly", retry_after=1)
            await self.store.durable()
        deadline = request_deadline(self.settings)
        busy_repayments.add(busy_key)
        try:
            async with timebox(deadline):
                return await self._collect(loan, request_id, amount, deadline, resume=existing is not None,
                                           used=existing["idempotency_keys"] if existing else [])
        except TimeoutError:
            self.store.finish_repayment(loan, request_id, amount, PENDING_COLLECTION, Code.PENDING_RECONCILIATION.value,
                                        None, [])
            await self.store.durable()
            return answer(Code.PENDING_RECONCILIATION, "repayment is being confirmed with the payment provider",
                          retry_after=self.settings.reconcile_interval, loan_id=loan_id, request_id=request_id)
        finally:
            busy_repayments.discard(busy_key)

    async def _collect(self, loan: Loan, request_id: str, amount: int, deadline: Deadline, resume: bool,
                       used: list[str]) -> Response:
        outcome = await self.movements.collection(loan, request_id, amount, deadline, resume, used)
        fields = {"loan_id": loan.id, "request_id": request_id, "amount": amount, "gateway": outcome.gateway}
        try:
            return self._record_collection(loan, request_id, amount, outcome, fields)
        finally:
            await self.store.durable()

    def _record_collection(self, loan: Loan, request_id: str, amount: int, outcome: Any,
                           fields: dict[str, Any]) -> Response:
        state = self.movements.settle_collection(loan, request_id, amount, outcome)
        if state == COLLECTED:
            return answer(Code.REPAID, "repayment received", **fields, outstanding=loan.outstanding,
                          loan_state=loan.state, replayed=False)
        if state == PENDING_COLLECTION:
            return answer(Code.PENDING_RECONCILIATION, "repayment is being confirmed with the payment provider",
                          retry_after=self.settings.reconcile_interval, **fields)
        return answer(Code.PAYMENT_UNAVAILABLE, "no payment provider is available: retry later", retry_after=2, **fields)
