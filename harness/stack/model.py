"""The stack file: which services run, how they are wired, how answers are judged.

A stack is data, so the runner has no code path specific to one system: the
built-in lending platform (scenarios/stacks/lending.yaml) and a user's own
services are described the same way. This module holds the models; reading
and checking a file is harness.stack.files (`load_stack(name_or_path)`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, WithJsonSchema, model_validator

from harness.schema.base import Duration, StrictModel
from harness.schema.names import instance_name

BUILTIN_STACK_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "stacks"
BUILTIN_LOCUSTFILE_PREFIX = "builtin:"
LINK_KEY = re.compile(r"^(?P<from>[^\s>]+?)->(?P<to>[^\s#]+)(#[\w.-]+)?$")
OUTCOME_CLASSES = ("success", "degraded", "rejected")
EDGE_FROM = "client"  # edge links are named "client->ENTRY" ("client->ENTRY#1" for instance 1)


def _port(value: Any) -> Any:
    if value == "auto" or value is None:
        return "auto"
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError(f"expected a port number 1-65535 or 'auto', got {value!r}")
    return value


Port = Annotated[
    int | Literal["auto"],
    BeforeValidator(_port),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, {"const": "auto"}],
                    "description": "a fixed port (instance i gets port+i) or 'auto' (a free port)"}),
]


class Health(StrictModel):
    """How the runner knows an instance is up: GET path answers 200; with `path: null`, a TCP
    connection is accepted (a database, a cache: anything that speaks no HTTP)."""

    path: str | None = "/healthz"
    timeout: Duration = 20.0
    interval: Duration = 0.05


ADDRESS = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})$")


def _address(value: Any) -> Any:
    if value is None:
        return None
    m = ADDRESS.match(str(value)) if isinstance(value, str) else None
    if not m or not 1 <= int(m.group("port")) <= 65535:
        raise ValueError(f"expected HOST:PORT of a running service, e.g. 127.0.0.1:6379, got {value!r}")
    return value


Address = Annotated[str, BeforeValidator(_address)]


class Build(StrictModel):
    """Docker backend: build the service's image from a folder (Compose's `build:`)."""

    context: str = "."  # relative to the stack file's folder
    dockerfile: str = "Dockerfile"
    args: dict[str, str] = Field(default_factory=dict)


class Service(StrictModel):
    """One service; `command` and `env` may hold placeholders filled at run time:
    {host} {port} {state_dir} {instance} {python} {stack_dir} {link:FROM->TO} {service:NAME}."""

    command: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    port: Port = "auto"
    replicas: int = Field(1, ge=1)
    health: Health = Field(default_factory=Health)
    restart_on_kill: bool = True
    image: str | None = None
    build: Build | None = None
    # Docker backend: replaces the image's ENTRYPOINT (and its CMD, unless `command` is given), as Compose's does.
    entrypoint: list[str] | None = None
    # A service already running, which chaosdrill never starts nor stops: a link's target, or the entry.
    address: Address | None = None

    @property
    def running_elsewhere(self) -> bool:
        return self.address is not None

    @model_validator(mode="after")
    def _running_elsewhere(self) -> "Service":
        if self.address is None:
            return self
        started = [k for k in ("command", "entrypoint", "image", "build") if getattr(self, k) is not None]
        if started:
            raise ValueError(f"a service with an address is already running: it takes no {', '.join(started)}")
        if self.replicas != 1 or self.port != "auto":
            raise ValueError("a service with an address is one instance at that address: no replicas, no port")
        if "health" not in self.model_fields_set:
            # reachable is enough unless the file says how to ask; it is up already, or it is not
            self.health = Health(path=None, timeout=5.0)
        return self

    @model_validator(mode="after")
    def _ports_fit(self) -> "Service":
        if isinstance(self.port, int) and self.port + self.replicas - 1 > 65535:
            raise ValueError(f"port {self.port} with {self.replicas} replicas needs ports up to "
                             f"{self.port + self.replicas - 1}, beyond 65535")
        return self


def _listen(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return value
    if isinstance(value, str) and ADDRESS.match(value) and 1 <= int(value.rpartition(":")[2]) <= 65535:
        return value
    raise ValueError(f"expected a port 1-65535 or HOST:PORT for the link's proxy to listen on, got {value!r}")


class Link(StrictModel):
    """A proxied dependency edge; from/to default to the two sides of its key "from->to"."""

    from_: str | None = Field(None, alias="from")
    to: str | None = None
    description: str = ""
    # A fixed port for the link's proxy (on 127.0.0.1, or "HOST:PORT" for a fault proxy elsewhere, e.g.
    # 0.0.0.0:6380 in a cluster's Toxiproxy), so a system started outside chaosdrill can be pointed at it
    # once and drilled again and again; None: a free port picked at each start.
    listen: Annotated[int | str, BeforeValidator(_listen)] | None = None

    def listen_address(self) -> str | None:
        if self.listen is None:
            return None
        return f"127.0.0.1:{self.listen}" if isinstance(self.listen, int) else self.listen
    # Docker backend: the port of TO the proxy forwards to, when TO listens on more than one
    # (FROM->TO#9000); None: TO's own port. (On docker, a fixed `listen` is the port inside the
    # fault proxy's container, on the run's network.)
    port: Annotated[int, Field(ge=1, le=65535)] | None = None


class ClassRules(StrictModel):
    success: list[str] = Field(default_factory=list)
    degraded: list[str] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)


class Classification(StrictModel):
    """How an answer's outcome class is read: the JSON `field` holding a code, and
    which codes are which class. No code, an unknown code, a transport error or a
    5xx without code is ungraceful."""

    field: str = "code"
    classes: ClassRules = Field(default_factory=ClassRules)
    retry_after_required: list[str] | None = None  # codes that must carry Retry-After (default: every degraded code)

    def class_of(self, code: str) -> str:
        for name in OUTCOME_CLASSES:
            if code in getattr(self.classes, name):
                return name
        return "ungraceful"

    def all_codes(self) -> list[str]:
        return [c for name in OUTCOME_CLASSES for c in getattr(self.classes, name)]


class AuditEndpoint(StrictModel):
    service: str
    path: str


class AuditStep(StrictModel):
    """A call made before reading the audit (e.g. run reconciliation), on every instance."""

    service: str
    method: str = "POST"
    path: str
    json_: dict[str, Any] | None = Field(None, alias="json")


class Audit(StrictModel):
    plugin: str
    # where the plugin's invariants are when they are not built in: a .py file (relative to the stack
    # file) or an importable module; importing it registers them (harness/invariants/modules.py)
    module: str | None = None
    endpoints: dict[str, AuditEndpoint]
    before: list[AuditStep] = Field(default_factory=list)


class StackLoad(StrictModel):
    locustfile: str
    user_classes: list[str] | None = None


class MetricsSource(StrictModel):
    service: str
    path: str = "/metrics"
    series: list[str]


class FaultProxyConfig(StrictModel):
    """Docker backend: which image runs the fault proxy (default: the built-in one)."""

    image: str | None = None
    command: list[str] | None = None
    api_port: int = 8474


class Stack(StrictModel):
    name: str
    description: str = ""
    backend: Literal["process", "docker"] = "process"
    services: dict[str, Service] = Field(min_length=1)
    links: dict[str, Link] = Field(default_factory=dict)
    entry: str
    classification: Classification = Field(default_factory=Classification)
    audit: Audit | None = None
    load: StackLoad | None = None
    metrics: list[MetricsSource] | None = None
    fault_proxy: FaultProxyConfig | None = None
    # The slowest answer a user of this system will accept: answers slower than it are "too slow"
    # (the `slow` expectation, and ungraceful in a matrix cell). None: the load's client timeout.
    deadline: Duration | None = None

    _source: Path | None = PrivateAttr(default=None)
    # client->ENTRY links the file declares to fix their port: the runner still makes them
    _edge_listen: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _edges_declared(self) -> "Stack":
        for key in [k for k in self.links if k.startswith(f"{EDGE_FROM}->")]:
            link = self.links.pop(key)
            if link.listen is not None:
                self._edge_listen[key] = str(link.listen_address())
        return self

    def edge_listen(self, name: str) -> str | None:
        """The fixed listen address of an edge link (client->ENTRY), if the file gives one."""
        return self._edge_listen.get(name)

    @model_validator(mode="after")
    def _link_ends_from_keys(self) -> "Stack":
        for key, link in self.links.items():
            m = LINK_KEY.match(key)
            if m:
                link.from_ = link.from_ or m.group("from")
                link.to = link.to or m.group("to")
        return self

    @property
    def source(self) -> Path | None:
        """The file this stack was read from (None when built in code)."""
        return self._source

    @property
    def stack_dir(self) -> Path | None:
        """Folder of the stack file: relative paths in it are relative to this."""
        return self._source.parent if self._source else None

    def link_names(self) -> list[str]:
        return list(self.links)

    def entry_instances(self) -> list[str]:
        """The entry service's instances, by name: lending, lending#1, ..."""
        replicas = self.services[self.entry].replicas if self.entry in self.services else 1
        return [instance_name(self.entry, i) for i in range(replicas)]

    def edge_links(self) -> list[str]:
        """The links the runner adds: the load's way in, one per entry instance."""
        return [f"{EDGE_FROM}->{name}" for name in self.entry_instances()]

    def fault_links(self) -> list[str]:
        """Every link a fault may name: the stack's links and the edge links."""
        return [*self.links, *self.edge_links()]

    def with_replicas(self, replicas: dict[str, int]) -> "Stack":
        """This stack as `--replicas` runs it, so a drill is checked against the
        instances it will really have (`client->lending#2` exists only with 3).
        Names of no service are left to `check_service_options` to refuse."""
        changed = {name: n for name, n in replicas.items() if name in self.services and self.services[name].replicas != n}
        if not changed:
            return self
        services = {name: svc.model_copy(update={"replicas": changed[name]}) if name in changed else svc
                    for name, svc in self.services.items()}
        copy = self.model_copy(update={"services": services})
        copy._source = self._source
        copy._edge_listen = dict(self._edge_listen)
        return copy


# ---------------------------------------------------------------- semantic checks


def fixed_port_clashes(services: list[tuple[str, int, int]]) -> tuple[dict[int, str], list[tuple[str, str]]]:
    """Instance -> port of the services with a fixed port, and each service whose range meets another's.

    Instance i of a service with a fixed port listens on port + i, so two ranges
    must not meet: a second instance on a taken port cannot listen, while the
    first answers its health check. `services` holds (name, port, replicas).
    """
    owner: dict[int, str] = {}
    clashes: list[tuple[str, str]] = []
    for name, port, replicas in services:
        for index in range(replicas):
            inst = instance_name(name, index)
            if port + index in owner:
                clashes.append((name, f"port {port + index} (of {inst}) is also the port of {owner[port + index]}; "
                                      "instance i of a service with a fixed port listens on port + i, so give each "
                                      "service its own range"))
                break
            owner[port + index] = inst
    return owner, clashes


__all__ = [
    "Audit", "AuditEndpoint", "AuditStep", "Build", "Classification", "ClassRules", "FaultProxyConfig", "Health",
    "Link", "MetricsSource", "Service", "Stack", "StackLoad", "fixed_port_clashes",
]
