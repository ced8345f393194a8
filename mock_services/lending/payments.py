"""Moving money through the primary gateway, failing over to the backup.

The rule that keeps money from moving twice: a payment uses one stable
idempotency key at every gateway, and it is paid through a gateway only
while every other gateway that may have received the key has voided it.
When a call's outcome is unknown (it may have reached the gateway: a
timeout, a reset, a 5xx), the key is voided there before the backup is
tried. The void answers the movement if the money moved; once it answers
"voided", a copy of the request still on its way (held up in the network)
is refused when it lands, which a plain status check ("not found") could
not promise. A call that never left (connection refused, breaker open) needs
no void. If the gateway cannot answer the void, the outcome is UNKNOWN and
the caller parks the payment for reconciliation instead of guessing.

A retried payment (a repeated request, reconciliation) may have earlier
copies on their way anywhere, so it voids the key at every gateway but the
first before paying through the first. A key voided everywhere can never
pay; the payment then moves on to the key's next generation (`<key>.g2`),
claimed in the shared store before it is sent, so that of two lending
instances reaching it together only one treats it as never sent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from prometheus_client import Gauge

from mock_services.client import DependencyError, HttpClient, HttpResponse
from mock_services.lending.config import Settings
from mock_services.lending.resilience import Breaker, Deadline, with_retries
from mock_services.runtime import event

PAID, FAILED, UNKNOWN = "paid", "failed", "unknown"
MAX_GENERATIONS_PER_CALL = 3  # keys fenced everywhere and renewed, at most, within one request
log = logging.getLogger("lending")


@dataclass
class PaymentOutcome:
    status: str  # PAID, FAILED (moved nowhere), UNKNOWN (may have moved: reconcile)
    gateway: str | None = None
    keys: list[str] = field(default_factory=list)
    detail: str = ""


def generation_key(key: str, generation: int) -> str:
    """The key a payment uses in its `generation`: the first is the plain key."""
    return key if generation <= 1 else f"{key}.g{generation}"


def current_generation(key: str, used: list[str]) -> int:
    """The newest generation of `key` among the recorded "role:key" labels (1 when none)."""
    newest = 1
    for label in used:
        used_key = label.split(":", 1)[-1]
        if used_key.startswith(f"{key}.g") and used_key[len(key) + 2:].isdigit():
            newest = max(newest, int(used_key[len(key) + 2:]))
    return newest


def _json_of(response: HttpResponse) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_of(response: HttpResponse) -> str | None:
    return _json_of(response).get("error")


@dataclass
class Attempt:
    """One payment's key and what this call has learned about it at each gateway."""

    key: str
    payload: dict
    kind: str
    deadline: Deadline
    attempts: int
    force: bool
    voided: set[str] = field(default_factory=set)  # roles that fenced `key`
    labels: list[str] = field(default_factory=list)  # "role:key" for every key sent or voided
    last_error: str = ""

    def note(self, gateway: "Gateway") -> None:
        label = f"{gateway.role}:{self.key}"
        if label not in self.labels:
            self.labels.append(label)

    def renew(self, key: str) -> None:
        self.key = key
        self.voided = set()


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
                   resume: bool = False, force: bool = False, used: list[str] | None = None,
                   claim: Callable[[list[str]], Awaitable[tuple[bool, list[str]]]] | None = None) -> PaymentOutcome:
        """Disburse or collect (`kind`: disbursements / collections) exactly once.

        `resume`: an earlier attempt with this key may have happened (a retried
        request, reconciliation) and may still be on its way to any gateway.
        `force`: call gateways even when their breaker is open (an operator's
        explicit reconciliation must not wait for the breaker to half-open).
        `used`: the keys recorded for this payment so far ("role:key"), which
        tell the key's current generation; `claim` durably adds the next
        generation's keys unless someone else did first, and answers (won,
        keys now). Without it a key fenced everywhere is not renewed and the
        payment fails."""
        if not self.settings.on("idempotency-check"):
            return await self._move_unchecked(kind, key, amount, reference, deadline)
        gateways = self.gateways if self.settings.on("failover") else self.gateways[:1]
        attempts = self.settings.retry_attempts if self.settings.on("retries") else 1
        generation = current_generation(key, used or [])
        attempt = Attempt(generation_key(key, generation), {"amount": amount, "reference": reference},
                          kind, deadline, attempts, force)
        for _generation in range(MAX_GENERATIONS_PER_CALL):
            if resume:
                # Whatever an earlier attempt sent with this key may still land at any
                # gateway: fence every gateway but the first before paying through the first.
                for gateway in gateways[1:]:
                    fenced = await self._fence(gateway, attempt)
                    if fenced is not None:
                        return fenced
            for index, gateway in enumerate(gateways):
                if gateway.role in attempt.voided:
                    continue
                outcome = await self._pay_through(gateway, attempt, resume)
                if outcome is not None:
                    return outcome
                if index + 1 < len(gateways):
                    event(log, "gateway failover", level=logging.WARNING, kind=kind, key=attempt.key,
                          **{"from": gateway.role, "to": gateways[index + 1].role, "error": attempt.last_error})
            if claim is None or len(attempt.voided) < len(gateways) or deadline.exhausted():
                break
            # Every gateway fenced this key and none moved money with it: it can never pay.
            # Its next generation is claimed in the store before it is sent: the one
            # claimant knows it was never sent and needs no fencing until it fails
            # somewhere; anyone else takes the newest generation as possibly sent.
            won, now_used = await claim([f"{g.role}:{generation_key(key, generation + 1)}" for g in gateways])
            generation = generation + 1 if won else current_generation(key, now_used)
            attempt.renew(generation_key(key, generation))
            resume = not won
            event(log, "payment key renewed", kind=kind, key=attempt.key, claimed=won)
        return PaymentOutcome(FAILED, None, attempt.labels, attempt.last_error or "no gateway accepted the payment")

    async def _pay_through(self, gateway: Gateway, attempt: "Attempt", resume: bool) -> PaymentOutcome | None:
        """Pay through one gateway: an outcome, or None to go on to the next one
        (this one fenced the key, or was never reached)."""
        maybe_sent = False

        async def post(number: int) -> HttpResponse:
            nonlocal maybe_sent
            try:
                return await self._call(gateway, "POST", f"/v1/{attempt.kind}", attempt.deadline, attempt.payload,
                                        attempt.key, attempt.force)
            except DependencyError as exc:
                maybe_sent = maybe_sent or exc.sent
                raise

        attempt.note(gateway)
        try:
            response = await with_retries(post, attempt.attempts, attempt.deadline)
        except DependencyError as exc:
            attempt.last_error = str(exc)
            if maybe_sent or resume:  # it may yet land here: fence it before going elsewhere
                return await self._fence(gateway, attempt)
            return None  # never left, and nothing earlier was sent: nothing to fence
        if response.status in (200, 201):
            return self._paid(gateway, attempt.labels)
        if response.status == 409 and _error_of(response) == "idempotency_key_voided":
            attempt.voided.add(gateway.role)
            attempt.last_error = f"{gateway.role}: key {attempt.key} voided"
            return None
        return PaymentOutcome(FAILED, None, attempt.labels,
                              f"{gateway.role}: HTTP {response.status} {response.body[:200]!r}")

    async def _fence(self, gateway: Gateway, attempt: "Attempt") -> PaymentOutcome | None:
        """Void the key at `gateway`: PAID if it had already moved, None once fenced, UNKNOWN if it cannot say."""
        attempt.note(gateway)

        async def void(number: int) -> HttpResponse:
            return await self._call(gateway, "POST", f"/v1/{attempt.kind}/{attempt.key}/void", attempt.deadline,
                                    force=attempt.force)
        try:
            response = await with_retries(void, attempt.attempts, attempt.deadline)
        except DependencyError as exc:
            event(log, "payment outcome unknown", level=logging.WARNING, gateway=gateway.role, key=attempt.key,
                  error=str(exc))
            return PaymentOutcome(UNKNOWN, None, attempt.labels, f"{gateway.role}: cannot void {attempt.key}: {exc}")
        body = _json_of(response)
        if response.status == 200 and body.get("status") == "voided":
            attempt.voided.add(gateway.role)
            return None
        if response.status == 200 and body.get("status") == "succeeded":
            return self._paid(gateway, attempt.labels)
        return PaymentOutcome(UNKNOWN, None, attempt.labels, f"{gateway.role}: void answered HTTP {response.status}")

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
