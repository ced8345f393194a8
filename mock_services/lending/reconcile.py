"""Reconciliation: resolving the payments whose outcome nobody knows.

A loan parked as PENDING_RECONCILIATION, a PENDING_PAYMENT row left by a
request that died (crash, deadline) and a repayment left PENDING_COLLECTION
are retried as resumed payments: the gateways are asked by key, and the
money moves once if nobody has it. Runs in the background every
--reconcile-interval and on the admin call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from prometheus_client import Gauge

from mock_services.codes import Code
from mock_services.lending.config import Settings
from mock_services.lending.movements import Movements, all_keys
from mock_services.lending.payments import UNKNOWN
from mock_services.lending.resilience import Deadline
from mock_services.lending.store import PENDING_RECONCILIATION, Store
from mock_services.runtime import event

log = logging.getLogger("lending")


class Reconciler:
    def __init__(self, settings: Settings, store: Store, movements: Movements, pending: Gauge) -> None:
        self.settings = settings
        self.store = store
        self.movements = movements
        self.pending = pending
        self.lock = asyncio.Lock()

    async def reconcile(self, stale_after: float | None = None, force: bool = False) -> dict[str, Any]:
        """Resolve payments whose outcome is unknown: ask the gateways by key, pay once if nobody has it.

        `force` (the admin call): also through open breakers."""
        if stale_after is None:
            stale_after = 2 * self.settings.deadline
        async with self.lock:
            cutoff = time.time() - stale_after
            resolved: dict[str, int] = {}
            unresolved = await self._loans(cutoff, force, resolved)
            unresolved += await self._repayments(cutoff, force, resolved)
            await self.store.durable()
            self.pending.set(unresolved)
            return {"resolved": resolved, "still_pending": unresolved}

    async def _loans(self, cutoff: float, force: bool, resolved: dict[str, int]) -> int:
        """Resolve the loans; counts the resolved by state into `resolved`, answers how many stay unknown."""
        busy_loans = self.movements.busy_loans
        unresolved = 0
        for loan in self.store.unresolved_loans(cutoff):
            if loan.id in busy_loans:
                continue
            busy_loans.add(loan.id)
            try:
                deadline = Deadline(self.settings.deadline)
                outcome = await self.movements.disbursement(loan, deadline, resume=True, force=force)
            finally:
                busy_loans.discard(loan.id)
            if outcome.status == UNKNOWN:
                unresolved += 1
                self.store.update_loan(loan, state=PENDING_RECONCILIATION, keys=all_keys(loan, outcome),
                                       code=Code.PENDING_RECONCILIATION.value)
                await self.store.durable()
                continue
            self.movements.settle_loan(loan, outcome)
            await self.store.durable()
            resolved[loan.state] = resolved.get(loan.state, 0) + 1
            event(log, "loan reconciled", loan_id=loan.id, state=loan.state, gateway=loan.gateway)
        return unresolved

    async def _repayments(self, cutoff: float, force: bool, resolved: dict[str, int]) -> int:
        """Resolve the repayments; counts the resolved by state into `resolved`, answers how many stay unknown."""
        busy_repayments = self.movements.busy_repayments
        unresolved = 0
        for repayment in self.store.pending_repayments(cutoff):
            busy_key = (repayment["loan_id"], repayment["request_id"])
            loan = self.store.loan(repayment["loan_id"])
            if busy_key in busy_repayments or loan is None:
                continue
            busy_repayments.add(busy_key)
            try:
                outcome = await self.movements.collection(loan, repayment["request_id"], repayment["amount"],
                                                          Deadline(self.settings.deadline), True,
                                                          repayment["idempotency_keys"], force=force)
            finally:
                busy_repayments.discard(busy_key)
            if outcome.status == UNKNOWN:
                unresolved += 1
                continue
            state = self.movements.settle_collection(loan, repayment["request_id"], repayment["amount"], outcome)
            resolved[state] = resolved.get(state, 0) + 1
        return unresolved
