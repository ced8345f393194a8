"""The read-only web view: one self-contained page polling a JSON endpoint.

For the people watching a game day on another screen. It serves only GET
routes on 127.0.0.1 (nothing on the page can change the drill), and answers
from the live model's snapshot, so it shows exactly what the console shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from aiohttp import web

PAGE = Path(__file__).with_name("page.html")
HOST = "127.0.0.1"


class WebView:
    """`await start()` binds 127.0.0.1:port (0: any free port); `url` says where."""

    def __init__(self, snapshot: Callable[[], dict], port: int = 0, host: str = HOST) -> None:
        self.snapshot = snapshot
        self.port = port
        self.host = host
        self._runner: web.AppRunner | None = None
        self.url: str | None = None
        self._page = PAGE.read_bytes()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_get("/api/state", self._state)
        return app

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(body=self._page, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-store"})

    async def _state(self, request: web.Request) -> web.Response:
        return web.Response(text=json.dumps(self.snapshot(), separators=(",", ":")), content_type="application/json",
                            headers={"Cache-Control": "no-store"})

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        port = sockets[0].getsockname()[1] if sockets else self.port
        self.url = f"http://{self.host}:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
