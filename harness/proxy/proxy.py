"""One proxy: a listener, its live connections and its toxics (Toxiproxy's Proxy).

Every change made through the API reaches live connections at once: toxics
are added to, updated in and removed from their pipelines, and disabling a
proxy closes its listener and every connection it carries.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from harness.proxy import errors
from harness.proxy.addresses import join_host_port, normalise_listen, resolve_listen, upstream_address
from harness.proxy.connection import Connection
from harness.proxy.lease import Lease
from harness.proxy.toxic_chain import ToxicChain, InstalledToxic


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str, allow_non_loopback: bool = False) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.toxics = ToxicChain()
        self.connections: set[Connection] = set()
        self.lease: Lease | None = None  # chaosdrill extension: a leased disable ends by itself
        self._allow_non_loopback = allow_non_loopback
        self._server: asyncio.base_events.Server | None = None
        self._upstream_parsed: tuple[str, int] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [installed.to_json() for installed in self.toxics.in_order()],
        }
        if self.lease is not None:
            data["lease"] = self.lease.to_json()
        return data

    def upstream_address(self) -> tuple[str, int]:
        if self._upstream_parsed is None:
            self._upstream_parsed = upstream_address(self.upstream)
        return self._upstream_parsed

    # ---- listener -------------------------------------------------------

    async def start(self) -> None:
        """Bind and accept; a bind failure is a 500 carrying the system's message."""
        if self.enabled:
            return
        host, port = resolve_listen(self.listen, self._allow_non_loopback)
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: Connection(self).client, host, port, reuse_address=True, backlog=1024
            )
        except OSError as exc:
            reason = (os.strerror(exc.errno) if exc.errno else str(exc)).lower()
            raise errors.internal(f"listen tcp {join_host_port(host, port)}: bind: {reason}") from None
        bound = self._server.sockets[0].getsockname()
        self.listen = join_host_port(bound[0], bound[1])
        self.enabled = True
        self.lease = None  # a leased disable ends when the proxy is enabled, however that happens

    def stop(self) -> None:
        """Close the listener and every live connection (a 'down' fault)."""
        if not self.enabled:
            return
        self.enabled = False
        if self._server is not None:
            self._server.close()
            self._server = None
        for connection in list(self.connections):
            connection.close()

    def differs(self, listen: str, upstream: str) -> bool:
        try:
            wanted = normalise_listen(listen)
        except ValueError as exc:
            raise errors.internal(str(exc)) from None
        return wanted != self.listen or upstream != self.upstream

    async def update(self, listen: str, upstream: str, enabled: bool) -> None:
        """Toxiproxy's Proxy.Update: restart on a new address, then apply `enabled`."""
        if self.differs(listen, upstream):
            self.stop()
            self.listen = listen
            self.upstream = upstream
            self._upstream_parsed = None
        if enabled != self.enabled:
            if enabled:
                await self.start()
            else:
                self.stop()

    # ---- toxics on live connections -------------------------------------

    def live_connections(self) -> list[Connection]:
        return [c for c in self.connections if c.ready and not c.closed]

    def add_toxic(self, installed: InstalledToxic) -> None:
        self.toxics.add(installed)
        for connection in self.live_connections():
            connection.link(installed.direction).add_toxic(installed)

    def toxic_updated(self, installed: InstalledToxic) -> None:
        for connection in self.live_connections():
            connection.link(installed.direction).update_toxic(installed)

    def remove_toxic(self, installed: InstalledToxic) -> None:
        self.toxics.remove(installed)
        for connection in self.live_connections():
            connection.link(installed.direction).remove_toxic(installed)

    def reset_toxics(self) -> None:
        for installed in self.toxics.in_order():
            self.remove_toxic(installed)
