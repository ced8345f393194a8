"""What every mock service shares at start: flags, logs, database, socket, loop.

The contract with the stack runtime: bad configuration (an unknown flag, a
database path that cannot be written, a port in use, an unreachable
upstream) prints ONE line on stderr and exits with status 2, never a
traceback; once the socket listens, one line `listening on http://HOST:PORT`
goes to stdout (so `--port 0` is usable) and /healthz answers 200.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import socket
import sqlite3
import sys
import time
from typing import Any, Awaitable, Callable, NoReturn

from prometheus_client import CollectorRegistry, generate_latest
from tenacity import retry, retry_if_exception, stop_after_delay, wait_random_exponential
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from mock_services.web import Application, Request, Response, serve, text_response

EXIT_CONFIG = 2


class ConfigError(Exception):
    """Bad configuration found at start: one line, exit 2."""


def fail(service: str, message: str) -> NoReturn:
    print(f"{service}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(EXIT_CONFIG)


class ServiceArgumentParser(argparse.ArgumentParser):
    """argparse whose errors are one line (not usage + error) and exit 2."""

    def error(self, message: str) -> NoReturn:
        fail(self.prog, message)

    def env(self, name: str, default: Any, convert: Callable[[str], Any] | None = None) -> Any:
        """The default of --NAME from CHAOSDRILL_NAME, converted as the flag's own values are.

        A value the conversion refuses is this parser's one-line error naming the
        variable (exit 2), as the flag's would be, not a traceback while the parser is built.
        """
        variable = env_variable(name)
        raw = os.environ.get(variable)
        if raw is None:
            return default
        if convert is None:
            return raw
        try:
            return convert(raw)
        except (argparse.ArgumentTypeError, ValueError) as exc:
            self.error(f"{variable}: {exc}")


def env_variable(name: str) -> str:
    """--max-concurrency -> CHAOSDRILL_MAX_CONCURRENCY, --db -> CHAOSDRILL_DB."""
    return "CHAOSDRILL_" + name.upper().replace("-", "_")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def duration(text: str) -> float:
    """Seconds from "2s", "500ms", "1.5", "1m"; an argparse type."""
    match = _DURATION.match(str(text))
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (examples: 2s, 500ms, 1.5)")
    value, unit = float(match.group(1)), match.group(2) or "s"
    return value * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]


def port(text: str) -> int:
    """A TCP port 0-65535 (0: any free one); an argparse type, so 70000 is one line, not bind()'s traceback."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {value} (ports are 0-65535)")
    return value


def integer(text: str) -> int:
    """An int flag value; an argparse type whose refusal reads like the others'."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def switch(text: str) -> bool:
    """A CHAOSDRILL_NO_* switch: on or off, and anything else refused rather than read as off."""
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"", "0", "false", "no", "off"}:
        return False
    raise argparse.ArgumentTypeError(f"not on or off: {text!r} (1/true/yes/on or 0/false/no/off)")


LOG_LEVELS = ("debug", "info", "warning", "error")


def log_level(text: str) -> str:
    """One of LOG_LEVELS, any case (argparse checks `choices` on the command line only, not on defaults)."""
    if text.lower() not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"not a log level: {text!r} (choose from {', '.join(LOG_LEVELS)})")
    return text.lower()


def base_parser(service: str, description: str) -> ServiceArgumentParser:
    parser = ServiceArgumentParser(prog=service, description=description)
    parser.add_argument("--host", default=parser.env("host", "127.0.0.1"), help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=port, default=parser.env("port", 0, port), help="listen port (0: any free port)")
    parser.add_argument("--db", default=parser.env("db", None), required=parser.env("db", None) is None,
                        help="SQLite database file (WAL mode)")
    parser.add_argument("--log-level", default=parser.env("log-level", "info", log_level),
                        choices=LOG_LEVELS)
    return parser


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: machine-readable logs for drills."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "service": self.service,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            entry.update(fields)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, default=str)


def setup_logging(service: str, level: str) -> logging.Logger:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    return logging.getLogger(service)


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured event."""
    logger.log(level, name, extra={"fields": fields})


def open_database(path: str, schema: str) -> sqlite3.Connection:
    """Open (create) a WAL database with the schema; ConfigError when unusable.

    synchronous=NORMAL in WAL mode: a committed transaction is in the WAL file
    (in the OS page cache) before commit returns, so it survives the death of
    the process (kill -9); only a power loss or kernel crash can lose the last
    commits, which FULL would protect against at the price of an fsync each.
    """
    try:
        return _open_with_retries(path, schema)
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(f"database {path} is not usable: {exc}") from None


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


@retry(retry=retry_if_exception(_locked), stop=stop_after_delay(10),
       wait=wait_random_exponential(multiplier=0.02, max=0.5), reraise=True)
def _open_with_retries(path: str, schema: str) -> sqlite3.Connection:
    """Instances sharing one database start together: switching to WAL and creating
    the schema can meet another instance doing the same, and SQLite answers the
    journal-mode switch with "locked" at once instead of waiting (busy_timeout
    does not cover it), so the whole step is retried for a while."""
    connection = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    try:
        mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise ConfigError(f"database {path}: cannot use WAL mode (got {mode})")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=10000")
        connection.executescript(schema)
    except BaseException:
        connection.close()
        raise
    return connection


def bind(host: str, port: int) -> socket.socket:
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
        return sock
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def add_common_routes(app: Application, registry: CollectorRegistry, ready: Callable[[], bool]) -> None:
    @app.route("GET", "/healthz")
    async def healthz(request: Request) -> Response:
        if ready():
            return text_response(200, "ok")
        return text_response(503, "starting")

    @app.route("GET", "/metrics")
    async def metrics(request: Request) -> Response:
        return Response(200, generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def run_service(service: str, host: str, sock: socket.socket, app: Application,
                start: Callable[[], Awaitable[None]] | None = None,
                stop: Callable[[], Awaitable[None]] | None = None) -> None:
    """Serve until SIGTERM/SIGINT; `start` runs before listening, `stop` after."""
    logger = logging.getLogger(service)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        if start is not None:
            await start()
        server = await serve(app, sock)
        port = sock.getsockname()[1]
        print(f"listening on http://{host}:{port}", flush=True)
        event(logger, "listening", url=f"http://{host}:{port}", pid=os.getpid())
        await stopping.wait()
        server.close()
        if stop is not None:
            await stop()
        event(logger, "stopped")

    try:
        import uvloop
        uvloop.run(main())
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        asyncio.run(main())
    except ConfigError as exc:
        fail(service, str(exc))


def now() -> float:
    return time.time()
