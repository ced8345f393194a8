"""Every `code` the lending service answers with, and what class it is.

This is the one enum shared by the lending service (which answers with these)
and the built-in lending stack file (scenarios/stacks/lending.yaml), whose
classification rules map each code to an outcome class; a test keeps the two
in step. Classes:

- success: the request did what was asked.
- degraded: an explicit, planned degraded answer (a cached report, a
  deferral, load shedding, maintenance); it carries a human message and,
  where a retry makes sense, a Retry-After header.
- rejected: an explicit business refusal with a reason (risk, a frozen quota,
  bad input).

Anything without a code (a bare 500, a reset, a client-side timeout) is
ungraceful; that class is decided by the harness, never by the service.
"""

from __future__ import annotations

from enum import Enum


class OutcomeClass(str, Enum):
    SUCCESS = "success"
    DEGRADED = "degraded"
    REJECTED = "rejected"


class Code(str, Enum):
    # success
    OK = "OK"  # status reads, admin actions
    QUOTA_OK = "QUOTA_OK"
    APPROVED = "APPROVED"
    LOAN_FOUND = "LOAN_FOUND"
    REPAID = "REPAID"
    # degraded, explicit
    QUOTA_DEGRADED = "QUOTA_DEGRADED"  # quota from a cached credit report
    APPROVED_DEGRADED = "APPROVED_DEGRADED"  # approved on a cached credit report
    PENDING_RECONCILIATION = "PENDING_RECONCILIATION"  # payment outcome unknown, never paid twice
    DEFERRED = "DEFERRED"  # could not decide within the deadline: retry later
    CREDIT_UNAVAILABLE = "CREDIT_UNAVAILABLE"
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    OVERLOADED = "OVERLOADED"
    MAINTENANCE = "MAINTENANCE"
    # rejected, explicit
    RISK_REJECTED = "RISK_REJECTED"
    QUOTA_FROZEN = "QUOTA_FROZEN"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    INVALID_REQUEST = "INVALID_REQUEST"
    NOT_FOUND = "NOT_FOUND"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"


CODE_CLASS: dict[Code, OutcomeClass] = {
    Code.OK: OutcomeClass.SUCCESS,
    Code.QUOTA_OK: OutcomeClass.SUCCESS,
    Code.APPROVED: OutcomeClass.SUCCESS,
    Code.LOAN_FOUND: OutcomeClass.SUCCESS,
    Code.REPAID: OutcomeClass.SUCCESS,
    Code.QUOTA_DEGRADED: OutcomeClass.DEGRADED,
    Code.APPROVED_DEGRADED: OutcomeClass.DEGRADED,
    Code.PENDING_RECONCILIATION: OutcomeClass.DEGRADED,
    Code.DEFERRED: OutcomeClass.DEGRADED,
    Code.CREDIT_UNAVAILABLE: OutcomeClass.DEGRADED,
    Code.PAYMENT_UNAVAILABLE: OutcomeClass.DEGRADED,
    Code.OVERLOADED: OutcomeClass.DEGRADED,
    Code.MAINTENANCE: OutcomeClass.DEGRADED,
    Code.RISK_REJECTED: OutcomeClass.REJECTED,
    Code.QUOTA_FROZEN: OutcomeClass.REJECTED,
    Code.QUOTA_EXCEEDED: OutcomeClass.REJECTED,
    Code.INVALID_REQUEST: OutcomeClass.REJECTED,
    Code.NOT_FOUND: OutcomeClass.REJECTED,
    Code.IDEMPOTENCY_CONFLICT: OutcomeClass.REJECTED,
}

# Degraded answers after which a retry makes sense carry Retry-After.
RETRYABLE: frozenset[Code] = frozenset(
    {
        Code.PENDING_RECONCILIATION,
        Code.DEFERRED,
        Code.CREDIT_UNAVAILABLE,
        Code.PAYMENT_UNAVAILABLE,
        Code.OVERLOADED,
        Code.MAINTENANCE,
    }
)
