"""One proxied TCP connection: two sockets and the two directions between them.

The fast path: while a direction has no toxics, `data_received` hands the
bytes straight to the peer transport's `write` (uvloop sends them at once,
without another copy when the socket can take them), and each side's
`pause_writing`/`resume_writing` pauses/resumes reading on the other side, so
memory stays bounded without any queue. When a toxic is added the direction
is re-routed into a toxic pipeline (pipeline.ToxicLink) and back when the last
toxic goes, on live connections.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Callable, Protocol

from harness.proxy.pipeline import ToxicLink
from harness.proxy.toxic_chain import ToxicChain

_LINGER_RESET = struct.pack("ii", 1, 0)


class Listener(Protocol):
    """What a connection needs of the proxy that accepted it (proxy.Proxy)."""

    connections: set["Connection"]
    toxics: ToxicChain

    def upstream_address(self) -> tuple[str, int]: ...


class Side(asyncio.Protocol):
    """The protocol of one of the two sockets of a connection."""

    def __init__(self, connection: "Connection") -> None:
        self.connection = connection
        self.transport: asyncio.Transport | None = None
        self.peer: Side  # set by Connection
        self.out_link: ToxicLink  # the direction this socket is the source of
        self._forward: Callable[[bytes], object] = self._hold_early
        self._early: list[bytes] = []  # read before the upstream socket was connected
        self._early_eof = False
        self._early_lost = False
        self._pauses: set[str] = set()
        self.lost = False

    # ---- asyncio callbacks -----------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connection.side_made(self)

    def data_received(self, data: bytes) -> None:
        self._forward(data)

    def eof_received(self) -> bool:
        if not self.connection.ready:
            self._early_eof = True
        else:
            self.out_link.source_ended()
        return True  # keep the socket open for the other direction (half close)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.connection.ready and self is self.connection.upstream:
            self._early_lost = True  # a server that spoke and hung up at once: pass it on when wired
            return
        self.connection.side_lost(self)

    def pause_writing(self) -> None:
        self.peer.pause("peer")

    def resume_writing(self) -> None:
        self.peer.resume("peer")

    # ---- used by the connection and the pipeline ------------------------

    def _drop(self, data: bytes) -> None:
        pass

    def _hold_early(self, data: bytes) -> None:
        self._early.append(data)

    def flush_early(self) -> None:
        """Pass on what arrived (or ended) while the connection was being wired."""
        early, self._early = self._early, []
        for data in early:
            self._forward(data)
        if self._early_eof:
            self.out_link.source_ended()
        if self._early_lost:
            self.connection.side_lost(self)

    def route_direct(self, link: ToxicLink) -> None:
        peer_transport = self.peer.transport
        self._route(peer_transport.write if peer_transport is not None else self._drop)

    def route_to_pipeline(self, link: ToxicLink) -> None:
        self._route(link.feed)

    def _route(self, forward: Callable[[bytes], object]) -> None:
        """Send what this socket reads to `forward`.

        The bound method itself becomes this protocol's `data_received` and
        the protocol is registered again, because the event loop keeps a
        reference to `data_received` (uvloop does): bytes then go from the
        socket to the peer's `write` with no Python frame in between.
        """
        self._forward = forward
        self.data_received = forward  # type: ignore[method-assign]
        if self.transport is not None and not self.transport.is_closing():
            self.transport.set_protocol(self)

    def pause(self, reason: str) -> None:
        if not self._pauses and self.transport is not None and not self.lost:
            self.transport.pause_reading()
        self._pauses.add(reason)

    def resume(self, reason: str) -> None:
        if reason not in self._pauses:
            return
        self._pauses.discard(reason)
        if not self._pauses and self.transport is not None and not self.lost:
            self.transport.resume_reading()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.lost and not self.transport.is_closing():
            self.transport.write(data)

    def write_eof(self) -> bool:
        """Half-close; False when the socket cannot (then the caller closes)."""
        t = self.transport
        if t is None or self.lost or t.is_closing() or not t.can_write_eof():
            return False
        t.write_eof()
        return True

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def abort_with_reset(self) -> None:
        t = self.transport
        if t is None or self.lost:
            return
        sock = t.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            except OSError:
                pass
        t.abort()


class Connection:
    """A client socket accepted by a proxy and its socket to the upstream."""

    def __init__(self, proxy: Listener) -> None:
        self.proxy = proxy
        self.client = Side(self)
        self.upstream = Side(self)
        self.client.peer, self.upstream.peer = self.upstream, self.client
        self.up = ToxicLink(self, self.client, self.upstream, "upstream")
        self.down = ToxicLink(self, self.upstream, self.client, "downstream")
        self.client.out_link, self.upstream.out_link = self.up, self.down
        self.closed = False
        self.ready = False  # wired to the upstream; toxics apply from then on
        self._connector: asyncio.Task[None] | None = None

    def link(self, direction: str) -> ToxicLink:
        return self.up if direction == "upstream" else self.down

    # ---- setup ----------------------------------------------------------

    def side_made(self, side: Side) -> None:
        if side is self.client:
            side.pause("connecting")
            self.proxy.connections.add(self)
            self._connector = asyncio.get_running_loop().create_task(self._connect_upstream())

    async def _connect_upstream(self) -> None:
        host, port = self.proxy.upstream_address()
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: self.upstream, host, port)
        except (OSError, ValueError):
            self.close()  # Toxiproxy closes the client when the upstream cannot be reached
            return
        if self.closed:
            self.upstream.close()
            return
        self.ready = True
        self.client.route_direct(self.up)
        self.upstream.route_direct(self.down)
        for installed in self.proxy.toxics.in_order():
            self.link(installed.direction).add_toxic(installed)
        self.upstream.flush_early()  # servers that speak first (greetings) may already have
        self.client.flush_early()
        self.client.resume("connecting")

    # ---- endings ----------------------------------------------------------

    def direction_ended(self, link: ToxicLink) -> None:
        other = self.down if link is self.up else self.up
        if other.done or not link.dest.write_eof():
            self.close()

    def side_lost(self, side: Side) -> None:
        if self.closed:
            return
        into = self.up if side is self.upstream else self.down
        into.cancel()  # nothing more can reach this socket
        side.out_link.source_ended()  # but what it sent still goes on to the other side
        if self.up.done and self.down.done:
            self.close()

    def close(self) -> None:
        """Close both sockets gracefully (buffered bytes are still sent)."""
        self._end(reset=False)

    def reset(self) -> None:
        """Close both sockets with a TCP RST (SO_LINGER 0), as reset_peer does."""
        self._end(reset=True)

    def _end(self, reset: bool) -> None:
        if self.closed:
            return
        self.closed = True
        self.up.cancel()
        self.down.cancel()
        if self._connector is not None and not self._connector.done():
            self._connector.cancel()
        for side in (self.client, self.upstream):
            if reset:
                side.abort_with_reset()
            else:
                side.close()
        self.proxy.connections.discard(self)

    def reply(self, data: bytes, close: bool) -> None:
        self.client.write(data)
        if close:
            self.close()
