"""Where a value names another service: a URL, a `host:port`, or the whole value as a host.

Compose services find each other by name on their network, and a team's
configuration says so in its own words: `DB_HOST=db`, `REDIS=cache:6379`,
`DATABASE_URL=postgres://app:secret@db:5432/app`, `amqp://mq`. Each such
place is a Mention (its span in the text, the service, the port it names)
that edges.py turns into a link and rewrites. A whole value is taken for a
host only under a variable whose name does not say it is something else
(`POSTGRES_USER=postgres` beside a service called postgres is a user name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

# The port a URL means when it names none.
SCHEME_PORTS = {
    "http": 80, "ws": 80, "https": 443, "wss": 443, "postgres": 5432, "postgresql": 5432, "mysql": 3306,
    "mariadb": 3306, "redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671, "mongodb": 27017,
    "nats": 4222, "memcached": 11211, "kafka": 9092, "zookeeper": 2181, "cassandra": 9042, "ldap": 389,
    "ldaps": 636, "smtp": 25, "ftp": 21,
}
TLS_SCHEMES = ("https", "wss", "rediss", "amqps", "ldaps", "mongodb+srv")

HOST_WORDS = {"HOST", "HOSTNAME", "HOSTS", "ADDR", "ADDRESS", "SERVER", "SERVERS", "ENDPOINT", "URL", "URI",
              "UPSTREAM", "BROKER", "BROKERS", "BACKEND", "TARGET", "DSN", "NODE", "NODES", "PEER", "PEERS"}
OTHER_WORDS = {"USER", "USERNAME", "PASS", "PASSWORD", "PASSWD", "NAME", "DB", "DATABASE", "SCHEMA", "TOPIC",
               "QUEUE", "BUCKET", "ROLE", "TABLE", "ENV", "MODE", "LEVEL", "ID", "KEY", "TOKEN", "SECRET", "REALM",
               "TENANT", "INDEX", "PREFIX", "EXCHANGE"}
IMAGE_WORDS = {"IMAGE", "TAG", "VERSION"}  # redis:7 there is an image, not a host and port
HOST_KEY = re.compile(r"^(?P<prefix>.*?)_?(?:HOST|HOSTNAME|ADDR|ADDRESS|SERVER)$", re.I)

_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?:[^@/\s?#]*@)?"
                  r"(?P<host>[A-Za-z0-9_.-]+)(?::(?P<port>\d{1,5}))?")
_ADDRESS = re.compile(r"(?<![\w.:/@-])(?P<host>[A-Za-z0-9_.-]+):(?P<port>\d{1,5})(?![\w.:-])")
_TOKEN = re.compile(r"[A-Za-z0-9_.-]+")

Resolve = Callable[[str], "str | None"]  # a host name -> the service it names (None: not another service)


@dataclass(frozen=True)
class Mention:
    """One place in a text that names another service."""

    start: int
    end: int
    target: str
    port: int | None  # the port it names (given, or the scheme's); None: the target's own port
    form: str  # "address": host[:port] -> {link_address:}; "host" -> {link_host:}; "port" -> {link_port:}
    scheme: str | None = None
    bare: bool = False  # a host alone whose port no variable gives: the app picks the port itself


def key_kind(key: str) -> str:
    """What a variable's name says it holds: "host", "image", "other" (a user, a password, a database
    name: not a host when the value is one word) or "unknown"."""
    words = set(re.split(r"[^A-Z0-9]+", key.upper()))
    if words & HOST_WORDS:
        return "host"
    if words & IMAGE_WORDS:
        return "image"
    return "other" if words & OTHER_WORDS else "unknown"


def _port(text: str | None) -> int | None:
    return int(text) if text and 1 <= int(text) <= 65535 else None


def find_mentions(text: str, resolve: Resolve, whole_value: bool, addresses: bool = True) -> list[Mention]:
    """URLs and (with `addresses`) host:port pairs naming a service; with `whole_value`, also the text
    itself as a host."""
    out: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for m in _URL.finditer(text):
        target = resolve(m.group("host"))
        taken.append(m.span())
        if target is None or (m.group("port") and _port(m.group("port")) is None):
            continue
        scheme = m.group("scheme").lower()
        port = _port(m.group("port")) or SCHEME_PORTS.get(scheme.rsplit("+", 1)[-1])
        out.append(Mention(m.start("host"), m.end(), target, port, "address", scheme))
    for m in _ADDRESS.finditer(text) if addresses else ():
        if any(a <= m.start() < b for a, b in taken):
            continue
        target, port = resolve(m.group("host")), _port(m.group("port"))
        if target is not None and port is not None:
            out.append(Mention(m.start(), m.end(), target, port, "address"))
    if not out and whole_value:
        stripped = text.strip()
        target = resolve(stripped) if stripped else None
        if target is not None:
            start = text.index(stripped)
            out.append(Mention(start, start + len(stripped), target, None, "host", bare=True))
    return sorted(out, key=lambda mention: mention.start)


def named_services(text: str, resolve: Resolve) -> list[str]:
    """Services a text names as a word anywhere (for the warning about references left as they are)."""
    found = []
    for token in _TOKEN.findall(text):
        target = resolve(token)
        if target is not None and target not in found:
            found.append(target)
    return found


def sibling_port_key(key: str) -> str | None:
    """The variable that would hold the port beside a host variable: DB_HOST -> DB_PORT."""
    m = HOST_KEY.match(key)
    if not m or not m.group("prefix"):
        return None
    prefix, rest = m.group("prefix"), key[len(m.group("prefix")):]
    word = "PORT" if rest.isupper() else "port"
    return f"{prefix}_{word}" if rest.startswith("_") else f"{prefix}{word}"
