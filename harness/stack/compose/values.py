"""Compose's several spellings of one thing, each made one plain value.

Compose lets a command be a string or a list, an environment a mapping or a
list of `KEY=VALUE`, a port `"8080:80"`, `"127.0.0.1:8080:80/tcp"`, `80` or a
mapping; the rest of the import sees only argv lists, (key, value) pairs and
container port numbers. Nothing here warns: a value that cannot be read
raises ValueError for the caller to word with its line.
"""

from __future__ import annotations

import datetime
import re
import shlex
from dataclasses import dataclass
from typing import Any

MAX_RANGE = 100  # ports in one "8000-8099" range; beyond that it is not a list of services' ports


def text(value: Any) -> str:
    """A scalar as Compose passes it to a container: `true`, not `True`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def argv(value: Any) -> list[str]:
    """`command`/`entrypoint`: a list as is, a string split as a shell would (quotes kept together)."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:  # an unclosed quote
            raise ValueError(f"cannot split {value!r} into arguments as a shell would: {exc}") from None
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return [text(v) for v in value]
    raise ValueError("expected a string or a list of arguments")


def environment(value: Any) -> list[tuple[str, str | None, Any]]:
    """(key, value, where) of a mapping or a `KEY=VALUE` list; value None: taken from the shell at `up`.
    `where` is the key (mapping) or the item's index (list), to locate the entry in the file."""
    if isinstance(value, dict):
        return [(str(k), None if v is None else text(v), k) for k, v in value.items()]
    if isinstance(value, list):
        out: list[tuple[str, str | None, Any]] = []
        for i, item in enumerate(value):
            if isinstance(item, (dict, list)) or item is None:
                raise ValueError(f"item {i}: expected KEY=VALUE")
            key, sep, val = text(item).partition("=")
            out.append((key.strip(), val if sep else None, i))
        return out
    raise ValueError("expected a mapping of names to values or a list of KEY=VALUE")


_DOUBLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def parse_dotenv(source: str) -> list[tuple[str, str | None, int]]:
    """(key, value, line) of an env file as Compose reads one: `KEY=VALUE`, `export KEY=VALUE`,
    quoted values ('literal', "with \\n escapes"), ` # comments`; `KEY` alone: None (from the shell)."""
    out: list[tuple[str, str | None, int]] = []
    for number, raw in enumerate(source.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, rest = line.partition("=")
        key = key.strip()
        if not key:
            continue
        if not sep:
            out.append((key, None, number))
            continue
        out.append((key, _dotenv_value(rest.strip()), number))
    return out


def _dotenv_value(rest: str) -> str:
    if rest[:1] == "'":
        end = rest.find("'", 1)
        return rest[1:end] if end > 0 else rest[1:]
    if rest[:1] == '"':
        chars: list[str] = []
        i = 1
        while i < len(rest) and rest[i] != '"':
            if rest[i] == "\\" and i + 1 < len(rest):
                chars.append(_DOUBLE_ESCAPES.get(rest[i + 1], "\\" + rest[i + 1]))
                i += 2
                continue
            chars.append(rest[i])
            i += 1
        return "".join(chars)
    return re.split(r"\s#", rest, maxsplit=1)[0].rstrip()


@dataclass(frozen=True)
class PortEntry:
    """One container port a `ports`/`expose` item names."""

    port: int
    protocol: str = "tcp"
    http: bool = False  # the long syntax said `app_protocol: http`


def _range(spec: str) -> list[int]:
    first, sep, last = spec.partition("-")
    if not first.isdigit() or (sep and not last.isdigit()):
        raise ValueError(f"{spec!r} is not a port or a range of ports")
    lo, hi = int(first), int(last) if sep else int(first)
    if not 1 <= lo <= hi <= 65535:
        raise ValueError(f"{spec!r} is not a port or a range of ports (1-65535)")
    return list(range(lo, min(hi, lo + MAX_RANGE - 1) + 1))


def port_entries(value: Any) -> list[PortEntry]:
    """Container ports of one `ports` item: `80`, `"8080:80"`, `"127.0.0.1:8080:80/udp"`, `"[::1]::80"`,
    `"9090-9091:8080-8081"`, or the long syntax `{target, published, protocol, app_protocol}`."""
    if isinstance(value, dict):
        if "target" not in value:
            raise ValueError("the long syntax needs target: the container's port")
        http = str(value.get("app_protocol", "")).lower() in ("http", "http1", "http2", "h2c")
        return [PortEntry(p, str(value.get("protocol") or "tcp").lower(), http) for p in _range(text(value["target"]))]
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("expected a port (80), a mapping (\"8080:80\") or the long syntax")
    spec, _, protocol = text(value).partition("/")
    container = spec.rsplit(":", 1)[-1]  # HOST_IP:HOST_PORT:CONTAINER_PORT, the last part is the container's
    return [PortEntry(p, (protocol or "tcp").lower()) for p in _range(container.strip())]


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration(value: Any) -> float:
    """Seconds of a Compose duration: `30s`, `1m30s`, `1h`, `500ms`."""
    spec = text(value).strip()
    parts = list(_DURATION.finditer(spec))
    if not parts or "".join(m.group(0) for m in parts) != spec:
        raise ValueError(f"{spec!r} is not a duration like 30s, 1m30s or 500ms")
    return sum(float(m.group(1)) * _UNITS[m.group(2)] for m in parts)


def seconds_text(seconds: float) -> str:
    """A duration as a stack file writes it: `45s`, `1.5s`."""
    return f"{seconds:g}s"
