"""The service's status and its operator endpoints: maintenance windows, reconcile now, audit.

/v1/status is where borrowers learn of maintenance ahead of time. The audit
lists every loan with its keys and repayments: what a drill's invariants
check against the gateways' ledgers.
"""

from __future__ import annotations

import logging

from mock_services.codes import Code
from mock_services.lending.answers import answer
from mock_services.lending.config import Settings
from mock_services.lending.maintenance import Maintenance
from mock_services.lending.reconcile import Reconciler
from mock_services.lending.store import Store
from mock_services.runtime import event
from mock_services.web import Request, Response

log = logging.getLogger("lending")


class AdminHandlers:
    def __init__(self, settings: Settings, store: Store, maintenance: Maintenance, reconciler: Reconciler) -> None:
        self.settings = settings
        self.store = store
        self.maintenance = maintenance
        self.reconciler = reconciler

    async def status(self, request: Request) -> Response:
        notice = self.maintenance.notice() if self.settings.on("maintenance-readonly") else None
        if notice is None:
            message = "all systems normal"
        elif notice["state"] == "active":
            message = f"maintenance in progress: {notice['message']}"
        else:
            message = f"maintenance scheduled in {notice['starts_in']:.0f}s: {notice['message']}"
        return answer(Code.OK, message, maintenance=notice, instance=self.settings.instance_id)

    async def schedule_maintenance(self, request: Request) -> Response:
        try:
            body = request.json()
            starts_in = float(body.get("starts_in", 0))
            duration = float(body["duration"])
            message = str(body.get("message") or "scheduled maintenance")
            if starts_in < 0 or duration <= 0:
                raise ValueError("starts_in must be >= 0 and duration > 0")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return answer(Code.INVALID_REQUEST, f"bad maintenance window: {exc}")
        self.maintenance.schedule(starts_in, duration, message)
        await self.store.durable()
        notice = self.maintenance.notice()
        event(log, "maintenance scheduled", **(notice or {}))
        return answer(Code.OK, "maintenance scheduled", maintenance=notice)

    async def cancel_maintenance(self, request: Request) -> Response:
        had = self.maintenance.cancel()
        await self.store.durable()
        event(log, "maintenance cancelled", had_window=had)
        return answer(Code.OK, "maintenance cancelled" if had else "no maintenance was scheduled", maintenance=None)

    async def reconcile_now(self, request: Request) -> Response:
        result = await self.reconciler.reconcile(stale_after=0.0, force=True)
        return answer(Code.OK, "reconciliation done", **result)

    async def audit(self, request: Request) -> Response:
        repayments = self.store.repayments_by_loan()
        loans = [{**loan.audit(), "repayments": repayments.get(loan.id, [])} for loan in self.store.all_loans()]
        return answer(Code.OK, f"{len(loans)} loans", instance=self.settings.instance_id, count=len(loans),
                      loans=loans)
