"""Credit reports from the bureau replicas, with breakers, retries and a cache.

Requests spread round-robin over the replicas; a failed attempt retries on
the next replica (failover) after a backoff, within the request's deadline.
Every good report is remembered per user: when no replica answers, a report
younger than the TTL is used instead and the answer is marked degraded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from mock_services.client import DependencyError, HttpClient
from mock_services.lending.config import Settings
from mock_services.lending.resilience import Breaker, Deadline, with_retries


class CreditUnavailable(Exception):
    """No fresh report and no usable cached one."""

    def __init__(self, deadline_hit: bool, retry_after: float) -> None:
        super().__init__("credit report unavailable")
        self.deadline_hit = deadline_hit
        self.retry_after = retry_after


@dataclass
class CreditReport:
    score: int
    multi_lending: bool
    overdue: bool
    fetched_at: float
    source: str

    @property
    def reasons(self) -> list[str]:
        reasons = []
        if self.score < 550:
            reasons.append(f"credit score {self.score} below 550")
        if self.multi_lending:
            reasons.append("borrowing from several lenders at once (multi-lending)")
        if self.overdue:
            reasons.append("overdue repayments on record")
        return reasons

    @property
    def limit(self) -> int:
        """Credit line for the score (0 for a high-risk borrower)."""
        if self.reasons:
            return 0
        if self.score >= 750:
            return 20000
        if self.score >= 650:
            return 10000
        return 5000


class CreditReports:
    def __init__(self, settings: Settings, breakers: dict[str, Breaker], clients: list[HttpClient]) -> None:
        self.settings = settings
        self.replicas = [(client, breakers[client.name]) for client in clients]
        self.cache: dict[str, CreditReport] = {}
        self.next = 0

    async def get(self, user_id: str, deadline: Deadline) -> tuple[CreditReport, bool]:
        """(report, degraded); raises CreditUnavailable, or DependencyError when fallback is off."""
        settings = self.settings
        start = self.next
        self.next = (self.next + 1) % len(self.replicas)
        failover = settings.on("failover")

        async def attempt(number: int) -> CreditReport:
            index = (start + number) % len(self.replicas) if failover else start
            client, breaker = self.replicas[index]
            if not breaker.allow():
                if failover:  # look for a replica whose breaker lets the call through
                    for client, breaker in self.replicas:
                        if breaker.allow():
                            break
                    else:
                        raise DependencyError("credit-bureau", "breaker-open", sent=False)
                else:
                    raise DependencyError(client.name, "breaker-open", sent=False)
            try:
                response = await client.request("GET", f"/v1/reports/{user_id}",
                                                timeout=deadline.timeout(settings.dependency_timeout if settings.on("deadline") else None))
            except DependencyError as exc:
                breaker.failure(exc)
                raise
            if response.status != 200:
                error = DependencyError(client.name, "status", sent=True, detail=f"HTTP {response.status}")
                breaker.failure(error)
                raise error
            breaker.success()
            data = response.json()
            return CreditReport(int(data["score"]), bool(data["multi_lending"]), bool(data["overdue"]),
                                time.time(), client.name)

        attempts = settings.retry_attempts if settings.on("retries") else 1
        try:
            report = await with_retries(attempt, attempts, deadline)
        except DependencyError:
            if not settings.on("fallback"):
                raise
            cached = self.cache.get(user_id)
            if cached is not None and time.time() - cached.fetched_at <= settings.report_ttl:
                return cached, True
            retry_after = max([b.retry_after() for _, b in self.replicas] + [1.0])
            raise CreditUnavailable(deadline.exhausted(), retry_after) from None
        self.cache[user_id] = report
        return report, False

    def snapshot(self) -> dict[str, Any]:
        return {"cached_reports": len(self.cache)}
