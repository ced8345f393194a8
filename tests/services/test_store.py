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
