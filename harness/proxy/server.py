"""Running the fault proxy server: as a process (CLI) or in a thread (tests, tools).

The process prints exactly one line once the API answers,
`chaosdrill proxy-server listening on http://HOST:PORT`, so a parent that
asked for port 0 learns the real port by reading stdout.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import signal
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from harness.errors import UsageError
from harness.proxy import errors
from harness.proxy.api import ToxiproxyApi
from harness.proxy.collection import ProxyCollection


@dataclass
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8474
    allow_non_loopback: bool = False
    config: Path | None = None


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def check_api_host(options: ServerOptions) -> None:
    try:
        infos = socket.getaddrinfo(options.host, options.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UsageError(f"--host {options.host}: cannot resolve it ({exc})") from None
    if not options.allow_non_loopback and not all(
        ipaddress.ip_address(info[4][0]).is_loopback for info in infos
    ):
        raise UsageError(
            f"--host {options.host} is not a loopback address; add --allow-non-loopback to serve on it"
        )


def load_config(path: Path) -> list[Any]:
    """A Toxiproxy config file: a JSON array of {name, listen, upstream, enabled}."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise UsageError(f"--config {path}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise UsageError(f"--config {path}: not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise UsageError(f"--config {path}: must be a JSON array of proxies")
    return data


class ProxyServer:
    """The API plus all proxies, on the running event loop."""

    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        self.collection = ProxyCollection(options.allow_non_loopback)
        self.api = ToxiproxyApi(self.collection)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        host = self.options.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    async def start(self, config: list[Any] | None = None) -> None:
        if config is not None:
            try:
                _, failure = await self.collection.populate(config)
            except errors.ApiError as exc:  # an entry the API would refuse (no name, no upstream)
                failure = exc
            if failure is not None:
                self.collection.close_all()
                raise UsageError(f"--config {self.options.config}: {failure.message}")
        self._runner = web.AppRunner(self.api.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise UsageError(
                f"proxy-server cannot listen on {self.options.host}:{self.options.port}: {reason.lower()}"
            ) from None
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self.collection.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def _serve(options: ServerOptions) -> None:
    config = load_config(options.config) if options.config else None
    server = ProxyServer(options)
    await server.start(config)
    print(f"chaosdrill proxy-server listening on {server.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def serve_forever(options: ServerOptions) -> int:
    """Run until SIGTERM/SIGINT; UsageError (exit 2) for a bad address, port in use or config."""
    check_api_host(options)
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(_serve(options))
    return 0


class ThreadedProxyServer:
    """The server on its own event loop thread, for in-process tests and tools."""

    def __init__(self, options: ServerOptions | None = None) -> None:
        self.options = options or ServerOptions(port=0)
        self._loop = new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="proxy-server", daemon=True)
        self.server = ProxyServer(self.options)

    def __enter__(self) -> "ThreadedProxyServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        check_api_host(self.options)
        self._thread.start()
        config = load_config(self.options.config) if self.options.config else None
        asyncio.run_coroutine_threadsafe(self.server.start(config), self._loop).result(timeout=10)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


__all__ = ["ProxyServer", "ServerOptions", "ThreadedProxyServer", "errors", "serve_forever"]
