"""All proxies of a server, with Toxiproxy's create / populate / reset rules."""

from __future__ import annotations

from typing import Any

from harness.proxy import errors
from harness.proxy.go_json import json_field, json_object
from harness.proxy.proxy import Proxy


class ProxyCollection:
    def __init__(self, allow_non_loopback: bool = False) -> None:
        self.allow_non_loopback = allow_non_loopback
        self.proxies: dict[str, Proxy] = {}

    def get(self, name: str) -> Proxy:
        proxy = self.proxies.get(name)
        if proxy is None:
            raise errors.PROXY_NOT_FOUND
        return proxy

    def new_proxy(self, name: str, listen: str, upstream: str) -> Proxy:
        return Proxy(name, listen, upstream, self.allow_non_loopback)

    async def create(self, data: Any) -> Proxy:
        """POST /proxies: 201 with the proxy, or missing field / exists / bind errors."""
        obj = json_object(data, "proxy")
        name = json_field(obj, "name", str, "")
        upstream = json_field(obj, "upstream", str, "")
        listen = json_field(obj, "listen", str, "")
        enabled = json_field(obj, "enabled", bool, True)
        if not name:
            raise errors.MISSING_FIELD.joined("name")
        if not upstream:
            raise errors.MISSING_FIELD.joined("upstream")
        if name in self.proxies:
            raise errors.PROXY_ALREADY_EXISTS
        proxy = self.new_proxy(name, listen, upstream)
        if enabled:
            await proxy.start()
        self.proxies[name] = proxy
        return proxy

    async def populate(self, data: Any) -> tuple[list[Proxy], errors.ApiError | None]:
        """POST /populate: create or replace many; keeps identical proxies (and their toxics)."""
        if data is None:
            data = []  # Go decodes null into the empty list
        if not isinstance(data, list):
            raise errors.bad_body("populate expects a JSON array of proxies")
        entries = []
        for index, item in enumerate(data, start=1):
            obj = json_object(item, f"proxy {index}")
            name = json_field(obj, "name", str, "")
            upstream = json_field(obj, "upstream", str, "")
            if not name:
                raise errors.MISSING_FIELD.joined(f"name at proxy {index}")
            if not upstream:
                raise errors.MISSING_FIELD.joined(f"upstream at proxy {index}")
            entries.append((name, json_field(obj, "listen", str, ""), upstream, json_field(obj, "enabled", bool, True)))
        done: list[Proxy] = []
        for name, listen, upstream, enabled in entries:
            existing = self.proxies.get(name)
            try:
                if existing is not None:
                    if not existing.differs(listen, upstream):
                        done.append(existing)
                        continue
                    existing.stop()
                proxy = self.new_proxy(name, listen, upstream)
                if enabled:
                    await proxy.start()
            except errors.ApiError as exc:
                return done, exc
            self.proxies[name] = proxy
            done.append(proxy)
        return done, None

    def delete(self, name: str) -> None:
        proxy = self.get(name)
        proxy.stop()
        del self.proxies[name]

    async def reset(self) -> None:
        """POST /reset: enable every proxy and remove every toxic."""
        for proxy in list(self.proxies.values()):
            await proxy.start()
            proxy.reset_toxics()

    def close_all(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()
