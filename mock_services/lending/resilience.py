"""Deadline budgets, circuit breakers and retries for lending's dependency calls.

The breaker is written here rather than taken from pybreaker because
pybreaker's state machine is synchronous (or Tornado) only, and lending needs
a half-open state that admits exactly one asyncio trial call and exports its
state as a gauge. Retries use tenacity, bounded by the request's deadline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable, TypeVar

from prometheus_client import Gauge
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from mock_services.client import DependencyError
from mock_services.runtime import event

T = TypeVar("T")
log = logging.getLogger("lending")

CLOSED, HALF_OPEN, OPEN = 0, 1, 2
STATE_NAMES = {CLOSED: "closed", HALF_OPEN: "half-open", OPEN: "open"}
MIN_ATTEMPT = 0.02  # no retry is started with less budget than this


class Deadline:
    """What is left of one request's budget (None: no deadline, wait forever)."""

    __slots__ = ("expires",)

    def __init__(self, budget: float | None) -> None:
        self.expires = None if budget is None else time.monotonic() + budget

    def remaining(self) -> float | None:
        if self.expires is None:
            return None
        return max(0.0, self.expires - time.monotonic())

    def timeout(self, per_call: float | None) -> float | None:
        """Timeout for one call: the per-call timeout capped by the remaining budget."""
        left = self.remaining()
        if left is None:
            return per_call
        return left if per_call is None else min(per_call, left)

    def exhausted(self) -> bool:
        left = self.remaining()
        return left is not None and left < MIN_ATTEMPT


class Breaker:
    """Consecutive-failure circuit breaker for one dependency."""

    def __init__(self, name: str, failures: int, reset_after: float, enabled: bool, gauge: Gauge) -> None:
        self.name = name
        self.threshold = failures
        self.reset_after = reset_after
        self.enabled = enabled
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.trial_running = False
        # A switched-off breaker exports no state: a steady "closed" would tell a report
        # reader that a breaker guarded the dependency and never tripped.
        self.gauge = gauge.labels(dependency=name) if enabled else None
        if self.gauge is not None:
            self.gauge.set(CLOSED)

    def _set(self, state: int, error: str = "") -> None:
        if state != self.state:
            fields = {"error": error} if error else {}
            event(log, "breaker", dependency=self.name, old=STATE_NAMES[self.state], new=STATE_NAMES[state], **fields)
            self.state = state
            if self.gauge is not None:
                self.gauge.set(state)

    def allow(self) -> bool:
        """May a call go out now? In half-open, only one trial at a time."""
        if not self.enabled or self.state == CLOSED:
            return True
        if self.state == OPEN:
            if time.monotonic() - self.opened_at < self.reset_after:
                return False
            self._set(HALF_OPEN)
        if self.trial_running:
            return False
        self.trial_running = True
        return True

    def retry_after(self) -> float:
        if self.state != OPEN:
            return 0.0
        return max(0.0, self.reset_after - (time.monotonic() - self.opened_at))

    def success(self) -> None:
        self.failures = 0
        self.trial_running = False
        if self.state != CLOSED:
            self._set(CLOSED)

    def failure(self, error: object = "") -> None:
        """Count a failed call; `error` (the last failure) is logged when the breaker opens,
        so an operator sees what tripped it, not only that it tripped."""
        if not self.enabled:
            return
        self.trial_running = False
        self.failures += 1
        if self.state == HALF_OPEN or self.failures >= self.threshold:
            self.opened_at = time.monotonic()
            self._set(OPEN, str(error))


async def with_retries(call: Callable[[int], Awaitable[T]], attempts: int, deadline: Deadline,
                       retry_on: type[BaseException] = DependencyError) -> T:
    """Run `call(attempt)`; on `retry_on`, retry with exponential backoff and
    jitter while attempts and the deadline last. The first attempt runs
    outside tenacity: the happy path pays nothing for the retry machinery."""
    try:
        return await call(0)
    except retry_on:
        if attempts <= 1 or deadline.exhausted():
            raise

    backoff = wait_exponential_jitter(initial=0.02, max=0.25, jitter=0.03)

    def wait_within_deadline(state: RetryCallState) -> float:
        pause = backoff(state)
        left = deadline.remaining()
        return pause if left is None else max(0.0, min(pause, left - MIN_ATTEMPT))

    def out_of_budget(state: RetryCallState) -> bool:
        return deadline.exhausted()

    attempt_no = 0
    async for attempt in AsyncRetrying(
        stop=stop_after_attempt(attempts - 1) | out_of_budget,
        wait=wait_within_deadline,
        retry=retry_if_exception_type(retry_on),
        reraise=True,
        before_sleep=None,
        sleep=asyncio.sleep,
    ):
        with attempt:
            attempt_no += 1
            return await call(attempt_no)
    raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover
