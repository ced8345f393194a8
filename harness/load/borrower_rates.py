"""What the built-in borrower sends per user and second, as measured: the answer estimate's load.

Kept apart from harness.load.borrower (which imports Locust) so the CLI can
estimate, before a run, how many answers each window will judge
(harness/run/answers.py); the borrower takes its pacing and its
cross-borrower count from here, so the two cannot drift apart.

Measured on 10 gate runs of the 11 library drills (2026-12-07, quiet
2-core machine), as total answers / (users x seconds) per phase:

- BorrowerUser: 1.00 requests per user per second (0.98-1.01 per drill;
  0.80-0.97 the lowest single phase, short phases of few users and the
  slow-bureau phase where users wait on slow answers). One request per
  task, one task a second (Poisson). CONSERVATIVE takes 0.9 of a task's
  request: an estimate should rather warn once too often than miss a
  window one answer decides.
- CrossBorrowerUser: 1.95 requests per user per second (two tasks a
  second), 80 % of them applications.
- The ordinary borrower's request mix over all phases (faults included):
  quota 60.7 %, applications 21.7 %, loan status 13.3 %, repayments
  4.3 %; the figures below are those rounded down. Status and repayments
  fall back to a quota read while a borrower has no loan.
"""

from __future__ import annotations

from harness.load.lending_endpoints import APPLY, CROSS_APPLY, CROSS_QUOTA, QUOTA, REPAY, STATUS

TASKS_PER_S: dict[str, float] = {"BorrowerUser": 1.0, "CrossBorrowerUser": 2.0}
CROSS_USERS = 10  # CrossBorrowerUser.fixed_count
REQUESTS_PER_TASK = 1.0  # measured 1.00
CONSERVATIVE = 0.9  # of the measured rate, for estimates

MIX: dict[str, dict[str, float]] = {
    "BorrowerUser": {QUOTA: 0.60, APPLY: 0.21, STATUS: 0.13, REPAY: 0.04},
    "CrossBorrowerUser": {CROSS_APPLY: 0.8, CROSS_QUOTA: 0.2},
}


def users_by_class(users: float, classes: list[str] | None) -> dict[str, float]:
    """How `users` running users split over the built-in classes (Locust fills fixed counts first)."""
    names = classes or ["BorrowerUser"]
    cross = min(float(CROSS_USERS), users) if "CrossBorrowerUser" in names else 0.0
    ordinary = users - cross if "BorrowerUser" in names else 0.0
    return {"BorrowerUser": ordinary, "CrossBorrowerUser": cross}
