"""`chaosdrill proxy-server`: the Toxiproxy-compatible fault proxy server alone."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.commands.common import port_number


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="API address (default 127.0.0.1)")
    p.add_argument("--port", type=port_number, default=8474, help="API port, 0 for any free one (default 8474)")
    p.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow the API and proxies to listen on addresses other than loopback",
    )
    p.add_argument(
        "--config", type=Path, metavar="FILE.json", help="Toxiproxy config file: proxies to create at start"
    )


def options_from_args(args: argparse.Namespace):  # -> ServerOptions
    from harness.proxy.server import ServerOptions

    return ServerOptions(
        host=args.host, port=args.port, allow_non_loopback=args.allow_non_loopback, config=args.config
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "proxy-server",
        help="run the Toxiproxy-compatible fault proxy server",
        description="Run the fault proxy server (Toxiproxy v2 HTTP API). Prints "
        "'chaosdrill proxy-server listening on http://HOST:PORT' once ready.",
    )
    add_arguments(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from harness.proxy.server import serve_forever

    return serve_forever(options_from_args(args))
