"""A small TCP relay for breaking a dependency link for real in tests.

It sits between lending and one upstream and can delay every chunk
(slowness), hold requests forever (a black hole), or let requests through
but lose the answers (the upstream acted, the caller never learns): the
cases where a caller cannot know what happened.
"""

from __future__ import annotations

import asyncio
import re
import threading
from concurrent.futures import Future


MOVES_MONEY = re.compile(rb"POST /v1/(disbursements|collections) ")


class Relay:
    """Listens on 127.0.0.1:<port>, forwards to 127.0.0.1:<upstream_port>.

    mode: "pass", "delay" (each request chunk waits `delay` seconds), "blackhole"
    (accept, read, never forward or answer), "lose_responses" (forward the
    request, drop the answer and reset the caller's connection),
    "lose_post_responses" (the same, only for requests that move money: a payment
    POST, not a status check or a void),
    "hold_payments" (requests that move money wait in the relay until `release()`,
    then land, however long their caller has been gone; anything else passes).
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.delay = 0.0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._released: asyncio.Event | None = None
        self.held = 0  # payment requests held so far

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Relay":
        self._thread.start()
        future: Future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(5)
        return self

    async def _start(self) -> None:
        self._released = asyncio.Event()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def set(self, mode: str, delay: float = 0.0) -> None:
        self.mode = mode
        self.delay = delay

    def release(self) -> None:
        """Let every held payment request land now."""
        assert self._released is not None
        self._loop.call_soon_threadsafe(self._released.set)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        last_request = {"post": False}

        async def client_to_upstream() -> None:
            while data := await reader.read(65536):
                if self.mode == "blackhole":
                    continue
                if self.mode == "delay":
                    await asyncio.sleep(self.delay)
                if self.mode == "hold_payments" and MOVES_MONEY.match(data):
                    self.held += 1
                    assert self._released is not None
                    await self._released.wait()
                last_request["post"] = bool(MOVES_MONEY.match(data))
                up_writer.write(data)
            up_writer.close()

        async def upstream_to_client() -> None:
            while data := await up_reader.read(65536):
                if self.mode == "lose_responses" or (self.mode == "lose_post_responses" and last_request["post"]):
                    writer.transport.abort()
                    return
                writer.write(data)
            writer.close()

        try:
            await asyncio.gather(client_to_upstream(), upstream_to_client())
        except (ConnectionError, OSError):
            pass
        finally:
            for w in (writer, up_writer):
                w.transport.abort()
                self._writers.discard(w)

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for w in list(self._writers):
                w.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
