"""lending's upstreams: the bureau replicas and the two payment gateways.

One HTTP client and one circuit breaker per upstream, shared by the credit
reports and the payments built on them, so a breaker opened by one request
guards every other. The start-up check is here too: an upstream that does
not accept connections stops the start with one clear line.
"""

from __future__ import annotations

import asyncio
import time

from mock_services.client import HttpClient
from mock_services.lending.config import Settings
from mock_services.lending.credit import CreditReports
from mock_services.lending.metrics import Metrics
from mock_services.lending.payments import Gateway, Payments
from mock_services.lending.resilience import Breaker
from mock_services.runtime import ConfigError


class Upstreams:
    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        letters = "abcdefghijklmnopqrstuvwxyz"
        bureau_clients = [HttpClient(url, f"credit-bureau-{letters[i]}") for i, url in enumerate(settings.bureau_urls)]
        gateway_clients = [HttpClient(settings.gateway_primary_url, "payment-gateway-primary"),
                           HttpClient(settings.gateway_backup_url, "payment-gateway-backup")]
        self.clients = bureau_clients + gateway_clients
        self.breakers = {c.name: Breaker(c.name, settings.breaker_failures, settings.breaker_reset,
                                         settings.on("breaker"), metrics.breaker_state) for c in self.clients}
        self.credit = CreditReports(settings, self.breakers, bureau_clients)
        self.payments = Payments(settings, [Gateway("primary", gateway_clients[0], self.breakers[gateway_clients[0].name]),
                                            Gateway("backup", gateway_clients[1], self.breakers[gateway_clients[1].name])],
                                 metrics.gateway_in_use)

    async def check(self, wait: float = 3.0) -> None:
        """Fail at start (one clear line) when an upstream does not accept connections."""
        for client in self.clients:
            until = time.monotonic() + wait
            while True:
                try:
                    _, writer = await asyncio.wait_for(asyncio.open_connection(client.host, client.port), 1.0)
                    writer.close()
                    break
                except (OSError, asyncio.TimeoutError) as exc:
                    if time.monotonic() >= until:
                        raise ConfigError(f"upstream {client.name} at {client.base_url} is unreachable "
                                          f"({exc.__class__.__name__}: {exc}); start it first or pass --no-upstream-check") from None
                    await asyncio.sleep(0.1)

    def close(self) -> None:
        for client in self.clients:
            client.close()
