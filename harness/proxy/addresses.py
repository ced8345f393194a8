"""Parsing `host:port` strings as Toxiproxy does, and the loopback-only policy.

A fault proxy must not open a hole into the network by accident: listeners
bind loopback unless the server was started with --allow-non-loopback, and an
empty host means 127.0.0.1 (Toxiproxy would bind every interface).
"""

from __future__ import annotations

import ipaddress
import socket

from harness.proxy import errors


def split_host_port(address: str) -> tuple[str, int]:
    """'127.0.0.1:80', '[::1]:80', 'localhost:80', ':80' -> (host, port); ValueError when malformed."""
    host, sep, port_text = address.rpartition(":")
    if not sep:
        raise ValueError(f"address {address}: missing port in address")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"address {address}: invalid port") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"address {address}: invalid port")
    return host, port


def upstream_address(upstream: str) -> tuple[str, int]:
    """The (host, port) a proxy connects to for `upstream`; an empty host is 127.0.0.1. ValueError when malformed."""
    host, port = split_host_port(upstream)
    return host or "127.0.0.1", port


def join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve_listen(address: str, allow_non_loopback: bool) -> tuple[str, int]:
    """The (ip, port) a proxy should bind for `address`, or an ApiError."""
    if not address:
        return "127.0.0.1", 0
    try:
        host, port = split_host_port(address)
    except ValueError as exc:
        raise errors.internal(f"listen tcp: {exc}") from None
    if not host:
        host = "127.0.0.1"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise errors.internal(f"listen tcp: lookup {host}: {exc.strerror or exc}") from None
    ip = _pick_ip(infos)
    if not allow_non_loopback and not ipaddress.ip_address(ip).is_loopback:
        raise errors.ApiError(
            f"listen address {address} is not a loopback address; start the proxy server "
            "with --allow-non-loopback to allow it",
            403,
        )
    return ip, port


def normalise_listen(address: str) -> str:
    """The form Toxiproxy compares listen addresses in (resolved 'ip:port')."""
    if not address:
        return "127.0.0.1:0"
    host, port = split_host_port(address)
    if not host:
        host = "127.0.0.1"
    try:
        host = _pick_ip(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
    except OSError:
        pass
    return join_host_port(host, port)


def _pick_ip(infos: list) -> str:
    ips = [info[4][0] for info in infos]
    return next((a for a in ips if "." in a), ips[0])
