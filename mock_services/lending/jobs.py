"""lending's start and stop, and the background jobs that run in between.

Two jobs: re-reading the maintenance window (another instance may have
scheduled it in the shared database) and reconciliation. A job that fails
is logged and runs again at its next interval: one bad round must not stop
parked payments from ever being resolved.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from mock_services.lending.config import Settings
from mock_services.lending.maintenance import Maintenance
from mock_services.lending.reconcile import Reconciler
from mock_services.lending.upstreams import Upstreams

log = logging.getLogger("lending")


class BackgroundJobs:
    def __init__(self, settings: Settings, upstreams: Upstreams, maintenance: Maintenance,
                 reconciler: Reconciler) -> None:
        self.settings = settings
        self.upstreams = upstreams
        self.maintenance = maintenance
        self.reconciler = reconciler
        self.tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        if self.settings.upstream_check:
            await self.upstreams.check(self.settings.upstream_wait)
        self.tasks.append(asyncio.create_task(self._every(0.5, self._refresh_maintenance)))
        self.tasks.append(asyncio.create_task(self._every(self.settings.reconcile_interval, self.reconciler.reconcile)))

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
        self.upstreams.close()
