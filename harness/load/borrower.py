"""The built-in borrower: ordinary Locust code for the lending stack.

Each simulated user plays a sequence of borrower sessions: it draws a
user id from a population (so ids repeat across sessions and returning
borrowers have cached credit reports), checks its quota, applies for loans,
looks at them and repays them, with task weights from the config, and after
`session_tasks` tasks starts over as another borrower. One id for a Locust
user's whole life would apply for a loan every few seconds and trip lending's
cross-borrowing freeze within a minute; real borrowers come and go.
CrossBorrowerUser is the opposite on purpose: one id applying twice a second,
for drills of the risk control (its requests are named "... (cross-borrowing)"). A loan
application answered APPROVED, APPROVED_DEGRADED or PENDING_RECONCILIATION
is reported as acknowledged (harness.load.acks). An explicit, retryable
degraded answer with Retry-After is retried once that time has passed,
with the same request_id (the API is idempotent), as a later task: one
request per task, so stopping never waits on a sleeping borrower.

Settings (config `borrower`): population (1000), user_prefix ("user-"),
weights ({"quota": 4, "apply": 2, "status": 3, "repay": 1}), amount_min
(50), amount_max (500), max_retries (2), retry_after_cap_s (10), session_tasks (10).
Pacing defaults to Poisson arrivals, one task per second per user on average.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any, Callable

from locust.contrib.fasthttp import FastHttpUser

from harness.errors import UsageError
from harness.load.acks import ACKNOWLEDGED_CODES, acknowledge
from harness.load.borrower_rates import CROSS_USERS, TASKS_PER_S
from harness.load.lending_endpoints import APPLY, CROSS_APPLY, CROSS_QUOTA, QUOTA, REPAY, STATUS
from harness.load.pacing import poisson_pacing

RETRY_CODES = frozenset({"DEFERRED", "CREDIT_UNAVAILABLE", "PAYMENT_UNAVAILABLE", "OVERLOADED", "MAINTENANCE"})
DEFAULTS: dict[str, Any] = {
    "population": 1000, "user_prefix": "user-", "weights": {"quota": 4, "apply": 2, "status": 3, "repay": 1},
    "amount_min": 50, "amount_max": 500, "max_retries": 2, "retry_after_cap_s": 10.0, "session_tasks": 10,
}
SETTINGS: dict[str, Any] = dict(DEFAULTS)



def _answer(resp: Any) -> dict[str, Any]:
    """The JSON body of an answer, {} when there is none (a reset, a bare 500)."""
    if not getattr(resp, "status_code", 0):
        return {}
    try:
        data = json.loads(resp.content or b"")
    except (ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _retry_after(resp: Any) -> float | None:
    headers = getattr(resp, "headers", None)
    value = headers.get("Retry-After") if headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class BorrowerUser(FastHttpUser):
    wait_time = poisson_pacing(1.0 / TASKS_PER_S["BorrowerUser"])
    apply_name = APPLY
    quota_name = QUOTA

    def on_start(self) -> None:
        self.retries: list[tuple[float, Callable[[], None]]] = []
        self.acknowledged: set[str] = set()
        self._new_session()

    def _new_session(self) -> None:
        """Become another borrower of the population (pending retries keep their own ids)."""
        s = SETTINGS
        self.user_id = f"{s['user_prefix']}{random.randrange(int(s['population']))}"
        self.loans: dict[str, int | None] = {}  # loan id -> outstanding (None: not known yet)
        self.session_left = int(s["session_tasks"])

    def _session_task(self) -> None:
        """Count one task; start the next borrower's session when this one is used up."""
        self.session_left -= 1
        if self.session_left <= 0 < int(SETTINGS["session_tasks"]):
            self._new_session()

    # ------------------------------------------------------------ retries
    def _run_due_retry(self) -> bool:
        self._session_task()
        if self.retries and self.retries[0][0] <= time.time():
            _, again = self.retries.pop(0)
            again()
            return True
        return False

    def _maybe_retry(self, resp: Any, code: str | None, attempt: int, again: Callable[[int], None]) -> None:
        if code not in RETRY_CODES or attempt >= int(SETTINGS["max_retries"]):
            return
        delay = _retry_after(resp)
        if delay is None:
            return
        due = time.time() + min(delay, float(SETTINGS["retry_after_cap_s"]))
        self.retries.append((due, lambda: again(attempt + 1)))
        self.retries.sort(key=lambda r: r[0])

    # ------------------------------------------------------------ tasks
    def quota(self) -> None:
        if self._run_due_retry():
            return
        self.client.get(f"/v1/users/{self.user_id}/quota", name=self.quota_name)

    def apply(self) -> None:
        if self._run_due_retry():
            return
        amount = random.randint(int(SETTINGS["amount_min"]), int(SETTINGS["amount_max"]))
        self._apply(self.user_id, uuid.uuid4().hex, amount, 0)

    def _apply(self, user_id: str, request_id: str, amount: int, attempt: int) -> None:
        resp = self.client.post("/v1/loans", json={"request_id": request_id, "user_id": user_id,
                                                    "amount": amount}, name=self.apply_name)
        body = _answer(resp)
        code = body.get("code")
        if code in ACKNOWLEDGED_CODES:
            loan_id = body.get("loan_id")
            if isinstance(loan_id, str) and user_id == self.user_id:
                self.loans[loan_id] = amount if code != "PENDING_RECONCILIATION" else None
            if request_id not in self.acknowledged:
                self.acknowledged.add(request_id)
                acknowledge(request_id, loan_id if isinstance(loan_id, str) else None, code)
            return
        self._maybe_retry(resp, code, attempt, lambda n: self._apply(user_id, request_id, amount, n))

    def status(self) -> None:
        if self._run_due_retry():
            return
        if not self.loans:
            return self.quota()
        loan_id = random.choice(list(self.loans))
        body = _answer(self.client.get(f"/v1/loans/{loan_id}", name=STATUS))
        if body.get("code") == "LOAN_FOUND" and isinstance(body.get("outstanding"), int):
            self.loans[loan_id] = body["outstanding"] if body.get("state") == "DISBURSED" else None

    def repay(self) -> None:
        if self._run_due_retry():
            return
        owing = [(lid, out) for lid, out in self.loans.items() if out]
        if not owing:
            return self.quota()
        loan_id, outstanding = random.choice(owing)
        amount = random.randint(1, outstanding)
        self._repay(loan_id, uuid.uuid4().hex, amount, 0)

    def _repay(self, loan_id: str, request_id: str, amount: int, attempt: int) -> None:
        resp = self.client.post(f"/v1/loans/{loan_id}/repayments", json={"request_id": request_id, "amount": amount},
                                name=REPAY)
        body = _answer(resp)
        code = body.get("code")
        if code == "REPAID":
            left = body.get("outstanding")
            if loan_id in self.loans:  # not a retry finishing after the session moved on
                self.loans[loan_id] = left if isinstance(left, int) else None
            return
        self._maybe_retry(resp, code, attempt, lambda n: self._repay(loan_id, request_id, amount, n))

    tasks = [quota] * 4 + [apply] * 2 + [status] * 3 + [repay]


class CrossBorrowerUser(BorrowerUser):
    """A borrower who cross-borrows fast: one id for the user's whole life,
    applying about twice a second (lending freezes the quota after a few
    loans a minute). Its own request names keep it apart in the metrics."""

    wait_time = poisson_pacing(1.0 / TASKS_PER_S["CrossBorrowerUser"])
    fixed_count = CROSS_USERS  # with BorrowerUser: ten cross-borrowers, the other users ordinary borrowers
    apply_name = CROSS_APPLY
    quota_name = CROSS_QUOTA

    def _new_session(self) -> None:
        super()._new_session()
        self.user_id = f"cross-borrower-{uuid.uuid4().hex[:12]}"
        self.session_left = 0  # never switches

    def _session_task(self) -> None:
        pass


# Set after the class: in the class body Locust would add the parent's tasks to these.
CrossBorrowerUser.tasks = [BorrowerUser.apply] * 4 + [BorrowerUser.quota]


def configure(settings: dict[str, Any]) -> None:
    """Apply the config's `borrower` settings (before any user starts)."""
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise UsageError(f"load config borrower: unknown setting(s) {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(DEFAULTS))}")
    SETTINGS.clear()
    SETTINGS.update(DEFAULTS)
    SETTINGS.update(settings)
    weights = {**DEFAULTS["weights"], **(settings.get("weights") or {})}
    bad = sorted(set(weights) - set(DEFAULTS["weights"]))
    if bad or not all(isinstance(w, int) and w >= 0 for w in weights.values()) or not any(weights.values()):
        raise UsageError(f"load config borrower.weights: expected non-negative integers for "
                         f"quota, apply, status, repay, got {settings.get('weights')!r}")
    if int(SETTINGS["session_tasks"]) < 0:
        raise UsageError("load config borrower.session_tasks: expected >= 0 (0: one borrower per user for its life)")
    if int(SETTINGS["population"]) < 1 or int(SETTINGS["amount_min"]) < 1 \
            or int(SETTINGS["amount_max"]) < int(SETTINGS["amount_min"]):
        raise UsageError("load config borrower: population >= 1 and 1 <= amount_min <= amount_max required")
    u = BorrowerUser
    BorrowerUser.tasks = ([u.quota] * weights["quota"] + [u.apply] * weights["apply"]
                          + [u.status] * weights["status"] + [u.repay] * weights["repay"])
