"""mock_services.client under uvloop: a pooled keep-alive connection the peer
closed before lending noticed (the credit-bureau replica was SIGKILLed) makes
transport.write raise RuntimeError. That must be a DependencyError that never
left (sent=False: safe to retry or fail over), not a bare 500 from lending."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from mock_services.client import DependencyError, HttpClient


async def _closed_pooled_connection_then_request() -> DependencyError:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    client = HttpClient(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", "credit-bureau-a")
    try:
        assert (await client.request("GET", "/v1/reports/u1", timeout=2)).status == 200
        pooled = client._idle[-1]
        pooled.transport.close()
        await asyncio.sleep(0)  # the handle is closed now ...
        pooled.closed = False   # ... but connection_lost has not reached the protocol yet (the race)
        with pytest.raises(DependencyError) as caught:
            await client.request("GET", "/v1/reports/u1", timeout=2)
        return caught.value
    finally:
        client.close()
        server.close()
        await server.wait_closed()


def test_a_write_on_a_connection_closed_underneath_is_a_dependency_error_not_sent() -> None:
    error = uvloop.run(_closed_pooled_connection_then_request())
    assert error.sent is False and error.kind == "reset"
