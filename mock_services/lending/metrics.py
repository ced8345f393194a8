"""lending's Prometheus metrics, one registry per instance.

The metrics are declared in one place so their names, which the stack
files (scenarios/stacks/) sample into drill journals and docs/services.md
lists, are easy to check; the parts that own a value (admission control's
in-flight count, the maintenance window) bind their gauge to it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = reg = CollectorRegistry()
        self.responses = Counter("chaosdrill_lending_responses_total", "Answers by endpoint and code",
                                 ["endpoint", "code"], registry=reg)
        self.latency = Histogram("chaosdrill_lending_request_seconds", "Time to answer", ["endpoint"], registry=reg,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0))
        self.breaker_state = Gauge("chaosdrill_breaker_state", "Circuit breaker: 0 closed, 1 half-open, 2 open",
                                   ["dependency"], registry=reg)
        self.gateway_in_use = Gauge("chaosdrill_gateway_in_use", "1 for the gateway that paid last", ["gateway"],
                                    registry=reg)
        self.inflight = Gauge("chaosdrill_lending_inflight", "Requests in progress", registry=reg)
        self.pending_reconciliation = Gauge("chaosdrill_lending_pending_reconciliation",
                                            "Payments awaiting reconciliation", registry=reg)
        self.maintenance = Gauge("chaosdrill_lending_maintenance", "0 none, 1 scheduled, 2 active", registry=reg)
