"""A thin, typed face over the toxiproxy-python client.

The client keeps its server address in class attributes, so one process
talks to one fault proxy server at a time; the runner never needs more.
Calls are blocking (requests); the asyncio runner calls them in a thread.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from harness.errors import HarnessError, UsageError


@dataclass
class ProxyInfo:
    name: str
    listen: str
    upstream: str
    enabled: bool


def _error_text(exc: Exception) -> str:
    raw = exc.args[0] if exc.args else b""
    try:
        return json.loads(raw).get("error", str(raw))
    except (ValueError, TypeError, AttributeError):
        return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def _ok(response: Any, what: str) -> Any:
    """The client library raises for 400/404/409 only; anything else unexpected is ours to report."""
    if response.status_code >= 300:
        raise HarnessError(f"fault proxy could not {what}: HTTP {response.status_code} {_error_text(Exception(response.content))}")
    return response


class FaultProxyClient:
    """Proxies and toxics on one Toxiproxy-compatible server."""

    def __init__(self, url: str) -> None:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        if not parsed.hostname or not parsed.port:
            raise UsageError(f"fault proxy URL {url!r} must look like http://HOST:PORT")
        self.url = f"http://{parsed.hostname}:{parsed.port}"
        self._server = Toxiproxy()
        self._server.update_api_consumer(parsed.hostname, parsed.port)
        self._version: str | None = None
        self.lease: dict[str, Any] | None = None

    def use_leases(self, owner: str, ttl: float = 5.0) -> bool:
        """Lease every fault this client applies (built-in server only).

        A plain Toxiproxy knows no leases: there the watchdog ends the run's
        faults instead. Returns whether leases are in use.
        """
        if not self.is_builtin:
            return False
        self.lease = {"owner": owner, "ttl": ttl}
        return True

    def renew_leases(self) -> int:
        """The heartbeat: every lease of this owner runs for its ttl from now."""
        if not self.lease:
            return 0
        self._rebind()
        return int(APIConsumer.post(f"/leases/{self.lease['owner']}").json().get("renewed", 0))

    def _rebind(self) -> None:
        # The client library keeps the address globally; keep ours current.
        parsed = urlparse(self.url)
        APIConsumer.host, APIConsumer.port = parsed.hostname, parsed.port

    def version(self) -> str:
        """The server's version text: {"version": ...} since Toxiproxy 2.6, plain text before."""
        self._rebind()
        if self._version is None:
            raw = self._server.version()
            if raw is None:
                raise HarnessError(f"fault proxy at {self.url} is not answering")
            text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                text = str(parsed.get("version", text))
            self._version = text.strip()
        return self._version

    @property
    def is_builtin(self) -> bool:
        return "chaosdrill" in self.version()

    def create_proxy(self, name: str, upstream: str, listen: str = "127.0.0.1:0") -> ProxyInfo:
        self._rebind()
        try:
            existing = self._server.get_proxy(name)
            if existing is not None:
                existing.destroy()
            proxy = self._server.create(upstream=upstream, name=name, listen=listen, enabled=True)
        except ProxyExists as exc:
            raise HarnessError(f"fault proxy: proxy {name!r} already exists: {_error_text(exc)}") from None
        except Exception as exc:  # requests errors, 500 bind failures
            raise HarnessError(f"fault proxy: cannot create proxy {name!r} -> {upstream}: {exc}") from None
        return ProxyInfo(proxy.name, proxy.listen, proxy.upstream, proxy.enabled)

    def delete_proxy(self, name: str) -> None:
        self._rebind()
        proxy = self._server.get_proxy(name)
        if proxy is not None:
            proxy.destroy()

    def set_enabled(self, name: str, enabled: bool) -> None:
        # One POST, no look-up first: fault timing is measured from here.
        self._rebind()
        body: dict[str, Any] = {"enabled": enabled}
        if not enabled and self.lease:
            body["lease"] = self.lease
        try:
            _ok(APIConsumer.post(f"/proxies/{name}", json=body), f"set enabled={enabled} on proxy {name}")
        except NotFound:
            raise UsageError(f"fault proxy at {self.url} has no proxy {name!r}") from None

    def set_upstream(self, name: str, upstream: str) -> None:
        """Point a proxy at another address: Toxiproxy restarts its listener (its live connections
        close) and keeps its toxics and `enabled`, so a link that is down stays down."""
        self._rebind()
        try:
            _ok(APIConsumer.post(f"/proxies/{name}", json={"upstream": upstream}),
                f"point proxy {name} at {upstream}")
        except NotFound:
            raise UsageError(f"fault proxy at {self.url} has no proxy {name!r}") from None

    def add_toxic(
        self,
        proxy_name: str,
        toxic_type: str,
        *,
        name: str | None = None,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: dict[str, Any] | None = None,
    ) -> str:
        from harness.proxy.toxics import extension_toxics  # the toxic classes only when a toxic is added

        self._rebind()
        if toxic_type in extension_toxics() and not self.is_builtin:
            raise UsageError(
                f"toxic {toxic_type!r} is a chaosdrill extension; the fault proxy at {self.url} "
                f"({self.version()}) does not support it"
            )
        toxic_name = name or f"{toxic_type}_{stream}"
        body: dict[str, Any] = {"name": toxic_name, "type": toxic_type, "stream": stream, "toxicity": toxicity,
                                "attributes": attributes or {}}
        if self.lease:
            body["lease"] = self.lease  # the chaosdrill extension rides along; Toxiproxy ignores it
        try:
            # The call Proxy.add_toxic makes, without its proxy look-up: one round trip.
            _ok(APIConsumer.post(f"/proxies/{proxy_name}/toxics", json=body), f"add toxic {toxic_name} to {proxy_name}")
        except NotFound:
            raise UsageError(f"fault proxy at {self.url} has no proxy {proxy_name!r}") from None
        except (InvalidToxic, ProxyExists) as exc:
            raise UsageError(f"fault proxy refused toxic {toxic_type!r} on {proxy_name}: {_error_text(exc)}") from None
        return toxic_name

    def remove_toxic(self, proxy_name: str, toxic_name: str) -> None:
        self._rebind()
        proxy = self._server.get_proxy(proxy_name)
        if proxy is not None:
            try:
                proxy.destroy_toxic(toxic_name)
            except NotFound:
                pass

    def toxics(self, proxy_name: str) -> list[str]:
        self._rebind()
        proxy = self._server.get_proxy(proxy_name)
        return list(proxy.toxics()) if proxy is not None else []

    def proxies(self) -> dict[str, ProxyInfo]:
        self._rebind()
        return {
            name: ProxyInfo(p.name, p.listen, p.upstream, p.enabled) for name, p in self._server.proxies().items()
        }


def looks_like_toxiproxy_version(text: str) -> bool:
    """'2.12.0', '2.1.4', 'git-abc123', '2.12.0+chaosdrill.0.1.0': what a Toxiproxy-compatible /version says."""
    return bool(re.fullmatch(r"(v?\d+\.\d+(\.\d+)?|git-[0-9a-f]+)([-+][\w.-]+)?", text.strip()))
