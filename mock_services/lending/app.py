"""lending: the borrower-facing HTTP API and where its mechanisms meet.

Every answer is JSON with a `code` (mock_services.codes.Code) and a
`message`, plus Retry-After on the retryable codes, unless a resilience
switch is off: then the symptom that mechanism prevents shows up for real
(a hang, a bare 500, a double payment, an unannounced outage).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any, Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from mock_services.client import HttpClient
from mock_services.codes import RETRYABLE, Code
from mock_services.lending import maintenance as mnt
from mock_services.lending.config import Settings, parse_settings
from mock_services.lending.credit import CreditReport, CreditReports, CreditUnavailable
from mock_services.lending.payments import PAID, UNKNOWN, Gateway, Payments
from mock_services.lending.resilience import Breaker, Deadline
from mock_services.lending.store import (COLLECTED, DISBURSED, PAYMENT_FAILED, PENDING_COLLECTION, PENDING_PAYMENT,
                                         PENDING_RECONCILIATION, REJECTED, REPAID, SCHEMA, Loan, Store)
from mock_services.runtime import (ConfigError, add_common_routes, bind, event, fail, open_database, run_service,
                                   setup_logging)
from mock_services.web import Application, Request, Response, json_response, text_response

log = logging.getLogger("lending")

STATUS = {
    Code.OK: 200, Code.QUOTA_OK: 200, Code.APPROVED: 201, Code.LOAN_FOUND: 200, Code.REPAID: 200,
    Code.QUOTA_DEGRADED: 200, Code.APPROVED_DEGRADED: 201, Code.PENDING_RECONCILIATION: 202,
    Code.DEFERRED: 503, Code.CREDIT_UNAVAILABLE: 503, Code.PAYMENT_UNAVAILABLE: 503, Code.OVERLOADED: 429,
    Code.MAINTENANCE: 503, Code.RISK_REJECTED: 403, Code.QUOTA_FROZEN: 403, Code.QUOTA_EXCEEDED: 422,
    Code.INVALID_REQUEST: 400, Code.NOT_FOUND: 404, Code.IDEMPOTENCY_CONFLICT: 409,
}
CREDIT_SHARE = 0.6  # of the deadline, the most the credit report may use: the rest is kept for paying


class BadRequest(Exception):
    pass


def _field(body: Any, name: str, kind: type) -> Any:
    value = body.get(name) if isinstance(body, dict) else None
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise BadRequest(f"'{name}' must be a positive integer")
    elif not isinstance(value, str) or not value or len(value) > 128:
        raise BadRequest(f"'{name}' must be a non-empty string of at most 128 characters")
    return value


class Lending:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.registry = CollectorRegistry()
        reg = self.registry
        self.responses = Counter("chaosdrill_lending_responses_total", "Answers by endpoint and code",
                                 ["endpoint", "code"], registry=reg)
        self.latency = Histogram("chaosdrill_lending_request_seconds", "Time to answer", ["endpoint"], registry=reg,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0))
        breaker_gauge = Gauge("chaosdrill_breaker_state", "Circuit breaker: 0 closed, 1 half-open, 2 open",
                              ["dependency"], registry=reg)
        gateway_gauge = Gauge("chaosdrill_gateway_in_use", "1 for the gateway that paid last", ["gateway"], registry=reg)
        self.inflight = 0
        Gauge("chaosdrill_lending_inflight", "Requests in progress", registry=reg).set_function(lambda: self.inflight)
        self.pending_gauge = Gauge("chaosdrill_lending_pending_reconciliation", "Payments awaiting reconciliation",
                                   registry=reg)
        self.maintenance = mnt.Maintenance(store)
        Gauge("chaosdrill_lending_maintenance", "0 none, 1 scheduled, 2 active",
              registry=reg).set_function(self.maintenance.state)

        letters = "abcdefghijklmnopqrstuvwxyz"
        bureau_clients = [HttpClient(url, f"credit-bureau-{letters[i]}") for i, url in enumerate(settings.bureau_urls)]
        gateway_clients = [HttpClient(settings.gateway_primary_url, "payment-gateway-primary"),
                           HttpClient(settings.gateway_backup_url, "payment-gateway-backup")]
        self.clients = bureau_clients + gateway_clients
        self.breakers = {c.name: Breaker(c.name, settings.breaker_failures, settings.breaker_reset,
                                         settings.on("breaker"), breaker_gauge) for c in self.clients}
        self.credit = CreditReports(settings, self.breakers, bureau_clients)
        self.payments = Payments(settings, [Gateway("primary", gateway_clients[0], self.breakers[gateway_clients[0].name]),
                                            Gateway("backup", gateway_clients[1], self.breakers[gateway_clients[1].name])],
                                 gateway_gauge)
        self.busy_loans: set[str] = set()  # loan ids whose request is in progress in this process
        self.busy_repayments: set[tuple[str, str]] = set()
        self.reconcile_lock = asyncio.Lock()
        self.tasks: list[asyncio.Task] = []
        self.app = Application()
        add_common_routes(self.app, self.registry, lambda: True)
        self._routes()

    # plumbing

    def _routes(self) -> None:
        app = self.app
        app.route("GET", "/v1/users/{user_id}/quota")(self._guard("GET /v1/users/{id}/quota", self.quota))
        app.route("POST", "/v1/loans")(self._guard("POST /v1/loans", self.apply, write=True))
        app.route("GET", "/v1/loans/{loan_id}")(self._guard("GET /v1/loans/{id}", self.get_loan))
        app.route("POST", "/v1/loans/{loan_id}/repayments")(self._guard("POST /v1/loans/{id}/repayments", self.repay))
        app.route("GET", "/v1/status")(self._guard("GET /v1/status", self.status, admitted=False))
        app.route("POST", "/v1/admin/maintenance")(self._guard("POST /v1/admin/maintenance", self.schedule_maintenance, admin=True))
        app.route("DELETE", "/v1/admin/maintenance")(self._guard("DELETE /v1/admin/maintenance", self.cancel_maintenance, admin=True))
        app.route("POST", "/v1/admin/reconcile")(self._guard("POST /v1/admin/reconcile", self.reconcile_now, admin=True))
        app.route("GET", "/v1/audit")(self._guard("GET /v1/audit", self.audit, admin=True))

    def answer(self, code: Code, message: str, retry_after: float | None = None, **fields: Any) -> Response:
        headers = {}
        if code in RETRYABLE:
            headers["Retry-After"] = str(max(1, math.ceil(retry_after or 1)))
        return json_response(STATUS[code], {"code": code.value, "message": message, **fields}, headers)

    def _guard(self, endpoint: str, handler: Callable[..., Awaitable[Response]], write: bool = False,
               admitted: bool = True, admin: bool = False) -> Callable[..., Awaitable[Response]]:
        """Admission control, maintenance and the request deadline around a handler."""
        responses = self.responses
        latency = self.latency.labels(endpoint)

        async def guarded(request: Request, **params: str) -> Response:
            started = time.perf_counter()
            response = await self._guarded(request, params, handler, write, admitted, admin)
            latency.observe(time.perf_counter() - started)
            code = _code_of(response)
            responses.labels(endpoint, code).inc()
            return response

        return guarded

    async def _guarded(self, request: Request, params: dict[str, str], handler: Callable[..., Awaitable[Response]],
                       write: bool, admitted: bool, admin: bool) -> Response:
        settings = self.settings
        if not admin:
            state = self.maintenance.state()
            if state == mnt.ACTIVE:
                if not settings.on("maintenance-readonly"):
                    return text_response(503, "Service Unavailable")  # the unannounced outage
                if write:
                    notice = self.maintenance.notice() or {}
                    return self.answer(Code.MAINTENANCE, notice.get("message") or "down for maintenance: try again later",
                                       retry_after=notice.get("ends_in"), maintenance=notice)
        if admitted and settings.on("admission-control") and self.inflight >= settings.max_concurrency:
            return self.answer(Code.OVERLOADED, "too many requests in progress: try again shortly", retry_after=1)
        self.inflight += 1
        try:
            return await handler(request, **params)
        finally:
            self.inflight -= 1

    def _deadline(self) -> Deadline:
        return Deadline(self.settings.deadline if self.settings.on("deadline") else None)

    def _timebox(self, deadline: Deadline):
        """asyncio.timeout for the whole request, or no limit with --no-deadline."""
        return asyncio.timeout(deadline.remaining())

    # endpoints

    async def status(self, request: Request) -> Response:
        notice = self.maintenance.notice() if self.settings.on("maintenance-readonly") else None
        if notice is None:
            message = "all systems normal"
        elif notice["state"] == "active":
            message = f"maintenance in progress: {notice['message']}"
        else:
            message = f"maintenance scheduled in {notice['starts_in']:.0f}s: {notice['message']}"
        return self.answer(Code.OK, message, maintenance=notice, instance=self.settings.instance_id)

    async def quota(self, request: Request, user_id: str) -> Response:
        deadline = self._deadline()
        try:
            async with self._timebox(deadline):
                report, degraded = await self.credit.get(user_id, deadline)
        except CreditUnavailable as exc:
            return self._credit_unavailable(exc)
        except TimeoutError:
            return self.answer(Code.DEFERRED, "could not get your credit report in time: try again shortly", retry_after=2)
        recent, outstanding = self.store.user_exposure(user_id, time.time() - self.settings.freeze_window)
        fields: dict[str, Any] = {"user_id": user_id, "limit": report.limit, "outstanding": outstanding,
                                  "available": max(0, report.limit - outstanding), "degraded": degraded}
        if self.settings.on("risk-reasons"):
            fields["reasons"] = report.reasons
        if recent >= self.settings.freeze_after:
            return self._frozen(recent, available=0, user_id=user_id)
        if degraded:
            return self.answer(Code.QUOTA_DEGRADED, "quota from your last credit report: the bureau is not answering", **fields)
        return self.answer(Code.QUOTA_OK, "your available credit", **fields)

    def _credit_unavailable(self, exc: CreditUnavailable) -> Response:
        if exc.deadline_hit:
            return self.answer(Code.DEFERRED, "could not decide in time: the credit bureau is slow, try again shortly",
                               retry_after=max(2.0, exc.retry_after))
        return self.answer(Code.CREDIT_UNAVAILABLE, "the credit bureau is unavailable: try again later",
                           retry_after=max(2.0, exc.retry_after))

    def _frozen(self, recent: int, **fields: Any) -> Response:
        reasons = [f"{recent} loans within {self.settings.freeze_window:.0f}s: frequent cross-borrowing",
                   f"quota frozen until {self.settings.freeze_window:.0f}s after your last loan"]
        if not self.settings.on("risk-reasons"):
            return json_response(403, {"message": "request failed"})  # the generic failure
        return self.answer(Code.QUOTA_FROZEN, "your quota is frozen by risk control", reasons=reasons, **fields)

    def _loan_answer(self, loan: Loan, replayed: bool = False) -> Response:
        """The answer for a loan's current state (also replays for a repeated request id)."""
        fields = {**loan.public(), "replayed": replayed}
        if loan.state in (DISBURSED, REPAID):
            code = Code.APPROVED_DEGRADED if loan.degraded else Code.APPROVED
            message = ("approved on your last known credit report; the money is on its way" if loan.degraded
                       else "approved; the money is on its way")
            return self.answer(code, message, **fields)
        if loan.state == PENDING_RECONCILIATION:
            return self.answer(Code.PENDING_RECONCILIATION,
                               "approved; the payment is being confirmed with the payment provider, you will not be paid twice",
                               retry_after=self.settings.reconcile_interval, **fields)
        if loan.state == REJECTED:
            code = Code(loan.code)
            if not self.settings.on("risk-reasons"):
                return json_response(403, {"message": "request failed"})
            message = "rejected by risk control" if code == Code.RISK_REJECTED else "your quota is frozen by risk control"
            return self.answer(code, message, **fields)
        if loan.state == PAYMENT_FAILED:
            return self.answer(Code.PAYMENT_UNAVAILABLE, "approved, but no payment provider is available: retry later",
                               retry_after=2, **fields)
        return self.answer(Code.DEFERRED, "your application is being processed: ask again shortly", retry_after=1, **fields)

    async def apply(self, request: Request) -> Response:
        try:
            body = request.json()
            request_id = _field(body, "request_id", str)
            user_id = _field(body, "user_id", str)
            amount = _field(body, "amount", int)
        except (BadRequest, ValueError) as exc:
            return self.answer(Code.INVALID_REQUEST, f"bad loan application: {exc}")
        existing = self.store.loan_by_request(request_id)
        if existing is not None:
            return await self._replay(existing, user_id, amount)
        deadline = self._deadline()
        loan: Loan | None = None
        try:
            async with self._timebox(deadline):
                credit_deadline = Deadline(None if deadline.expires is None else self.settings.deadline * CREDIT_SHARE)
                try:
                    report, degraded = await self.credit.get(user_id, credit_deadline)
                except CreditUnavailable as exc:
                    return self._credit_unavailable(exc)
                refusal = self._risk_decision(report, user_id, amount)
                if refusal is not None:
                    code, reasons, message = refusal
                    if code == Code.QUOTA_EXCEEDED:
                        return self.answer(code, message, reasons=reasons, request_id=request_id, user_id=user_id)
                    if not self.settings.on("risk-reasons"):
                        return json_response(403, {"message": "request failed"})  # the generic failure
                    rejected = self.store.create_loan(request_id, user_id, amount, REJECTED, code.value, message,
                                                      reasons, degraded, acked=True)
                    if rejected is None:
                        return await self._replay(self.store.loan_by_request(request_id), user_id, amount)
                    await self.store.durable()
                    return self.answer(code, message, **rejected.public(), replayed=False)
                code = Code.APPROVED_DEGRADED if degraded else Code.APPROVED
                loan = self.store.create_loan(request_id, user_id, amount, PENDING_PAYMENT, code.value, "approved",
                                              [], degraded, acked=False)
                if loan is None:  # a concurrent request with the same id won the insert
                    return await self._replay(self.store.loan_by_request(request_id), user_id, amount)
                self.busy_loans.add(loan.id)
                await self.store.durable()  # the loan is on record before any money moves
                return await self._disburse(loan, deadline, resume=False)
        except TimeoutError:
            if loan is None:
                return self.answer(Code.DEFERRED, "could not decide in time: try again shortly", retry_after=2)
            return await self._park(loan)
        finally:
            if loan is not None:
                self.busy_loans.discard(loan.id)

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
            return self.answer(Code.DEFERRED, "your application is being processed: ask again shortly", retry_after=1)
        if loan.user_id != user_id or loan.amount != amount:
            return self.answer(Code.IDEMPOTENCY_CONFLICT, "this request_id was already used for a different application",
                               request_id=loan.request_id)
        if loan.state == PAYMENT_FAILED or (loan.state == PENDING_PAYMENT and loan.id not in self.busy_loans
                                            and time.time() - loan.updated_at > self.settings.deadline):
            deadline = self._deadline()
            self.busy_loans.add(loan.id)
            try:
                async with self._timebox(deadline):
                    return await self._disburse(loan, deadline, resume=True)
            except TimeoutError:
                return await self._park(loan)
            finally:
                self.busy_loans.discard(loan.id)
        return self._loan_answer(loan, replayed=True)

    def _durable_claim(self, claim_keys: Callable[[list[str]], tuple[bool, list[str]]]):
        """A key generation's claim, committed before anyone may send the key."""
        async def claim(labels: list[str]) -> tuple[bool, list[str]]:
            outcome = claim_keys(labels)
            await self.store.durable()
            return outcome

        return claim

    def _disbursement(self, loan: Loan, deadline: Deadline, resume: bool, force: bool = False):
        """Pay the loan out exactly once (see payments.Payments.move)."""
        claim = self._durable_claim(lambda labels: self.store.claim_loan_keys(loan, labels))
        return self.payments.move("disbursements", f"disb-{loan.id}", loan.amount, loan.id, deadline, resume,
                                  force=force, used=loan.keys, claim=claim)

    def _collection(self, loan: Loan, request_id: str, amount: int, deadline: Deadline, resume: bool,
                    used: list[str], force: bool = False):
        """Collect one repayment exactly once (see payments.Payments.move)."""
        claim = self._durable_claim(lambda labels: self.store.claim_repayment_keys(loan.id, request_id, labels))
        return self.payments.move("collections", f"coll-{loan.id}-{request_id}", amount, loan.id, deadline, resume,
                                  force=force, used=used, claim=claim)

    async def _disburse(self, loan: Loan, deadline: Deadline, resume: bool) -> Response:
        outcome = await self._disbursement(loan, deadline, resume)
        keys = sorted(set(loan.keys) | set(outcome.keys))
        if outcome.status == PAID:
            self.store.update_loan(loan, state=DISBURSED, gateway=outcome.gateway, keys=keys, acked=True,
                                   code=(Code.APPROVED_DEGRADED if loan.degraded else Code.APPROVED).value)
            await self.store.durable()
            return self._loan_answer(loan)
        if outcome.status == UNKNOWN:
            return await self._park(loan, keys)
        self.store.update_loan(loan, state=PAYMENT_FAILED, keys=keys, code=Code.PAYMENT_UNAVAILABLE.value)
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
            return self.answer(Code.NOT_FOUND, f"no loan {loan_id}", loan_id=loan_id)
        return self.answer(Code.LOAN_FOUND, "your loan", **loan.public(), code_at_decision=loan.code)

    async def repay(self, request: Request, loan_id: str) -> Response:
        try:
            body = request.json()
            request_id = _field(body, "request_id", str)
            amount = _field(body, "amount", int)
        except (BadRequest, ValueError) as exc:
            return self.answer(Code.INVALID_REQUEST, f"bad repayment: {exc}")
        loan = self.store.loan(loan_id)
        if loan is None:
            return self.answer(Code.NOT_FOUND, f"no loan {loan_id}", loan_id=loan_id)
        existing = self.store.repayment(loan_id, request_id)
        busy_key = (loan_id, request_id)
        if existing is not None:
            if existing["amount"] != amount:
                return self.answer(Code.IDEMPOTENCY_CONFLICT, "this request_id was already used for a different repayment")
            if existing["state"] == COLLECTED:
                return self.answer(Code.REPAID, "repayment received", **_without_code(existing),
                                   outstanding=loan.outstanding, loan_state=loan.state, replayed=True)
            if busy_key in self.busy_repayments:
                return self.answer(Code.DEFERRED, "your repayment is being processed: ask again shortly", retry_after=1)
        else:
            if loan.state != DISBURSED:
                return self.answer(Code.INVALID_REQUEST, f"loan {loan_id} is {loan.state}: nothing to repay now",
                                   state=loan.state)
            if amount > loan.outstanding:
                return self.answer(Code.INVALID_REQUEST, f"amount {amount} exceeds the outstanding {loan.outstanding}")
            if not self.store.create_repayment(loan_id, request_id, amount):
                return self.answer(Code.DEFERRED, "your repayment is being processed: ask again shortly", retry_after=1)
            await self.store.durable()
        deadline = self._deadline()
        self.busy_repayments.add(busy_key)
        try:
            async with self._timebox(deadline):
                return await self._collect(loan, request_id, amount, deadline, resume=existing is not None,
                                           used=existing["idempotency_keys"] if existing else [])
        except TimeoutError:
            self.store.finish_repayment(loan, request_id, amount, PENDING_COLLECTION, Code.PENDING_RECONCILIATION.value,
                                        None, [])
            await self.store.durable()
            return self.answer(Code.PENDING_RECONCILIATION, "repayment is being confirmed with the payment provider",
                               retry_after=self.settings.reconcile_interval, loan_id=loan_id, request_id=request_id)
        finally:
            self.busy_repayments.discard(busy_key)

    async def _collect(self, loan: Loan, request_id: str, amount: int, deadline: Deadline, resume: bool,
                       used: list[str]) -> Response:
        outcome = await self._collection(loan, request_id, amount, deadline, resume, used)
        fields = {"loan_id": loan.id, "request_id": request_id, "amount": amount, "gateway": outcome.gateway}
        try:
            return self._record_collection(loan, request_id, amount, outcome, fields)
        finally:
            await self.store.durable()

    def _record_collection(self, loan: Loan, request_id: str, amount: int, outcome: Any,
                           fields: dict[str, Any]) -> Response:
        if outcome.status == PAID:
            self.store.finish_repayment(loan, request_id, amount, COLLECTED, Code.REPAID.value, outcome.gateway, outcome.keys)
            return self.answer(Code.REPAID, "repayment received", **fields, outstanding=loan.outstanding,
                               loan_state=loan.state, replayed=False)
        if outcome.status == UNKNOWN:
            self.store.finish_repayment(loan, request_id, amount, PENDING_COLLECTION, Code.PENDING_RECONCILIATION.value,
                                        None, outcome.keys)
            return self.answer(Code.PENDING_RECONCILIATION, "repayment is being confirmed with the payment provider",
                               retry_after=self.settings.reconcile_interval, **fields)
        self.store.finish_repayment(loan, request_id, amount, PAYMENT_FAILED, Code.PAYMENT_UNAVAILABLE.value, None,
                                    outcome.keys)
        return self.answer(Code.PAYMENT_UNAVAILABLE, "no payment provider is available: retry later", retry_after=2, **fields)

    # admin

    async def schedule_maintenance(self, request: Request) -> Response:
        try:
            body = request.json()
            starts_in = float(body.get("starts_in", 0))
            duration = float(body["duration"])
            message = str(body.get("message") or "scheduled maintenance")
            if starts_in < 0 or duration <= 0:
                raise ValueError("starts_in must be >= 0 and duration > 0")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return self.answer(Code.INVALID_REQUEST, f"bad maintenance window: {exc}")
        self.maintenance.schedule(starts_in, duration, message)
        await self.store.durable()
        notice = self.maintenance.notice()
        event(log, "maintenance scheduled", **(notice or {}))
        return self.answer(Code.OK, "maintenance scheduled", maintenance=notice)

    async def cancel_maintenance(self, request: Request) -> Response:
        had = self.maintenance.cancel()
        await self.store.durable()
        event(log, "maintenance cancelled", had_window=had)
        return self.answer(Code.OK, "maintenance cancelled" if had else "no maintenance was scheduled", maintenance=None)

    async def reconcile_now(self, request: Request) -> Response:
        result = await self.reconcile(stale_after=0.0, force=True)
        return self.answer(Code.OK, "reconciliation done", **result)

    async def reconcile(self, stale_after: float | None = None, force: bool = False) -> dict[str, Any]:
        """Resolve payments whose outcome is unknown: ask the gateways by key, pay once if nobody has it.

        `force` (the admin call): also through open breakers."""
        if stale_after is None:
            stale_after = 2 * self.settings.deadline
        async with self.reconcile_lock:
            cutoff = time.time() - stale_after
            resolved: dict[str, int] = {}
            unresolved = 0
            for loan in self.store.unresolved_loans(cutoff):
                if loan.id in self.busy_loans:
                    continue
                self.busy_loans.add(loan.id)
                try:
                    deadline = Deadline(self.settings.deadline)
                    outcome = await self._disbursement(loan, deadline, resume=True, force=force)
                finally:
                    self.busy_loans.discard(loan.id)
                keys = sorted(set(loan.keys) | set(outcome.keys))
                if outcome.status == PAID:
                    self.store.update_loan(loan, state=DISBURSED, gateway=outcome.gateway, keys=keys,
                                           code=(Code.APPROVED_DEGRADED if loan.degraded else Code.APPROVED).value)
                elif outcome.status == UNKNOWN:
                    unresolved += 1
                    self.store.update_loan(loan, state=PENDING_RECONCILIATION, keys=keys,
                                           code=Code.PENDING_RECONCILIATION.value)
                    await self.store.durable()
                    continue
                else:
                    self.store.update_loan(loan, state=PAYMENT_FAILED, keys=keys, code=Code.PAYMENT_UNAVAILABLE.value)
                await self.store.durable()
                resolved[loan.state] = resolved.get(loan.state, 0) + 1
                event(log, "loan reconciled", loan_id=loan.id, state=loan.state, gateway=loan.gateway)
            for repayment in self.store.pending_repayments(cutoff):
                busy_key = (repayment["loan_id"], repayment["request_id"])
                loan = self.store.loan(repayment["loan_id"])
                if busy_key in self.busy_repayments or loan is None:
                    continue
                self.busy_repayments.add(busy_key)
                try:
                    outcome = await self._collection(loan, repayment["request_id"], repayment["amount"],
                                                     Deadline(self.settings.deadline), True,
                                                     repayment["idempotency_keys"], force=force)
                finally:
                    self.busy_repayments.discard(busy_key)
                if outcome.status == PAID:
                    self.store.finish_repayment(loan, repayment["request_id"], repayment["amount"], COLLECTED,
                                                Code.REPAID.value, outcome.gateway, outcome.keys)
                    resolved["COLLECTED"] = resolved.get("COLLECTED", 0) + 1
                elif outcome.status == UNKNOWN:
                    unresolved += 1
                else:
                    self.store.finish_repayment(loan, repayment["request_id"], repayment["amount"], PAYMENT_FAILED,
                                                Code.PAYMENT_UNAVAILABLE.value, None, outcome.keys)
                    resolved[PAYMENT_FAILED] = resolved.get(PAYMENT_FAILED, 0) + 1
            await self.store.durable()
            self.pending_gauge.set(unresolved)
            return {"resolved": resolved, "still_pending": unresolved}

    async def audit(self, request: Request) -> Response:
        repayments = self.store.repayments_by_loan()
        loans = [{**loan.audit(), "repayments": repayments.get(loan.id, [])} for loan in self.store.all_loans()]
        return self.answer(Code.OK, f"{len(loans)} loans", instance=self.settings.instance_id, count=len(loans),
                           loans=loans)

    # lifecycle

    async def start(self) -> None:
        if self.settings.upstream_check:
            await self._check_upstreams(self.settings.upstream_wait)
        self.tasks.append(asyncio.create_task(self._every(0.5, self._refresh_maintenance)))
        self.tasks.append(asyncio.create_task(self._every(self.settings.reconcile_interval, self.reconcile)))

    async def _check_upstreams(self, wait: float = 3.0) -> None:
        """Fail at start (one clear line) when an upstream does not accept connections."""
        for client in self.clients:
            until = time.monotonic() + wait
            while True:
                try:
                    _, writer = await asyncio.wait_for(asyncio.open_connection(client.host, client.port), 1.0)
                    writer.close()
                    break
                except (OSError, asyncio.TimeoutError) as exc:
                    if time.monotonic() >= until:
                        raise ConfigError(f"upstream {client.name} at {client.base_url} is unreachable "
                                          f"({exc.__class__.__name__}: {exc}); start it first or pass --no-upstream-check") from None
                    await asyncio.sleep(0.1)

    async def _refresh_maintenance(self) -> None:
        self.maintenance.refresh()

    async def _every(self, interval: float, job: Callable[[], Awaitable[Any]]) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background job failed")

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for client in self.clients:
            client.close()


def _without_code(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "code"}


def _code_of(response: Response) -> str:
    """The `code` of an answer for metrics, without parsing JSON ("none" for bare errors)."""
    body = response.body
    if body.startswith(b'{"code":"'):
        end = body.find(b'"', 9)
        return body[9:end].decode()
    return "none"


def main() -> None:
    settings = parse_settings()
    logger = setup_logging("lending", settings.log_level)
    try:
        db = open_database(settings.db, SCHEMA)
        sock = bind(settings.host, settings.port)
    except ConfigError as exc:
        fail("lending", str(exc))
    try:
        lending = Lending(settings, Store(db, settings.instance_id))
    except ValueError as exc:
        fail("lending", str(exc))
    event(logger, "starting", instance=settings.instance_id, db=settings.db,
          switched_off=[m for m, on in settings.enabled.items() if not on])
    stop_db = lending.stop

    async def stop() -> None:
        await stop_db()
        db.close()

    run_service("lending", settings.host, sock, lending.app, start=lending.start, stop=stop)


if __name__ == "__main__":
    main()
