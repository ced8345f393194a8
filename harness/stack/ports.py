"""Loopback port allocation and checks."""

from __future__ import annotations

import random
import socket

from harness.errors import UsageError

LOWEST = 10000
_given: set[int] = set()


def ephemeral_start() -> int:
    """Where the kernel's range of ports for outgoing connections begins."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free now, for a service started a moment later, below the
    ephemeral range.

    A port taken by bind(0) comes from the ephemeral range, the same range every
    outgoing connection takes its local port from: under a drill's load, some
    connection could take it before the service bound it (seen in the gate:
    "cannot listen on 127.0.0.1:37127: Address already in use"). Below that range
    only explicit binds compete, and this process never hands out a port twice.
    """
    top = ephemeral_start()
    if top - LOWEST < 1000:  # an unusual range setting: fall back to the kernel's choice
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            return s.getsockname()[1]
    for _ in range(200):
        port = random.randrange(LOWEST, top)
        if port in _given:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise UsageError(f"no free port on {host} between {LOWEST} and {top}")


def reserve(ports) -> None:
    """Ports fixed by a stack file: free_port never hands them to an `auto` service."""
    _given.update(ports)


def ensure_free(port: int, what: str, host: str = "127.0.0.1") -> None:
    """Fail with one clear line when a fixed port is already taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise UsageError(f"{what}: port {host}:{port} is in use ({exc.strerror})") from None


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this machine's loopback: every address it resolves to is.
    A name that does not resolve is not (the run will say it cannot reach it)."""
    import ipaddress
    import socket

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)
