"""The request names the built-in borrower reports, one per lending endpoint.

Kept apart from harness.load.borrower (which imports Locust) so scenario
code, judges and tests can name endpoints without loading gevent.
"""

QUOTA = "GET /v1/users/{id}/quota"
APPLY = "POST /v1/loans"
STATUS = "GET /v1/loans/{id}"
REPAY = "POST /v1/loans/{id}/repayments"
ALL = (QUOTA, APPLY, STATUS, REPAY)

# CrossBorrowerUser's own names, so its requests stay apart from ordinary borrowers' in the metrics
CROSS_QUOTA = f"{QUOTA} (cross-borrowing)"
CROSS_APPLY = f"{APPLY} (cross-borrowing)"
