"""What stands between a request and its handler: maintenance, admission control, the deadline.

Every route goes through `Admission.guard`, which also counts the answer
and its latency by endpoint and code. Admin endpoints skip the maintenance
check (a window can be cancelled while it is active), and /v1/status skips
admission control (the maintenance notice stays readable under overload).
"""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

from mock_services.codes import Code
from mock_services.lending import maintenance as mnt
from mock_services.lending.answers import answer, code_of
from mock_services.lending.config import Settings
from mock_services.lending.metrics import Metrics
from mock_services.lending.resilience import Deadline
from mock_services.web import Request, Response, text_response

Handler = Callable[..., Awaitable[Response]]


def request_deadline(settings: Settings) -> Deadline:
    """The budget of one request (no limit with --no-deadline)."""
    return Deadline(settings.deadline if settings.on("deadline") else None)


def timebox(deadline: Deadline):
    """asyncio.timeout for the whole request, or no limit with --no-deadline."""
    return asyncio.timeout(deadline.remaining())


class Admission:
    def __init__(self, settings: Settings, maintenance: mnt.Maintenance, metrics: Metrics) -> None:
        self.settings = settings
        self.maintenance = maintenance
        self.metrics = metrics
        self.inflight = 0
        metrics.inflight.set_function(lambda: self.inflight)

    def guard(self, endpoint: str, handler: Handler, write: bool = False, admitted: bool = True,
              admin: bool = False) -> Handler:
        """Admission control, maintenance and the request deadline around a handler."""
        responses = self.metrics.responses
        latency = self.metrics.latency.labels(endpoint)

        async def guarded(request: Request, **params: str) -> Response:
            started = time.perf_counter()
            response = await self._guarded(request, params, handler, write, admitted, admin)
            latency.observe(time.perf_counter() - started)
            code = code_of(response)
            responses.labels(endpoint, code).inc()
            return response

        return guarded

    async def _guarded(self, request: Request, params: dict[str, str], handler: Handler,
                       write: bool, admitted: bool, admin: bool) -> Response:
        settings = self.settings
        if not admin:
            state = self.maintenance.state()
            if state == mnt.ACTIVE:
                if not settings.on("maintenance-readonly"):
                    return text_response(503, "Service Unavailable")  # the unannounced outage
                if write:
                    notice = self.maintenance.notice() or {}
                    return answer(Code.MAINTENANCE, notice.get("message") or "down for maintenance: try again later",
                                  retry_after=notice.get("ends_in"), maintenance=notice)
        if admitted and settings.on("admission-control") and self.inflight >= settings.max_concurrency:
            return answer(Code.OVERLOADED, "too many requests in progress: try again shortly", retry_after=1)
        self.inflight += 1
        try:
            return await handler(request, **params)
        finally:
            self.inflight -= 1
