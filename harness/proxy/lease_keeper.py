"""Fault leases: toxics and disabled proxies that end by themselves.

A chaos run that dies must not leave its faults behind. A toxic (or a
proxy disable) may carry `"lease": {"owner": "<run id>", "ttl": <seconds>}`;
the owner renews all its leases with `POST /leases/{owner}` (a heartbeat),
and when a lease runs out the server removes the toxic or re-enables the
proxy itself. Plain Toxiproxy clients never send a lease, never see the
field, and get Toxiproxy's behaviour (no expiry).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any, Callable, Iterator

from aiohttp import web

from harness.proxy import errors
from harness.proxy.collection import ProxyCollection
from harness.proxy.go_json import decode_json, json_get, json_has, json_object
from harness.proxy.lease import Lease
from harness.proxy.proxy import Proxy
from harness.proxy.toxic_chain import InstalledToxic

MAX_TTL = 24 * 3600.0
SWEEP_SECONDS = 0.1


def _ttl(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TTL:
        raise errors.bad_body(f"{where} ttl must be a number of seconds in (0, {MAX_TTL:g}]")
    return float(value)


def parse_lease(obj: dict[str, Any]) -> Lease | None:
    """The optional `lease` of a toxic or proxy body; 400 when malformed."""
    raw = json_get(obj, "lease")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise errors.bad_body("lease must be an object {owner, ttl}")
    owner = raw.get("owner")
    if not isinstance(owner, str) or not owner:
        raise errors.bad_body("lease owner must be a non-empty string")
    ttl = _ttl(raw.get("ttl"), "lease")
    return Lease(owner, ttl, time.monotonic() + ttl)




def lease_update(obj: dict[str, Any], current: Lease | None) -> Lease | None:
    """On an update: a given lease replaces the current one, `null` removes it, none keeps it."""
    return parse_lease(obj) if json_has(obj, "lease") else current


class LeaseKeeper:
    """Lists, renews and ends leases, and ends the expired ones by itself."""

    def __init__(
        self,
        collection: ProxyCollection,
        lock: asyncio.Lock,
        respond: Callable[[Any, int], web.Response],
    ) -> None:
        self.collection = collection
        self.lock = lock
        self._respond = respond
        self._sweeper: asyncio.Task[None] | None = None

    def leased(self, owner: str | None = None) -> Iterator[tuple[Proxy, InstalledToxic | None, Lease]]:
        for proxy in list(self.collection.proxies.values()):
            if proxy.lease is not None and owner in (None, proxy.lease.owner):
                yield proxy, None, proxy.lease
            for installed in proxy.toxics.in_order():
                if installed.lease is not None and owner in (None, installed.lease.owner):
                    yield proxy, installed, installed.lease

    def describe(self, owner: str | None = None) -> list[dict[str, Any]]:
        return [
            {**lease.to_json(), "proxy": proxy.name, "toxic": installed.name if installed else None}
            for proxy, installed, lease in self.leased(owner)
        ]

    # ---- routes -------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/leases", self.list_leases)
        app.router.add_post("/leases/{owner}", self.renew)
        app.router.add_delete("/leases/{owner}", self.end_owner)
        app.on_startup.append(self._start_sweeper)
        app.on_cleanup.append(self._stop_sweeper)

    async def list_leases(self, request: web.Request) -> web.Response:
        return self._respond({"leases": self.describe()}, 200)

    async def renew(self, request: web.Request) -> web.Response:
        """The owner's heartbeat: every lease it holds runs for its ttl (or the given one) from now."""
        owner = request.match_info["owner"]
        body = await request.read()
        ttl = None
        if body.strip():
            obj = json_object(decode_json(body), "renewal")
            if obj.get("ttl") is not None:
                ttl = _ttl(obj["ttl"], "renewal")
        async with self.lock:
            leases = list(self.leased(owner))
            for _, _, lease in leases:
                lease.renew(ttl)
        return self._respond({"owner": owner, "renewed": len(leases), "leases": self.describe(owner)}, 200)

    async def end_owner(self, request: web.Request) -> web.Response:
        """End every fault the owner holds now (its teardown, or a cleanup for it)."""
        owner = request.match_info["owner"]
        async with self.lock:
            ended = [await self._end(proxy, installed) for proxy, installed, _ in list(self.leased(owner))]
        return self._respond({"owner": owner, "ended": sum(ended)}, 200)

    # ---- expiry ---------------------------------------------------------------

    async def _end(self, proxy: Proxy, installed: InstalledToxic | None) -> bool:
        if installed is not None:
            if proxy.toxics.find(installed.name) is installed:
                proxy.remove_toxic(installed)
            return True
        try:
            await proxy.start()
        except errors.ApiError as exc:  # the port was taken meanwhile: try again on the next sweep
            print(f"chaosdrill proxy-server: cannot re-enable {proxy.name}: {exc.message}", file=sys.stderr)
            return False
        return True

    async def sweep(self) -> None:
        now = time.monotonic()
        async with self.lock:
            for proxy, installed, lease in list(self.leased()):
                if lease.expires <= now:
                    what = f"toxic {installed.name} of" if installed else "disable of"
                    print(
                        f"chaosdrill proxy-server: lease of {lease.owner} expired: ended {what} proxy {proxy.name}",
                        file=sys.stderr,
                        flush=True,
                    )
                    await self._end(proxy, installed)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.sweep()
            except Exception as exc:  # pragma: no cover - never let the sweeper die
                print(f"chaosdrill proxy-server: lease sweep failed: {exc!r}", file=sys.stderr)

    async def _start_sweeper(self, app: web.Application) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def _stop_sweeper(self, app: web.Application) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
