"""How lending answers: a code, a message, and Retry-After where a retry makes sense.

Every answer is JSON with a `code` (mock_services.codes.Code) and a
`message`; the HTTP status follows from the code, so a handler never picks
one. The few answers without a code (the generic failure) are what a
switched-off mechanism looks like, and live here so they read the same
everywhere.
"""

from __future__ import annotations

import math
from typing import Any

from mock_services.codes import RETRYABLE, Code
from mock_services.web import Response, json_response

STATUS = {
    Code.OK: 200, Code.QUOTA_OK: 200, Code.APPROVED: 201, Code.LOAN_FOUND: 200, Code.REPAID: 200,
    Code.QUOTA_DEGRADED: 200, Code.APPROVED_DEGRADED: 201, Code.PENDING_RECONCILIATION: 202,
    Code.DEFERRED: 503, Code.CREDIT_UNAVAILABLE: 503, Code.PAYMENT_UNAVAILABLE: 503, Code.OVERLOADED: 429,
    Code.MAINTENANCE: 503, Code.RISK_REJECTED: 403, Code.QUOTA_FROZEN: 403, Code.QUOTA_EXCEEDED: 422,
    Code.INVALID_REQUEST: 400, Code.NOT_FOUND: 404, Code.IDEMPOTENCY_CONFLICT: 409,
}


class BadRequest(Exception):
    pass


def answer(code: Code, message: str, retry_after: float | None = None, **fields: Any) -> Response:
    headers = {}
    if code in RETRYABLE:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after or 1)))
    return json_response(STATUS[code], {"code": code.value, "message": message, **fields}, headers)


def generic_failure() -> Response:
    """A refusal without code or reason: what --no-risk-reasons answers."""
    return json_response(403, {"message": "request failed"})


def field(body: Any, name: str, kind: type) -> Any:
    """One required field of a request body: a positive int, or a short non-empty string."""
    value = body.get(name) if isinstance(body, dict) else None
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise BadRequest(f"'{name}' must be a positive integer")
    elif not isinstance(value, str) or not value or len(value) > 128:
        raise BadRequest(f"'{name}' must be a non-empty string of at most 128 characters")
    return value


def without_code(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "code"}


def code_of(response: Response) -> str:
    """The `code` of an answer for metrics, without parsing JSON ("none" for bare errors)."""
    body = response.body
    if body.startswith(b'{"code":"'):
        end = body.find(b'"', 9)
        return body[9:end].decode()
    return "none"
