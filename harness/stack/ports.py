"""Loopback port allocation and checks."""

from __future__ import annotations

import socket

from harness.errors import UsageError


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free now (bound and released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ensure_free(port: int, what: str, host: str = "127.0.0.1") -> None:
    """Fail with one clear line when a fixed port is already taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise UsageError(f"{what}: port {host}:{port} is in use ({exc.strerror})") from None
