"""The Toxiproxy v2 HTTP API (status codes, bodies and messages of 2.12).

Served by aiohttp on the same event loop as the proxied connections, so an
API change reaches live connections with no locking beyond one lock that
serialises changes, as Toxiproxy's mutexes do.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable

from aiohttp import web

from harness import __version__
from harness.proxy import errors
from harness.proxy.collection import ProxyCollection
from harness.proxy.go_json import decode_json, json_field, json_object
from harness.proxy.lease_keeper import LeaseKeeper, lease_update, parse_lease
from harness.proxy.request_id import RequestIds

# Build metadata keeps it semver-equal to the Toxiproxy release whose API it speaks.
VERSION = f"2.12.0+chaosdrill.{__version__}"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(data).encode() + b"\n", status=status, content_type="application/json"
    )


def _error(exc: errors.ApiError, extra: dict[str, Any] | None = None) -> web.Response:
    body = exc.to_json()
    if extra:
        body.update(extra)
    return _json(body, exc.status)


@web.middleware
async def _errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.headers.get("User-Agent", "").startswith("Mozilla/"):
        return web.Response(status=403, text="User agent not allowed\n")  # as Toxiproxy, against CSRF
    try:
        return await handler(request)
    except errors.ApiError as exc:
        return _error(exc)


class ToxiproxyApi:
    """Routes of the API bound to one ProxyCollection."""

    def __init__(self, collection: ProxyCollection) -> None:
        self.collection = collection
        self.lock = asyncio.Lock()
        self.leases = LeaseKeeper(collection, self.lock, _json)
        self.request_ids = RequestIds()

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_errors_middleware], client_max_size=16 * 1024 * 1024)
        app.on_response_prepare.append(self.request_ids.tag)
        r = app.router
        r.add_post("/reset", self.reset)
        r.add_get("/proxies", self.proxy_index)
        r.add_post("/proxies", self.proxy_create)
        r.add_post("/populate", self.populate)
        r.add_get("/proxies/{proxy}", self.proxy_show)
        r.add_post("/proxies/{proxy}", self.proxy_update)
        r.add_patch("/proxies/{proxy}", self.proxy_update)
        r.add_delete("/proxies/{proxy}", self.proxy_delete)
        r.add_get("/proxies/{proxy}/toxics", self.toxic_index)
        r.add_post("/proxies/{proxy}/toxics", self.toxic_create)
        r.add_get("/proxies/{proxy}/toxics/{toxic}", self.toxic_show)
        r.add_post("/proxies/{proxy}/toxics/{toxic}", self.toxic_update)
        r.add_patch("/proxies/{proxy}/toxics/{toxic}", self.toxic_update)
        r.add_delete("/proxies/{proxy}/toxics/{toxic}", self.toxic_delete)
        r.add_get("/version", self.version)
        self.leases.add_routes(app)
        return app

    # ---- proxies ----------------------------------------------------------

    async def proxy_index(self, request: web.Request) -> web.Response:
        proxies = self.collection.proxies
        return _json({name: proxies[name].to_json() for name in sorted(proxies)})

    async def proxy_create(self, request: web.Request) -> web.Response:
        data = decode_json(await request.read())
        lease = parse_lease(data) if isinstance(data, dict) else None
        async with self.lock:
            proxy = await self.collection.create(data)
            if not proxy.enabled:
                proxy.lease = lease
        return _json(proxy.to_json(), 201)

    async def populate(self, request: web.Request) -> web.Response:
        """Every answer, errors included, lists the proxies made so far (`null` for none, as Go marshals it)."""
        proxies: list = []
        try:
            data = decode_json(await request.read())
            async with self.lock:
                proxies, failure = await self.collection.populate(data)
        except errors.ApiError as exc:
            failure = exc
        listed = [p.to_json() for p in proxies] or None
        if failure is not None:
            return _error(failure, {"proxies": listed})
        return _json({"proxies": listed}, 201)

    async def proxy_show(self, request: web.Request) -> web.Response:
        return _json(self.collection.get(request.match_info["proxy"]).to_json())

    async def proxy_update(self, request: web.Request) -> web.Response:
        async with self.lock:
            proxy = self.collection.get(request.match_info["proxy"])
            obj = json_object(decode_json(await request.read()), "proxy")
            listen = json_field(obj, "listen", str, proxy.listen)
            upstream = json_field(obj, "upstream", str, proxy.upstream)
            enabled = json_field(obj, "enabled", bool, proxy.enabled)
            lease = lease_update(obj, proxy.lease)
            await proxy.update(listen, upstream, enabled)
            proxy.lease = None if proxy.enabled else lease
        return _json(proxy.to_json())

    async def proxy_delete(self, request: web.Request) -> web.Response:
        async with self.lock:
            self.collection.delete(request.match_info["proxy"])
        return web.Response(status=204)

    async def reset(self, request: web.Request) -> web.Response:
        async with self.lock:
            await self.collection.reset()
        return web.Response(status=204)

    # ---- toxics -------------------------------------------------------------

    async def toxic_index(self, request: web.Request) -> web.Response:
        proxy = self.collection.get(request.match_info["proxy"])
        return _json([installed.to_json() for installed in proxy.toxics.in_order()])

    async def toxic_create(self, request: web.Request) -> web.Response:
        async with self.lock:
            proxy = self.collection.get(request.match_info["proxy"])
            obj = json_object(decode_json(await request.read()), "toxic")
            installed = proxy.toxics.parse_new(obj)
            installed.lease = parse_lease(obj)
            proxy.add_toxic(installed)
        return _json(installed.to_json())

    async def toxic_show(self, request: web.Request) -> web.Response:
        proxy = self.collection.get(request.match_info["proxy"])
        return _json(proxy.toxics.get(request.match_info["toxic"]).to_json())

    async def toxic_update(self, request: web.Request) -> web.Response:
        async with self.lock:
            proxy = self.collection.get(request.match_info["proxy"])
            installed = proxy.toxics.get(request.match_info["toxic"])
            obj = json_object(decode_json(await request.read()), "toxic")
            lease = lease_update(obj, installed.lease)
            proxy.toxics.apply_update(installed, obj)
            installed.lease = lease
            proxy.toxic_updated(installed)
        return _json(installed.to_json())

    async def toxic_delete(self, request: web.Request) -> web.Response:
        async with self.lock:
            proxy = self.collection.get(request.match_info["proxy"])
            installed = proxy.toxics.get(request.match_info["toxic"])
            proxy.remove_toxic(installed)
        return web.Response(status=204)

    async def version(self, request: web.Request) -> web.Response:
        return web.Response(
            body=json.dumps({"version": VERSION}).encode() + b"\n",
            headers={"Content-Type": "application/json;charset=utf-8"},
        )
