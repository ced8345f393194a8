"""The lending store's state transitions, straight on SQLite."""

from __future__ import annotations

import asyncio
import sqlite3

from mock_services.lending.store import COLLECTED, DISBURSED, PENDING_COLLECTION, SCHEMA, Store


def test_a_repayment_resolved_twice_lowers_the_balance_once(tmp_path):
    """Found by the resilience matrix (http_error on the primary gateway): the
    reconciler and the borrower's retried request both found the same pending
    repayment paid, and each lowered the loan's balance."""

    async def scenario() -> tuple[int, int, str]:
        db = sqlite3.connect(tmp_path / "lending.db", isolation_level=None)
        db.executescript(SCHEMA)
        store = Store(db, "test")
        loan = store.create_loan("r1", "u1", 181, DISBURSED, "APPROVED", "ok", [], False, True)
        store.create_repayment(loan.id, "p1", 5)
        store.finish_repayment(loan, "p1", 5, PENDING_COLLECTION, "PENDING_RECONCILIATION", None, [])
        await store.durable()
        store.finish_repayment(loan, "p1", 5, COLLECTED, "REPAID", "primary", [])  # the retried request
        store.finish_repayment(loan, "p1", 5, COLLECTED, "REPAID", "primary", [])  # the reconciler
        store.finish_repayment(loan, "p1", 5, PENDING_COLLECTION, "PENDING_RECONCILIATION", None, [])  # a late timeout
        await store.durable()
        stored = store.loan(loan.id)
        state = db.execute("SELECT state FROM repayments WHERE request_id='p1'").fetchone()[0]
        return loan.outstanding, stored.outstanding, state

    in_memory, stored, state = asyncio.run(scenario())
    assert (in_memory, stored) == (176, 176)
    assert state == COLLECTED


def test_two_instances_claiming_a_key_generation_at_once_one_wins(tmp_path):
    """Two lending instances share the database; both found a payment key voided
    everywhere (a retried request on one, reconciliation on the other) and both
    want its next generation: only one may treat it as never sent."""

    async def scenario() -> tuple[tuple[bool, list[str]], tuple[bool, list[str]], list[str]]:
        stores = []
        for name in ("lending", "lending#1"):
            db = sqlite3.connect(tmp_path / "lending.db", isolation_level=None, timeout=5)
            db.executescript(SCHEMA)
            stores.append(Store(db, name))
        a, b = stores
        loan = a.create_loan("r1", "u1", 100, "PENDING_PAYMENT", "APPROVED", "ok", [], False, False)
        a.update_loan(loan, keys=[f"primary:disb-{loan.id}", f"backup:disb-{loan.id}"])
        await a.durable()
        seen_by_b = b.loan(loan.id)  # both read the loan before either claims
        assert seen_by_b is not None
        labels = [f"primary:disb-{loan.id}.g2", f"backup:disb-{loan.id}.g2"]
        first = a.claim_loan_keys(loan, labels)
        await a.durable()
        second = b.claim_loan_keys(seen_by_b, labels)
        await b.durable()
        return first, second, b.loan(loan.id).keys  # type: ignore[union-attr]

    (won_a, keys_a), (won_b, keys_b), stored = asyncio.run(scenario())
    assert (won_a, won_b) == (True, False)
    assert keys_b == keys_a == stored and any(k.endswith(".g2") for k in stored)
