"""The lending audit data as plain records, read defensively.

lending's GET /v1/audit answers {"loans": [{loan_id|id, request_id, amount,
outstanding, state, gateway, repayments: [...]}, ...]}; each payment
gateway's GET /v1/ledger answers {"provider", "movements": [{key, kind,
amount, reference, ...}]}, where `reference` is the loan id. Which endpoint is
which is told by the shape, not the name, so a stack may name them freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.invariants.registry import AuditData

# loan states (mock_services/lending/store.py)
PAID_STATES = {"DISBURSED", "REPAID"}
UNSETTLED_STATES = {"PENDING_RECONCILIATION", "PENDING_PAYMENT"}
UNPAID_STATES = {"PAYMENT_FAILED", "REJECTED"}
COLLECTED = "COLLECTED"
PENDING_COLLECTION = "PENDING_COLLECTION"
# client-side codes that mean "a loan was created for you" / "the money is on its way"
LOAN_CODES = {"APPROVED", "APPROVED_DEGRADED", "PENDING_RECONCILIATION"}
PAID_CODES = {"APPROVED", "APPROVED_DEGRADED"}


@dataclass
class Movement:
    ledger: str  # the gateway's name as the loans name it (provider)
    key: str
    kind: str  # disbursement | collection
    amount: int
    reference: str  # the loan id

    def describe(self) -> str:
        return f"{self.ledger}:{self.key} ({self.amount})"


@dataclass
class Ledger:
    endpoint: str
    provider: str
    movements: list[Movement] = field(default_factory=list)

    def names(self) -> set[str]:
        """Every name a loan's `gateway` field may use for this ledger."""
        out = {self.endpoint, self.provider}
        for prefix in ("ledger-", "ledger_", "payment-gateway-", "gateway-"):
            if self.endpoint.startswith(prefix):
                out.add(self.endpoint[len(prefix):])
        return {n for n in out if n}


@dataclass
class Loan:
    id: str
    request_id: str
    amount: int
    state: str
    gateway: str | None
    outstanding: int | None
    repayments: list[dict[str, Any]]


@dataclass
class LendingRecords:
    loans: dict[str, Loan]
    ledgers: list[Ledger]
    by_request: dict[str, Loan]

    def ledger_named(self, name: str | None) -> Ledger | None:
        if not name:
            return None
        for ledger in self.ledgers:
            if name in ledger.names():
                return ledger
        return None

    def movements_by_loan(self, kind: str) -> dict[str, list[Movement]]:
        """Loan id -> every movement of `kind` (disbursement | collection) for it, in every ledger."""
        out: dict[str, list[Movement]] = {}
        for ledger in self.ledgers:
            for m in ledger.movements:
                if m.kind == kind:
                    out.setdefault(m.reference, []).append(m)
        return out

    def disbursements(self) -> dict[str, list[Movement]]:
        return self.movements_by_loan("disbursement")

    def collections(self) -> dict[str, list[Movement]]:
        return self.movements_by_loan("collection")


class AuditShapeError(ValueError):
    """The audit data is not what the lending plugin reads."""


def read_records(data: AuditData) -> LendingRecords:
    loans: dict[str, Loan] = {}
    ledgers: list[Ledger] = []
    found_loans = False
    for endpoint, body in data.endpoints.items():
        if isinstance(body, dict) and isinstance(body.get("loans"), list):
            found_loans = True
            for raw in body["loans"]:
                loan = _loan(raw)
                loans[loan.id] = loan
        elif isinstance(body, dict) and isinstance(body.get("movements"), list):
            provider = str(body.get("provider") or endpoint)
            ledger = Ledger(endpoint, provider)
            for raw in body["movements"]:
                if isinstance(raw, dict) and raw.get("status", "succeeded") != "succeeded":
                    continue  # a refused or failed movement moved no money
                ledger.movements.append(_movement(raw, provider))
            ledgers.append(ledger)
    if not found_loans:
        raise AuditShapeError(f"no endpoint answered a list of loans (endpoints: {', '.join(data.endpoints) or 'none'})")
    return LendingRecords(loans, ledgers, {loan.request_id: loan for loan in loans.values()})


def _loan(raw: Any) -> Loan:
    if not isinstance(raw, dict):
        raise AuditShapeError(f"a loan record is not an object: {raw!r:.80}")
    loan_id = raw.get("loan_id") or raw.get("id")
    if not loan_id:
        raise AuditShapeError(f"a loan record has no id: {raw!r:.120}")
    outstanding = raw.get("outstanding")
    return Loan(
        id=str(loan_id),
        request_id=str(raw.get("request_id") or ""),
        amount=int(raw.get("amount", 0)),
        state=str(raw.get("state", "")),
        gateway=raw.get("gateway"),
        outstanding=int(outstanding) if outstanding is not None else None,
        repayments=[r for r in raw.get("repayments") or [] if isinstance(r, dict)],
    )


def _movement(raw: Any, provider: str) -> Movement:
    if not isinstance(raw, dict):
        raise AuditShapeError(f"a ledger movement is not an object: {raw!r:.80}")
    return Movement(
        ledger=provider,
        key=str(raw.get("key", "")),
        kind=str(raw.get("kind", "")),
        amount=int(raw.get("amount", 0)),
        reference=str(raw.get("reference", "")),
    )
