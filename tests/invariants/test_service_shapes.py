"""The lending invariants read what the real mock services answer.

In process, no sockets: lending's Store and the payment gateway's handlers
write real records (SQLite in a temp folder); lending's GET /v1/audit and each
gateway's GET /v1/ledger are answered by the services' own routing. A change
of either answer's shape breaks these tests rather than a drill.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from harness.invariants import check_invariants
from mock_services.lending.app import Lending
from mock_services.lending.config import parse_settings
from mock_services.lending.store import DISBURSED, REJECTED
from mock_services.lending.store import SCHEMA as LENDING_SCHEMA
from mock_services.lending.store import Store
from mock_services.payment_gateway.app import SCHEMA as GATEWAY_SCHEMA
from mock_services.payment_gateway.app import Gateway
from mock_services.runtime import open_database
from mock_services.web import Request

ALL = ["no_double_disbursement", "no_lost_loans", "paid_by_recorded_gateway", "ledger_balanced",
       "reconciliation_complete"]


def request(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> Request:
    return Request(method, path, "", {k.lower(): v for k, v in (headers or {}).items()},
                   json.dumps(body).encode() if body is not None else b"")


async def call(app, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
    response = await app.handle(request(method, path, body, headers))
    assert response.status < 300, response.body
    return json.loads(response.body)


class World:
    """A lending store and two gateways, as a drill leaves them."""

    def __init__(self, tmp: Path) -> None:
        settings = parse_settings(["--db", str(tmp / "lending.db"), "--instance-id", "lending-0",
                                   "--bureau-url", "http://127.0.0.1:9", "--gateway-primary-url", "http://127.0.0.1:9",
                                   "--gateway-backup-url", "http://127.0.0.1:9", "--no-upstream-check"])
        self.store = Store(open_database(str(tmp / "lending.db"), LENDING_SCHEMA), "lending-0")
        self.lending = Lending(settings, self.store)
        self.gateways = {name: Gateway(name, open_database(str(tmp / f"{name}.db"), GATEWAY_SCHEMA))
                         for name in ("primary", "backup")}
        self.acks: list[dict] = []

    async def pay(self, gateway: str, key: str, amount: int, reference: str) -> None:
        await call(self.gateways[gateway].app, "POST", "/v1/disbursements", {"amount": amount, "reference": reference},
                   {"Idempotency-Key": key})

    async def loan(self, request_id: str, amount: int, gateway: str | None) -> str:
        """A loan as lending records one: decided, paid through `gateway` (None: rejected), acknowledged."""
        state = DISBURSED if gateway else REJECTED
        code = "APPROVED" if gateway else "RISK_REJECTED"
        loan = self.store.create_loan(request_id, "user-1", amount, "PENDING_PAYMENT" if gateway else state, code,
                                      "ok", [], False, acked=not gateway)
        if gateway:
            key = f"disb-{loan.id}"
            await self.pay(gateway, key, amount, loan.id)
            self.store.update_loan(loan, state=state, gateway=gateway, keys=[key], acked=True)
        self.acks.append({"request_id": request_id, "loan_id": loan.id if gateway else None, "code": code})
        return loan.id

    async def audit(self) -> dict:
        return {
            "loans": await call(self.lending.app, "GET", "/v1/audit"),
            "ledger-primary": await call(self.gateways["primary"].app, "GET", "/v1/ledger"),
            "ledger-backup": await call(self.gateways["backup"].app, "GET", "/v1/ledger"),
        }


def results(world: World, acks: list[dict] | None = None) -> dict:
    data = asyncio.run(world.audit())
    return {r.name: r for r in check_invariants("lending", ALL, data, world.acks if acks is None else acks)}


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path)

    async def setup() -> None:
        await w.loan("r1", 500, "primary")
        await w.loan("r2", 300, "backup")
        await w.loan("r3", 100, None)

    asyncio.run(setup())
    return w


def test_records_of_the_real_services_pass_every_invariant(world: World):
    out = results(world)
    assert all(r.passed for r in out.values()), {n: (r.message, r.offending) for n, r in out.items()}
    assert out["no_double_disbursement"].counts["disbursements"] == 2
    assert out["no_lost_loans"].counts["acknowledged"] == 2


def test_a_double_payment_through_the_real_gateways_is_caught(world: World):
    loan_id = world.acks[0]["loan_id"]
    asyncio.run(world.pay("backup", f"disb-{loan_id}-fresh-key", 500, loan_id))  # failover without a status check
    out = results(world)
    assert not out["no_double_disbursement"].passed
    assert out["no_double_disbursement"].offending == [
        f"loan {loan_id} paid 2 times: primary:disb-{loan_id} (500), backup:disb-{loan_id}-fresh-key (500)"]
    assert not out["paid_by_recorded_gateway"].passed and not out["ledger_balanced"].passed


def test_a_lost_loan_is_caught_against_the_real_audit(world: World):
    acks = world.acks + [{"request_id": "r-ghost", "loan_id": "L-ghost", "code": "APPROVED"}]
    out = results(world, acks)
    assert not out["no_lost_loans"].passed
    assert out["no_lost_loans"].offending == ["loan L-ghost was acknowledged (APPROVED) but is not in the audit"]
