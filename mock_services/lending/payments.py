"""Moving money through the primary gateway, failing over to the backup.

The rule that keeps money from moving twice: a payment uses one stable
idempotency key at every gateway; when a call's outcome is unknown (it may
have reached the gateway: a timeout, a reset, a 5xx), the gateway is first
asked for that key's status. Only a definite "not found" (or a call that
never left: connection refused, breaker open) allows trying the backup; if
the status cannot be learned, the outcome is UNKNOWN and the caller parks
the payment for reconciliation instead of guessing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from prometheus_client import Gauge

from mock_services.client import DependencyError, HttpClient, HttpResponse
from mock_services.lending.config import Settings
from mock_services.lending.resilience import Breaker, Deadline, with_retries
from mock_services.runtime import event

PAID, FAILED, UNKNOWN = "paid", "failed", "unknown"
log = logging.getLogger("lending")


@dataclass
class PaymentOutcome:
    status: str  # PAID, FAILED (moved nowhere), UNKNOWN (may have moved: reconcile)
    gateway: str | None = None
    keys: list[str] = field(default_factory=list)
    detail: str = ""


class Gateway:
    def __init__(self, role: str, client: HttpClient, breaker: Breaker) -> None:
        self.role = role  # "primary" / "backup"
        self.client = client
        self.breaker = breaker


class Payments:
    def __init__(self, settings: Settings, gateways: list[Gateway], in_use: Gauge) -> None:
        self.settings = settings
        self.gateways = gateways
        self.in_use = in_use
        for gateway in gateways:
            in_use.labels(gateway=gateway.role).set(1 if gateway.role == "primary" else 0)

    def _mark_in_use(self, role: str) -> None:
        for gateway in self.gateways:
            self.in_use.labels(gateway=gateway.role).set(1 if gateway.role == role else 0)

    def _timeout(self, deadline: Deadline) -> float | None:
        return deadline.timeout(self.settings.dependency_timeout if self.settings.on("deadline") else None)

    async def _call(self, gateway: Gateway, method: str, path: str, deadline: Deadline,
                    payload: dict | None = None, key: str | None = None, force: bool = False) -> HttpResponse:
        """One call through the gateway's breaker (`force`: even when open); 5xx is a failure (DependencyError, sent)."""
        if not force and not gateway.breaker.allow():
            raise DependencyError(gateway.client.name, "breaker-open", sent=False)
        try:
            response = await gateway.client.request(method, path, payload,
                                                    headers={"Idempotency-Key": key} if key else None,
                                                    timeout=self._timeout(deadline))
        except DependencyError as exc:
            gateway.breaker.failure(exc)
            raise
        if response.status >= 500:
            error = DependencyError(gateway.client.name, "status", sent=True, detail=f"HTTP {response.status}")
            gateway.breaker.failure(error)
            raise error
        gateway.breaker.success()
        return response

    async def move(self, kind: str, key: str, amount: int, reference: str, deadline: Deadline,
                   resume: bool = False, force: bool = False) -> PaymentOutcome:
        """Disburse or collect (`kind`: disbursements / collections) exactly once.

        `resume`: an earlier attempt with this key may have happened (a retried
        request, reconciliation): ask each gateway before paying through it.
        `force`: call gateways even when their breaker is open (an operator's
        explicit reconciliation must not wait for the breaker to half-open)."""
        if not self.settings.on("idempotency-check"):
            return await self._move_unchecked(kind, key, amount, reference, deadline)
        gateways = self.gateways if self.settings.on("failover") else self.gateways[:1]
        attempts = self.settings.retry_attempts if self.settings.on("retries") else 1
        keys = [f"{g.role}:{key}" for g in gateways]
        payload = {"amount": amount, "reference": reference}
        if resume:
            # An earlier attempt may sit at ANY gateway (say, a backup that was paused
            # mid-call and will process it when it continues): learn every gateway's
            # answer for the key before paying through one of them.
            for gateway in gateways:
                found = await self._status(gateway, kind, key, deadline, attempts, force)
                if found == PAID:
                    return self._paid(gateway, keys)
                if found == UNKNOWN:
                    return PaymentOutcome(UNKNOWN, None, keys, f"{gateway.role}: status unknown")
        for index, gateway in enumerate(gateways):
            maybe_sent = False

            async def post(number: int) -> HttpResponse:
                nonlocal maybe_sent
                try:
                    return await self._call(gateway, "POST", f"/v1/{kind}", deadline, payload, key, force)
                except DependencyError as exc:
                    maybe_sent = maybe_sent or exc.sent
                    raise

            try:
                response = await with_retries(post, attempts, deadline)
            except DependencyError as exc:
                if maybe_sent:
                    found = await self._status(gateway, kind, key, deadline, attempts, force)
                    if found == PAID:
                        return self._paid(gateway, keys)
                    if found == UNKNOWN:
                        event(log, "payment outcome unknown", level=logging.WARNING, gateway=gateway.role, key=key,
                              error=str(exc))
                        return PaymentOutcome(UNKNOWN, None, keys, str(exc))
                if index + 1 < len(gateways):
                    event(log, "gateway failover", level=logging.WARNING, kind=kind, key=key,
                          **{"from": gateway.role, "to": gateways[index + 1].role, "error": str(exc)})
                continue
            if response.status in (200, 201):
                return self._paid(gateway, keys)
            return PaymentOutcome(FAILED, None, keys, f"{gateway.role}: HTTP {response.status} {response.body[:200]!r}")
        return PaymentOutcome(FAILED, None, keys, "no gateway accepted the payment")

    async def _status(self, gateway: Gateway, kind: str, key: str, deadline: Deadline, attempts: int,
                      force: bool = False) -> str:
        """PAID / FAILED (definitely not there) / UNKNOWN for one key at one gateway."""
        async def lookup(number: int) -> HttpResponse:
            return await self._call(gateway, "GET", f"/v1/{kind}/{key}", deadline, force=force)
        try:
            response = await with_retries(lookup, attempts, deadline)
        except DependencyError:
            return UNKNOWN
        if response.status == 200:
            return PAID
        if response.status == 404:
            return FAILED
        return UNKNOWN

    def _paid(self, gateway: Gateway, keys: list[str]) -> PaymentOutcome:
        self._mark_in_use(gateway.role)
        return PaymentOutcome(PAID, gateway.role, keys)

    async def _move_unchecked(self, kind: str, key: str, amount: int, reference: str,
                              deadline: Deadline) -> PaymentOutcome:
        """With --no-idempotency-check: a fresh key per attempt and failover
        without asking: the way real systems end up paying twice."""
        gateways = self.gateways if self.settings.on("failover") else self.gateways[:1]
        attempts = self.settings.retry_attempts if self.settings.on("retries") else 1
        keys: list[str] = []
        payload = {"amount": amount, "reference": reference}
        for gateway in gateways:
            for _ in range(attempts):
                if deadline.exhausted():
                    break
                attempt_key = f"{key}-{uuid.uuid4().hex[:8]}"
                keys.append(f"{gateway.role}:{attempt_key}")
                try:
                    response = await self._call(gateway, "POST", f"/v1/{kind}", deadline, payload, attempt_key)
                except DependencyError:
                    continue
                if response.status in (200, 201):
                    return self._paid(gateway, keys)
                break
        return PaymentOutcome(FAILED, None, keys, "no gateway accepted the payment")
