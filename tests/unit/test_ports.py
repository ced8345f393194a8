"""Ports the harness hands to services it starts a moment later."""

from __future__ import annotations

import socket

from harness.stack.ports import LOWEST, ephemeral_start, free_port


def test_ports_come_from_below_the_ephemeral_range_are_bindable_and_never_repeat() -> None:
    # Outgoing connections take their local port from the ephemeral range: a port
    # chosen there can be taken by the drill's own load before the service binds it.
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert all(LOWEST <= p < ephemeral_start() for p in ports)
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))


def test_a_port_another_process_holds_is_skipped(monkeypatch) -> None:
    import harness.stack.ports as ports

    held = []
    try:
        for port in range(LOWEST, LOWEST + 100):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            held.append(s)
        # a range of 200 ports, the first 100 held by someone else
        monkeypatch.setattr(ports, "ephemeral_start", lambda: LOWEST + 1000)
        monkeypatch.setattr(ports, "_given", set(range(LOWEST + 200, LOWEST + 1000)))
        taken = {s.getsockname()[1] for s in held}
        got = {free_port() for _ in range(50)}
        assert len(got) == 50 and not got & taken
    finally:
        for s in held:
            s.close()
