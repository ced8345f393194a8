"""The borrower's quota and loans: GET quota, POST /v1/loans, GET a loan.

An application is decided on a credit report (cached and marked degraded
when no bureau replica answers); an approval is committed as PENDING_PAYMENT
before any money moves, then paid out once. A repeated request id answers the stored
outcome, or resumes a payment that failed or was cut off; an outcome that
cannot be known is parked for reconciliation, never guessed.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from mock_services.codes import Code
from mock_services.lending.admission import request_deadline, timebox
from mock_services.lending.answers import BadRequest, answer, field, generic_failure
from mock_services.lending.config import Settings
from mock_services.lending.credit import CreditReport, CreditReports, CreditUnavailable
from mock_services.lending.movements import Movements, all_keys, approved_code
from mock_services.lending.payments import UNKNOWN
from mock_services.lending.resilience import Deadline
from mock_services.lending.store import (DISBURSED, PAYMENT_FAILED, PENDING_PAYMENT, PENDING_RECONCILIATION,
                                         REJECTED, REPAID, Loan, Store)
from mock_services.runtime import event
from mock_services.web import Request, Response

log = logging.getLogger("lending")

CREDIT_SHARE = 0.6  # of the deadline, the most the credit report may use: the rest is kept for paying


class LoanHandlers:
    def __init__(self, settings: Settings, store: Store, credit: CreditReports, movements: Movements) -> None:
        self.settings = settings
        self.store = store
        self.credit = credit
        self.movements = movements

    async def quota(self, request: Request, user_id: str) -> Response:
        deadline = request_deadline(self.settings)
        try:
            async with timebox(deadline):
                report, degraded = await self.credit.get(user_id, deadline)
        except CreditUnavailable as exc:
            return self._credit_unavailable(exc)
        except TimeoutError:
            return answer(Code.DEFERRED, "could not get your credit report in time: try again shortly", retry_after=2)
        recent, outstanding = self.store.user_exposure(user_id, time.time() - self.settings.freeze_window)
        fields: dict[str, Any] = {"user_id": user_id, "limit": report.limit, "outstanding": outstanding,
                                  "available": max(0, report.limit - outstanding), "degraded": degraded}
        if self.settings.on("risk-reasons"):
            fields["reasons"] = report.reasons
        if recent >= self.settings.freeze_after:
            return self._frozen(recent, available=0, user_id=user_id)
        if degraded:
            return answer(Code.QUOTA_DEGRADED, "quota from your last credit report: the bureau is not answering", **fields)
        return answer(Code.QUOTA_OK, "your available credit", **fields)

    def _credit_unavailable(self, exc: CreditUnavailable) -> Response:
        if exc.deadline_hit:
            return answer(Code.DEFERRED, "could not decide in time: the credit bureau is slow, try again shortly",
                          retry_after=max(2.0, exc.retry_after))
        return answer(Code.CREDIT_UNAVAILABLE, "the credit bureau is unavailable: try again later",
                      retry_after=max(2.0, exc.retry_after))

    def _frozen(self, recent: int, **fields: Any) -> Response:
        reasons = [f"{recent} loans within {self.settings.freeze_window:.0f}s: frequent cross-borrowing",
                   f"quota frozen until {self.settings.freeze_window:.0f}s after your last loan"]
        if not self.settings.on("risk-reasons"):
            return generic_failure()
        return answer(Code.QUOTA_FROZEN, "your quota is frozen by risk control", reasons=reasons, **fields)

    def _loan_answer(self, loan: Loan, replayed: bool = False) -> Response:
        """The answer for a loan's current state (also replays for a repeated request id)."""
        fields = {**loan.public(), "replayed": replayed}
        if loan.state in (DISBURSED, REPAID):
            message = ("approved on your last known credit report; the money is on its way" if loan.degraded
                       else "approved; the money is on its way")
            return answer(approved_code(loan), message, **fields)
        if loan.state == PENDING_RECONCILIATION:
            return answer(Code.PENDING_RECONCILIATION,
                          "approved; the payment is being confirmed with the payment provider, you will not be paid twice",
                          retry_after=self.settings.reconcile_interval, **fields)
        if loan.state == REJECTED:
            code = Code(loan.code)
            if not self.settings.on("risk-reasons"):
                return generic_failure()
            message = "rejected by risk control" if code == Code.RISK_REJECTED else "your quota is frozen by risk control"
            return answer(code, message, **fields)
        if loan.state == PAYMENT_FAILED:
            return answer(Code.PAYMENT_UNAVAILABLE, "approved, but no payment provider is available: retry later",
                          retry_after=2, **fields)
        return answer(Code.DEFERRED, "your application is being processed: ask again shortly", retry_after=1, **fields)

    async def apply(self, request: Request) -> Response:
        try:
            body = request.json()
            request_id = field(body, "request_id", str)
            user_id = field(body, "user_id", str)
            amount = field(body, "amount", int)
        except (BadRequest, ValueError) as exc:
            return answer(Code.INVALID_REQUEST, f"bad loan application: {exc}")
        existing = self.store.loan_by_request(request_id)
        if existing is not None:
            return await self._replay(existing, user_id, amount)
        deadline = request_deadline(self.settings)
        busy_loans = self.movements.busy_loans
        loan: Loan | None = None
        try:
            async with timebox(deadline):
                credit_deadline = Deadline(None if deadline.expires is None else self.settings.deadline * CREDIT_SHARE)
                try:
                    report, degraded = await self.credit.get(user_id, credit_deadline)
                except CreditUnavailable as exc:
                    return self._credit_unavailable(exc)
                refusal = self._risk_decision(report, user_id, amount)
                if refusal is not None:
                    code, reasons, message = refusal
                    if code == Code.QUOTA_EXCEEDED:
                        return answer(code, message, reasons=reasons, request_id=request_id, user_id=user_id)
                    if not self.settings.on("risk-reasons"):
                        return generic_failure()
                    rejected = self.store.create_loan(request_id, user_id, amount, REJECTED, code.value, message,
                                                      reasons, degraded, acked=True)
                    if rejected is None:
                        return await self._replay(self.store.loan_by_request(request_id), user_id, amount)
                    await self.store.durable()
                    return answer(code, message, **rejected.public(), replayed=False)
                code = Code.APPROVED_DEGRADED if degraded else Code.APPROVED
                loan = self.store.create_loan(request_id, user_id, amount, PENDING_PAYMENT, code.value, "approved",
                                              [], degraded, acked=False)
                if loan is None:  # a concurrent request with the same id won the insert
                    return await self._replay(self.store.loan_by_request(request_id), user_id, amount)
                busy_loans.add(loan.id)
                await self.store.durable()  # the loan is on record before any money moves
                return await self._disburse(loan, deadline, resume=False)
        except TimeoutError:
            if loan is None:
                return answer(Code.DEFERRED, "could not decide in time: try again shortly", retry_after=2)
            return await self._park(loan)
        finally:
            if loan is not None:
                busy_loans.discard(loan.id)

    def _risk_decision(self, report: CreditReport, user_id: str, amount: int) -> tuple[Code, list[str], str] | None:
        reasons = report.reasons
        if reasons:
            return Code.RISK_REJECTED, reasons, "rejected by risk control"
        recent, outstanding = self.store.user_exposure(user_id, time.time() - self.settings.freeze_window)
        if recent >= self.settings.freeze_after:
            return (Code.QUOTA_FROZEN,
                    [f"{recent} loans within {self.settings.freeze_window:.0f}s: frequent cross-borrowing"],
                    "your quota is frozen by risk control")
        if outstanding + amount > report.limit:
            return (Code.QUOTA_EXCEEDED, [f"amount {amount} exceeds available credit {max(0, report.limit - outstanding)}"],
                    "the amount exceeds your available credit")
        return None

    async def _replay(self, loan: Loan | None, user_id: str, amount: int) -> Response:
        if loan is None:  # pragma: no cover - the row that blocked our insert always exists
            return answer(Code.DEFERRED, "your application is being processed: ask again shortly", retry_after=1)
        if loan.user_id != user_id or loan.amount != amount:
            return answer(Code.IDEMPOTENCY_CONFLICT, "this request_id was already used for a different application",
                          request_id=loan.request_id)
        busy_loans = self.movements.busy_loans
        if loan.state == PAYMENT_FAILED or (loan.state == PENDING_PAYMENT and loan.id not in busy_loans
                                            and time.time() - loan.updated_at > self.settings.deadline):
            deadline = request_deadline(self.settings)
            busy_loans.add(loan.id)
            try:
                async with timebox(deadline):
                    return await self._disburse(loan, deadline, resume=True)
            except TimeoutError:
                return await self._park(loan)
            finally:
                busy_loans.discard(loan.id)
        return self._loan_answer(loan, replayed=True)

    async def _disburse(self, loan: Loan, deadline: Deadline, resume: bool) -> Response:
        outcome = await self.movements.disbursement(loan, deadline, resume)
        if outcome.status == UNKNOWN:
            return await self._park(loan, all_keys(loan, outcome))
        self.movements.settle_loan(loan, outcome, acked=True)
        await self.store.durable()
        return self._loan_answer(loan)

    async def _park(self, loan: Loan, keys: list[str] | None = None) -> Response:
        """Payment outcome unknown: never guess, reconcile later."""
        changes: dict[str, Any] = {"state": PENDING_RECONCILIATION, "code": Code.PENDING_RECONCILIATION.value, "acked": True}
        if keys is not None:
            changes["keys"] = keys
        self.store.update_loan(loan, **changes)
        await self.store.durable()
        event(log, "loan pending reconciliation", level=logging.WARNING, loan_id=loan.id)
        return self._loan_answer(loan)

    async def get_loan(self, request: Request, loan_id: str) -> Response:
        loan = self.store.loan(loan_id)
        if loan is None:
            return answer(Code.NOT_FOUND, f"no loan {loan_id}", loan_id=loan_id)
        return answer(Code.LOAN_FOUND, "your loan", **loan.public(), code_at_decision=loan.code)
