"""Every dependency edge becomes a link, and every value naming a service is rewritten through it.

A drill can only break an edge the fault proxy sits on. Edges come from the
places a service names another (environment values, command arguments: see
mentions.py) and from `depends_on`; each becomes a link, ONE proxy per
(from, to, port), and each place is rewritten to name the proxy:

    DATABASE_URL=postgres://u:p@db:5432/app -> postgres://u:p@{link_address:api->db}/app
    REDIS=cache:6379                        -> {link_address:api->cache}
    DB_HOST=db, DB_PORT=5432                -> {link_host:api->db}, {link_port:api->db}
    DB_HOST=db (no port variable)           -> {link_host:api->db}, and the link listens on db's port
    API=http://api:8000, ADMIN=http://api:9000 (api listens on 8000) -> links web->api and web->api#9000

A link is named FROM->TO when it goes to TO's own port, FROM->TO#PORT for
any other port. A `depends_on` with no reference is a link to TO's port.
Each service's port comes from its ports/expose (container side), else its
healthcheck's URL, else the ports others name it by, else its image's usual
port, else 8080, with a warning for the last two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.stack.compose.mentions import TLS_SCHEMES, Mention, find_mentions, key_kind, named_services, \
    sibling_port_key
from harness.stack.compose.services import ComposeService
from harness.stack.compose.source import ComposeFile, Origin

DEFAULT_PORT = 8080  # what the docker backend gives a service whose port is not known
PROXY_API_PORT = 8474  # the fault proxy's own API port in its container: no link listens there
IMAGE_PORTS = {
    "postgres": 5432, "postgis": 5432, "mysql": 3306, "mariadb": 3306, "redis": 6379, "valkey": 6379,
    "mongo": 27017, "rabbitmq": 5672, "memcached": 11211, "nats": 4222, "elasticsearch": 9200,
    "opensearch": 9200, "nginx": 80, "httpd": 80, "caddy": 80, "zookeeper": 2181, "kafka": 9092,
    "cp-kafka": 9092, "consul": 8500, "etcd": 2379, "cassandra": 9042, "minio": 9000, "influxdb": 8086,
}
PLACEHOLDERS = {"address": "link_address", "host": "link_host", "port": "link_port"}


@dataclass
class Place:
    """A text of a service that names others: an environment value or a command/entrypoint argument."""

    service: str
    field: tuple[str, Any]  # ("env", KEY) | ("command", i) | ("entrypoint", i)
    origin: Origin
    text: str
    mentions: list[Mention]

    @property
    def what(self) -> str:
        kind, key = self.field
        return str(key) if kind == "env" else f"{kind}[{key}]"


@dataclass
class LinkPlan:
    """One link of the stack: a proxy from `source` to `target`'s `port`."""

    name: str
    source: str
    target: str
    port: int
    listen: int | None = None  # fixed port of the proxy: a bare host reaches it on the port the app assumes
    why: list[str] = field(default_factory=list)  # "API_URL" (an environment variable), "command[3]", "depends_on"

    @property
    def because(self) -> str:
        """Where the edge was found: `environment API_URL, API_PORT; depends_on`."""
        env = [w for w in self.why if not w.startswith(("command[", "entrypoint[", "depends_on"))]
        rest = [w for w in self.why if w not in env]
        return "; ".join(([f"environment {', '.join(env)}"] if env else []) + rest)


@dataclass
class Wiring:
    """The services' ports, the links, and every place rewritten through them."""

    ports: dict[str, int]
    links: dict[tuple[str, str, int], LinkPlan]
    places: list[Place]

    def link(self, source: str, target: str, port: int | None) -> LinkPlan:
        return self.links[(source, target, port or self.ports[target])]

    def rewritten(self, place: Place) -> str:
        text = place.text
        for m in reversed(place.mentions):
            name = self.link(place.service, m.target, m.port).name
            text = f"{text[:m.start]}{{{PLACEHOLDERS[m.form]}:{name}}}{text[m.end:]}"
        return text

    def service_values(self, svc: ComposeService) -> tuple[dict[str, str], list[str] | None, list[str] | None]:
        """(env, command, entrypoint) of a service, every place naming another service rewritten."""
        env = {key: entry.value for key, entry in svc.env.items()}
        argvs: dict[str, list[str] | None] = {"command": list(svc.command) if svc.command is not None else None,
                                             "entrypoint": list(svc.entrypoint) if svc.entrypoint is not None else None}
        for place in self.places:
            if place.service != svc.name:
                continue
            kind, key = place.field
            if kind == "env":
                env[key] = self.rewritten(place)
            else:
                argvs[kind][key] = self.rewritten(place)  # type: ignore[index]
        return env, argvs["command"], argvs["entrypoint"]


def wire(compose: ComposeFile, services: dict[str, ComposeService]) -> Wiring:
    places = _places(compose, services)
    ports = _ports(compose, services, places)
    wiring = Wiring(ports, {}, places)
    _plan_links(compose, services, wiring)
    return wiring


def _resolver(services: dict[str, ComposeService], svc: ComposeService) -> Any:
    names: dict[str, str] = {}
    for other in services.values():
        names.setdefault(other.name.lower(), other.name)
    for other in services.values():
        for alias in other.aliases:
            names.setdefault(alias.lower(), other.name)

    def resolve(host: str) -> str | None:
        target = svc.link_aliases.get(host) or names.get(host.lower())
        return target if target in services and target != svc.name else None

    return resolve


def _places(compose: ComposeFile, services: dict[str, ComposeService]) -> list[Place]:
    places: list[Place] = []
    for svc in services.values():
        resolve = _resolver(services, svc)
        for key, entry in svc.env.items():
            kind = key_kind(key)  # POSTGRES_USER=postgres is a user, even beside a service called postgres
            mentions = find_mentions(entry.value, resolve, whole_value=kind in ("host", "unknown"),
                                     addresses=kind != "image")
            if not mentions and kind in ("host", "unknown"):
                named = named_services(entry.value, resolve)
                if named:
                    compose.notes.warn(entry.origin, f"names {', '.join(named)}, but not as a URL, a host:port or "
                                                     "the whole value: not rewritten, so it reaches "
                                                     f"{named[0]} directly and no fault of the drill touches it")
            if not mentions:
                continue
            if len(mentions) == 1 and mentions[0].form == "host":
                mentions, sibling = _with_sibling_port(svc, key, mentions[0])
                if sibling is not None:
                    places.append(sibling)
            places.append(Place(svc.name, ("env", key), entry.origin, entry.value, mentions))
        for argv_key in ("entrypoint", "command"):
            for i, arg in enumerate(getattr(svc, argv_key) or []):
                mentions = find_mentions(arg, resolve, whole_value=False)
                if mentions:
                    origin = compose.origin("services", svc.name, argv_key, i)
                    places.append(Place(svc.name, (argv_key, i), origin, arg, mentions))
    for place in places:
        for m in place.mentions:
            if m.scheme in TLS_SCHEMES:
                compose.notes.warn(place.origin, f"{m.scheme} to {m.target} through the link's proxy: the "
                                                 "certificate is checked against the proxy's address, not "
                                                 f"{m.target}'s; relax the check for the drill if it fails")
    return places


def _with_sibling_port(svc: ComposeService, key: str, mention: Mention) -> tuple[list[Mention], Place | None]:
    """A bare host with its port in the variable beside it (DB_HOST/DB_PORT): both go through the link."""
    port_key = sibling_port_key(key)
    entry = svc.env.get(port_key) if port_key else None
    digits = entry.value.strip() if entry is not None else ""
    if entry is None or not digits.isdigit() or not 1 <= int(digits) <= 65535:
        return [mention], None  # the app picks the port itself
    port = int(digits)
    start = entry.value.index(digits)
    sibling = Place(svc.name, ("env", port_key), entry.origin, entry.value,
                    [Mention(start, start + len(digits), mention.target, port, "port")])
    return [Mention(mention.start, mention.end, mention.target, port, "host")], sibling


def _ports(compose: ComposeFile, services: dict[str, ComposeService], places: list[Place]) -> dict[str, int]:
    named: dict[str, int] = {}
    for place in places:
        for m in place.mentions:
            if m.port is not None:
                named.setdefault(m.target, m.port)
    ports: dict[str, int] = {}
    for name, svc in services.items():
        if svc.ports:
            ports[name] = svc.ports[0].port
            if svc.health.port not in (None, ports[name]) and svc.health.path is not None:
                compose.warn(("services", name, "healthcheck", "test"),
                             f"asks port {svc.health.port}, but the service's port is {ports[name]} and a stack "
                             "checks health there: carried over as a TCP check on that port")
                svc.health.path = None
        elif svc.health.port is not None:
            ports[name] = svc.health.port
        elif name in named:
            ports[name] = named[name]
        else:
            usual = IMAGE_PORTS.get((svc.image or "").split("@")[0].rsplit(":", 1)[0].rsplit("/", 1)[-1])
            ports[name] = usual or DEFAULT_PORT
            because = (f"the usual port of image {svc.image}" if usual else
                       "the docker backend's default; if it listens on nothing, a stack cannot check it healthy")
            compose.warn(("services", name), f"listens on port {ports[name]} ({because}): no ports, expose or "
                                             "healthcheck URL says, nor does any other service; set `port:` in the "
                                             "stack if it listens elsewhere")
    return ports


def _plan_links(compose: ComposeFile, services: dict[str, ComposeService], wiring: Wiring) -> None:
    def add(source: str, target: str, port: int, why: str) -> LinkPlan:
        key = (source, target, port)
        if key not in wiring.links:
            tag = "" if port == wiring.ports[target] else f"#{port}"
            wiring.links[key] = LinkPlan(f"{source}->{target}{tag}", source, target, port)
        plan = wiring.links[key]
        if why not in plan.why:
            plan.why.append(why)
        return plan

    taken = {PROXY_API_PORT}
    for place in wiring.places:
        for m in place.mentions:
            plan = add(place.service, m.target, m.port or wiring.ports[m.target], place.what)
            if m.bare and plan.listen is None:
                if plan.port in taken:
                    compose.notes.warn(place.origin, f"names {m.target} without a port, and port {plan.port} of "
                                                     "the fault proxy is taken by another link: give the port in a "
                                                     f"variable ({sibling_port_key(place.field[1]) or 'a *_PORT'}) "
                                                     f"and put {{link_port:{plan.name}}} there")
                else:
                    plan.listen = plan.port  # the app connects to the proxy on the port it assumes
                    taken.add(plan.port)
    for svc in services.values():
        for target in svc.depends_on:
            if target in services and not any(k[:2] == (svc.name, target) for k in wiring.links):
                add(svc.name, target, wiring.ports[target], "depends_on")
