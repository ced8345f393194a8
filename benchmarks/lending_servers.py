"""Helper for bench_lending.py --compare: lean vs aiohttp, server and client side.

    python benchmarks/lending_servers.py server lean|aiohttp      (prints "listening on http://127.0.0.1:PORT")
    python benchmarks/lending_servers.py client lean|aiohttp URL N (prints "CPU_US_PER_REQUEST <float>")

Both servers answer `GET /v1/ping` with the same small JSON body; both
clients make N keep-alive GETs with 16 in flight. The client figure is CPU
time of the client process per request, the cost lending pays per call.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvloop  # noqa: E402

from mock_services.client import HttpClient  # noqa: E402
from mock_services.web import Application, Request, Response, json_response, serve  # noqa: E402

PAYLOAD = {"code": "OK", "message": "pong", "score": 700}


async def lean_server(sock: socket.socket) -> None:
    app = Application()

    @app.route("GET", "/v1/ping")
    async def ping(request: Request) -> Response:
        return json_response(200, PAYLOAD)

    await serve(app, sock)


async def aiohttp_server(sock: socket.socket) -> None:
    from aiohttp import web

    async def ping(request: web.Request) -> web.Response:
        return web.json_response(PAYLOAD)

    app = web.Application()
    app.router.add_get("/v1/ping", ping)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()


async def run_server(kind: str) -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.setblocking(False)
    await (lean_server if kind == "lean" else aiohttp_server)(sock)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


async def run_client(kind: str, url: str, total: int, in_flight: int = 16) -> float:
    if kind == "lean":
        client = HttpClient(url, "bench")

        async def get() -> None:
            (await client.request("GET", "/v1/ping", timeout=5)).json()
    else:
        import aiohttp
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight))

        async def get() -> None:
            async with session.get(url + "/v1/ping", timeout=aiohttp.ClientTimeout(total=5)) as response:
                await response.json()

    async def worker(count: int) -> None:
        for _ in range(count):
            await get()

    await worker(50)  # warm-up: connections
    started = time.process_time()
    await asyncio.gather(*(worker(total // in_flight) for _ in range(in_flight)))
    cpu = time.process_time() - started
    if kind != "lean":
        await session.close()
    return cpu / (total // in_flight * in_flight) * 1e6


def main() -> None:
    role, kind = sys.argv[1], sys.argv[2]
    if role == "server":
        uvloop.run(run_server(kind))
    else:
        print(f"CPU_US_PER_REQUEST {uvloop.run(run_client(kind, sys.argv[3], int(sys.argv[4]))):.1f}", flush=True)


if __name__ == "__main__":
    main()
