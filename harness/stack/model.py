"""The stack file: which services run, how they are wired, how answers are judged.

A stack is data, so the runner has no code path specific to one system: the
built-in lending platform (scenarios/stacks/lending.yaml) and a user's own
services are described the same way. Load with `load_stack(name_or_path)`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, WithJsonSchema, model_validator

from harness.errors import UsageError
from harness.schema.base import Duration, StrictModel
from harness.schema.loading import Report, read_source, validate_source
from harness.schema.names import instance_name
from harness.schema.errors import FileError
from harness.schema.placeholders import placeholder_problems
from harness.schema.suggest import unknown_name

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
            self.health = Health(path=None)  # reachable is enough unless the file says how to ask
        return self

    @model_validator(mode="after")
    def _ports_fit(self) -> "Service":
        if isinstance(self.port, int) and self.port + self.replicas - 1 > 65535:
            raise ValueError(f"port {self.port} with {self.replicas} replicas needs ports up to "
                             f"{self.port + self.replicas - 1}, beyond 65535")
        return self


class Link(StrictModel):
    """A proxied dependency edge; from/to default to the two sides of its key "from->to"."""

    from_: str | None = Field(None, alias="from")
    to: str | None = None
    description: str = ""
    # A fixed port for the link's proxy on 127.0.0.1, so a system started outside chaosdrill can be
    # pointed at it once and drilled again and again; None: a free port picked at each start.
    # Docker backend: the port inside the fault proxy's container, on the run's network.
    listen: Annotated[int, Field(ge=1, le=65535)] | None = None
    # Docker backend: the port of TO the proxy forwards to, when TO listens on more than one
    # (FROM->TO#9000); None: TO's own port.
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


def _check_stack(data: dict[str, Any], report: Report) -> None:
    services = data.get("services") if isinstance(data.get("services"), dict) else {}
    names = list(services)
    links = data.get("links") if isinstance(data.get("links"), dict) else {}
    entry = data.get("entry")
    if isinstance(entry, str) and services and entry not in services:
        report(("entry",), unknown_name("service", entry, names))

    for key, body in links.items():
        body = body if isinstance(body, dict) else {}
        m = LINK_KEY.match(str(key))
        if not m:
            report(("links", key), f"a link is named 'FROM->TO' (e.g. 'api->db'), got '{key}'")
            continue
        if m.group("from") == EDGE_FROM and EDGE_FROM not in services:
            report(("links", key), f"links from '{EDGE_FROM}' are made by the runner (the load's way in to the "
                   f"entry service); name the entry with `entry:` instead")
            continue
        for side, group in (("from", "from"), ("to", "to")):
            given = body.get(side)
            if given is not None and not isinstance(given, str):
                continue
            value = given or m.group(group)
            if given and given != m.group(group):
                report(("links", key, side), f"'{given}' does not match the link name '{key}' ({side} is '{m.group(group)}')")
            elif services and value not in services:
                report(("links", key, side) if given else ("links", key), unknown_name("service", value, names))

    backend = data.get("backend", "process")
    for key, body in links.items():
        if backend == "process" and isinstance(body, dict) and "port" in body:
            report(("links", key, "port"), "the process backend forwards a link to its target's own port; "
                                           "a port here is the docker backend's")
    for name, svc in services.items():
        if not isinstance(svc, dict):
            continue
        if backend == "process" and "command" not in svc and "address" not in svc:
            report(("services", name), "a service of the process backend needs a command (or an address, "
                                       "when it is already running)")
        if backend == "process" and "entrypoint" in svc:
            report(("services", name, "entrypoint"), "an image's entrypoint is the docker backend's; a process "
                                                     "runs its command")
        for key in ("entrypoint", "command"):
            argv = svc.get(key)
            for i, arg in enumerate(argv) if isinstance(argv, list) else ():
                if isinstance(arg, str):
                    for problem in placeholder_problems(arg, links, names):
                        report(("services", name, key, i), problem)
        env = svc.get("env")
        if isinstance(env, dict):
            for k, v in env.items():
                if isinstance(v, str):
                    for problem in placeholder_problems(v, links, names):
                        report(("services", name, "env", k), problem)

    fixed = []
    for name, svc in services.items() if backend != "docker" else ():  # a container has its own ports
        port, replicas = (svc.get("port"), svc.get("replicas", 1)) if isinstance(svc, dict) else (None, 1)
        if not isinstance(port, bool) and isinstance(port, int) and isinstance(replicas, int) and replicas >= 1:
            fixed.append((name, port, replicas))
    for name, problem in fixed_port_clashes(fixed)[1]:
        report(("services", name, "port"), problem)

    def check_service(loc: tuple, value: Any) -> None:
        if isinstance(value, str) and services and value not in services:
            report(loc, unknown_name("service", value, names))

    audit = data.get("audit")
    if isinstance(audit, dict):
        if isinstance(audit.get("plugin"), str):
            from harness.invariants import plugins

            known = plugins()
            if audit["plugin"] not in known:
                report(("audit", "plugin"), unknown_name("invariant plugin", audit["plugin"], known))
        for ep_name, ep in (audit.get("endpoints") or {}).items() if isinstance(audit.get("endpoints"), dict) else ():
            if isinstance(ep, dict):
                check_service(("audit", "endpoints", ep_name, "service"), ep.get("service"))
        for i, step in enumerate(audit.get("before") or []) if isinstance(audit.get("before"), list) else ():
            if isinstance(step, dict):
                check_service(("audit", "before", i, "service"), step.get("service"))
    metrics = data.get("metrics")
    if isinstance(metrics, list):
        for i, src in enumerate(metrics):
            if isinstance(src, dict):
                check_service(("metrics", i, "service"), src.get("service"))

    classification = data.get("classification")
    classes = classification.get("classes") if isinstance(classification, dict) else None
    if isinstance(classes, dict):
        owner: dict[str, str] = {}
        for cls in OUTCOME_CLASSES:
            codes = classes.get(cls)
            if not isinstance(codes, list):
                continue
            for i, code in enumerate(codes):
                if not isinstance(code, str):  # the structural pass reports it (a list item may be a mapping)
                    continue
                if code in owner:
                    report(("classification", "classes", cls, i),
                           f"code '{code}' is already in class '{owner[code]}'; a code has one class")
                else:
                    owner[code] = cls
        retry = classification.get("retry_after_required")
        if isinstance(retry, list):
            for i, code in enumerate(retry):
                if isinstance(code, str) and code not in owner:
                    report(("classification", "retry_after_required", i), unknown_name("code", code, owner))


# ---------------------------------------------------------------- loading


def builtin_stacks() -> list[str]:
    return sorted(p.stem for p in BUILTIN_STACK_DIR.glob("*.yaml"))


def resolve_stack_path(ref: str | Path, base_dir: Path | None = None) -> Path:
    """A stack reference as a file: a path (relative to base_dir) or a built-in name.

    A name (no slash, no .yaml) is looked up in `base_dir/stacks/` first, so a
    user's scenarios folder can keep its own stacks, then in the built-in
    scenarios/stacks/.
    """
    text = str(ref)
    looks_like_path = isinstance(ref, Path) or "/" in text or "\\" in text or text.endswith((".yaml", ".yml"))
    if looks_like_path:
        path = Path(text).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return path
    candidates = ([base_dir / "stacks" / f"{text}.yaml"] if base_dir is not None else []) + [
        BUILTIN_STACK_DIR / f"{text}.yaml"
    ]
    for path in candidates:
        if path.is_file():
            return path
    raise UsageError(f"{unknown_name('stack', text, builtin_stacks())}; or give the path of a stack file")


def validate_stack_file(path: Path) -> tuple[Stack | None, list]:
    """The stack (None if invalid) and every issue in the file, for `validate`."""
    try:
        source = read_source(path)
    except FileError as exc:
        return None, exc.issues
    stack, issues = validate_source(source, Stack, semantic=_check_stack)
    if stack is not None:
        stack._source = path.resolve()
        issues = _resolve_locustfile(stack, source)
        if issues:
            stack = None
    return stack, sorted(issues, key=lambda i: i.line)


def _resolve_locustfile(stack: Stack, source: Any) -> list:
    from harness.schema.errors import issue_at
    from harness.schema.locustfiles import locustfile_problem

    if stack.load is None or stack.load.locustfile.startswith(BUILTIN_LOCUSTFILE_PREFIX):
        return []
    path = Path(stack.load.locustfile).expanduser()
    if not path.is_absolute():
        path = (stack.stack_dir or Path.cwd()) / path
    if not path.is_file():
        return [issue_at(source, ("load", "locustfile"), f"no such file: {path}")]
    problem = locustfile_problem(path)
    if problem:
        return [issue_at(source, ("load", "locustfile"), problem)]
    stack.load.locustfile = str(path.resolve())
    return []


def load_stack(path_or_name: str | Path, base_dir: Path | None = None) -> Stack:
    """A validated stack from a built-in name ("lending") or a file path.

    Raises FileError (a UsageError: exit 2) listing every problem as
    `file:LINE field: message`.
    """
    path = resolve_stack_path(path_or_name, base_dir)
    stack, issues = validate_stack_file(path)
    if issues or stack is None:
        raise FileError(issues)
    return stack


__all__ = [
    "Audit", "AuditEndpoint", "AuditStep", "Classification", "ClassRules", "FaultProxyConfig", "Health",
    "Link", "MetricsSource", "Service", "Stack", "StackLoad", "builtin_stacks", "load_stack",
    "resolve_stack_path", "validate_stack_file",
]
