"""Where a locustfile reports a loan acknowledged to a client.

The built-in borrower calls `acknowledge` for every APPROVED,
APPROVED_DEGRADED or PENDING_RECONCILIATION answer to a loan application; a
user-given locustfile may import and call it the same way. The load process
installs its collector here, so the records reach the acknowledgements file
(through the master in distributed mode).
"""

from __future__ import annotations

from typing import Protocol

ACKNOWLEDGED_CODES = frozenset({"APPROVED", "APPROVED_DEGRADED", "PENDING_RECONCILIATION"})


class _Sink(Protocol):
    def acknowledge(self, request_id: str, loan_id: str | None, code: str) -> None: ...


_sink: _Sink | None = None


def install(sink: _Sink | None) -> None:
    global _sink
    _sink = sink


def acknowledge(request_id: str, loan_id: str | None, code: str) -> None:
    if _sink is not None:
        _sink.acknowledge(request_id, loan_id, code)
