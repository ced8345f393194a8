"""lending: the borrower-facing HTTP API and where its mechanisms meet.

Every answer is JSON with a `code` (mock_services.codes.Code) and a
`message`, plus Retry-After on the retryable codes, unless a resilience
switch is off: then the symptom that mechanism prevents shows up for real
(a hang, a bare 500, a double payment, an unannounced outage).

This module only wires the parts together (one `Lending` per process) and
runs it; each concern lives in its own module: admission.py (maintenance,
admission control, deadline), loans.py, repayments.py, admin.py (handlers),
routes.py, movements.py (paying exactly once), reconcile.py, jobs.py (start,
stop, background jobs), upstreams.py, metrics.py, answers.py.
"""

from __future__ import annotations

from mock_services.lending.admin import AdminHandlers
from mock_services.lending.admission import Admission
from mock_services.lending.config import Settings, parse_settings
from mock_services.lending.jobs import BackgroundJobs
from mock_services.lending.loans import LoanHandlers
from mock_services.lending.maintenance import Maintenance
from mock_services.lending.metrics import Metrics
from mock_services.lending.movements import Movements
from mock_services.lending.reconcile import Reconciler
from mock_services.lending.repayments import RepaymentHandlers
from mock_services.lending.routes import add_routes
from mock_services.lending.store import SCHEMA, Store
from mock_services.lending.upstreams import Upstreams
from mock_services.runtime import ConfigError, add_common_routes, bind, event, fail, open_database, run_service, setup_logging
from mock_services.web import Application


class Lending:
    """One lending instance: its parts, its routes (`app`), its `start` and `stop`."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.metrics = Metrics()
        self.registry = self.metrics.registry
        self.maintenance = Maintenance(store)
        self.metrics.maintenance.set_function(self.maintenance.state)
        self.admission = Admission(settings, self.maintenance, self.metrics)
        self.upstreams = Upstreams(settings, self.metrics)
        self.movements = Movements(store, self.upstreams.payments)
        self.reconciler = Reconciler(settings, store, self.movements, self.metrics.pending_reconciliation)
        self.jobs = BackgroundJobs(settings, self.upstreams, self.maintenance, self.reconciler)
        self.app = Application()
        add_common_routes(self.app, self.registry, lambda: True)
        add_routes(self.app, self.admission,
                   LoanHandlers(settings, store, self.upstreams.credit, self.movements),
                   RepaymentHandlers(settings, store, self.movements),
                   AdminHandlers(settings, store, self.maintenance, self.reconciler))

    async def start(self) -> None:
        await self.jobs.start()

    async def stop(self) -> None:
        await self.jobs.stop()


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
