"""Each Compose service read into what a stack service can hold, and a warning for what it cannot.

Every key of a service is either read here (image, build, command,
entrypoint, environment, env_file, ports, expose, depends_on, healthcheck,
links, deploy.replicas, scale) or named in one warning line saying why it is
not carried over, so nothing a team relies on disappears without a word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from harness.schema.placeholders import PLACEHOLDER
from harness.stack.compose.health import HealthGuess, map_healthcheck
from harness.stack.compose.source import TOP_LEVEL_NOT_CARRIED, ComposeFile, Origin
from harness.stack.compose.values import PortEntry, argv, environment, parse_dotenv, port_entries, text

MAX_ENV_FILE = 1024 * 1024  # an env file is read up to 1 MiB, as YAML files are

NOT_CARRIED = {
    "restart": "chaosdrill starts a service again only after its own kill fault: restart_on_kill",
    "volumes": "services start with their image's files; {state_dir} (/state) is the run's one shared volume",
    "networks": "every service of a run is on one network of the run's own, named by its service name",
    "network_mode": "every service of a run is on one network of the run's own",
    "labels": "containers carry chaosdrill's own labels",
    "hostname": "a service is reached by its service name on the run's network",
    "container_name": "containers are named per run; other services' references to this name were rewritten",
    "init": "every container runs with an init process",
    "stop_grace_period": "chaosdrill stops a container with a 3 s grace",
    "logging": "each container's output is saved in the run's logs/ folder",
    "extends": "the service it extends is not merged in; import the merged file (docker compose config > merged.yaml)",
    "pull_policy": "an image not on the engine is pulled, else the run stops naming it",
    "secrets": "give the service the value in `env`, or bake it into its image",
    "configs": "give the service the value in `env`, or bake it into its image",
    "profiles": "the service is imported whatever the profile; remove it from the stack if a drill needs it not",
    "external_links": "only the stack's own services are reached through links",
}
GENERIC = "a stack service has no such setting"
BUILD_KEYS = ("context", "dockerfile", "args")
ONE_SHOT = "service_completed_successfully"
READ_LAST = ("env_file", "environment", "healthcheck")  # environment wins over env_file; healthcheck knows the aliases

Warn = Callable[[tuple, str], None]  # (loc below the service, message)


@dataclass
class EnvEntry:
    """One environment variable and where it was written (the Compose file, or an env_file line)."""

    value: str
    origin: Origin


@dataclass
class ComposeService:
    """What the import keeps of one Compose service."""

    name: str
    origin: Origin
    image: str | None = None
    build: dict[str, Any] | None = None  # {context: absolute Path, dockerfile, args}
    entrypoint: list[str] | None = None
    command: list[str] | None = None
    env: dict[str, EnvEntry] = field(default_factory=dict)
    ports: list[PortEntry] = field(default_factory=list)  # `ports` (container side), then `expose`
    publishes: bool = False  # has `ports`: reachable from the host
    depends_on: dict[str, Origin] = field(default_factory=dict)
    awaits_completion: dict[str, Origin] = field(default_factory=dict)  # depends_on ... service_completed_successfully
    health: HealthGuess = field(default_factory=HealthGuess)
    replicas: int = 1
    aliases: set[str] = field(default_factory=set)  # other names it is reached by (container_name, network aliases)
    link_aliases: dict[str, str] = field(default_factory=dict)  # legacy `links: [db:database]`, for this one only


def read_services(compose: ComposeFile) -> dict[str, ComposeService]:
    """Every service of the file; warnings for what is not carried over; UsageError where Compose refuses."""
    out = {name: _service(compose, name, body) for name, body in compose.services.items()}
    for svc in out.values():
        for target in [*svc.depends_on, *svc.awaits_completion]:
            if target not in out:
                raise compose.refuse(("services", svc.name, "depends_on", target),
                                     f"depends on {target!r}, which is not a service of this file")
    for key in compose.data:
        if key not in ("services", "name"):
            reason = TOP_LEVEL_NOT_CARRIED.get(key, "an extension field" if str(key).startswith("x-")
                                               else "not a Compose key chaosdrill knows")
            compose.warn((key,), f"not carried over ({reason})")
    return out


def _service(compose: ComposeFile, name: str, body: dict[str, Any]) -> ComposeService:
    svc = ComposeService(name, compose.origin("services", name))
    here = ("services", name)

    def warn(loc: tuple, message: str) -> None:
        compose.warn(here + loc, message)

    keys = [k for k in body if k not in READ_LAST] + [k for k in READ_LAST if k in body]
    for key in keys:
        try:
            _read_key(compose, svc, key, body[key], warn)
        except ValueError as exc:
            raise compose.refuse(here + (key,), str(exc)) from None
    if svc.image is None and svc.build is None:
        warn((), "has neither image nor build: it would run in chaosdrill's built-in image; give it an image")
    return svc


def _read_key(compose: ComposeFile, svc: ComposeService, key: str, value: Any, warn: Warn) -> None:
    """One key of a service: read into `svc`, or warned about."""
    if key == "image":
        svc.image = text(value)
    elif key == "build":
        svc.build = _build(compose, value, warn)
    elif key in ("command", "entrypoint"):
        args = None if value is None else argv(value)
        for i, arg in enumerate(args or []):
            if PLACEHOLDER.search(arg):
                raise ValueError(f"argument {i}, {arg!r}, holds {PLACEHOLDER.search(arg).group(0)}, which a stack "
                                 "file reads as a placeholder and cannot write as it is; change it before importing")
        setattr(svc, key, args)
    elif key == "environment":
        for k, v, where in environment(value):
            origin = compose.origin("services", svc.name, "environment", where,
                                    named=("services", svc.name, "environment", k))
            _set_env(compose, svc, k, v, origin)
    elif key == "env_file":
        _env_files(compose, svc, value)
    elif key == "ports":
        svc.publishes = bool(value)
        svc.ports[:0] = [p for item in _items(value) for p in _tcp(port_entries(item), ("ports",), warn)]
    elif key == "expose":
        svc.ports += [p for item in _items(value) for p in _tcp(port_entries(item), ("expose",), warn)]
    elif key == "depends_on":
        _depends_on(compose, svc, value, warn)
    elif key == "links":
        for item in _items(value):
            target, _, alias = text(item).partition(":")
            svc.depends_on.setdefault(target, compose.origin("services", svc.name, "links"))
            svc.link_aliases[alias or target] = target
    elif key == "healthcheck":
        svc.health = map_healthcheck(value, {svc.name, *svc.aliases}, lambda loc, msg: warn(("healthcheck", *loc), msg))
    elif key == "deploy" and isinstance(value, dict):
        for sub, sub_value in value.items():
            if sub == "replicas" and isinstance(sub_value, int) and not isinstance(sub_value, bool) and sub_value >= 1:
                svc.replicas = sub_value
            else:
                warn(("deploy", sub), f"not carried over ({GENERIC})")
    elif key == "scale" and isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        svc.replicas = value
    elif key == "container_name":
        svc.aliases.add(text(value))
        warn((key,), f"not carried over ({NOT_CARRIED[key]})")
    elif key == "networks" and isinstance(value, dict):
        for net in value.values():
            if isinstance(net, dict):
                svc.aliases.update(text(a) for a in _items(net.get("aliases")))
        warn((key,), f"not carried over ({NOT_CARRIED[key]}; its network aliases were read to find references)")
    elif str(key).startswith("x-"):
        warn((key,), "not carried over (an extension field)")
    else:
        warn((key,), f"not carried over ({NOT_CARRIED.get(key, GENERIC)})")


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [value]
    raise ValueError("expected a list")


def _tcp(entries: list[PortEntry], loc: tuple, warn: Warn) -> list[PortEntry]:
    for entry in entries:
        if entry.protocol != "tcp":
            warn(loc, f"port {entry.port}/{entry.protocol} not carried over (the fault proxy carries TCP only)")
    return [e for e in entries if e.protocol == "tcp"]


def _set_env(compose: ComposeFile, svc: ComposeService, key: str, value: str | None, origin: Origin) -> None:
    if value is None:
        compose.notes.warn(origin, "not carried over (its value comes from the shell when docker compose runs): "
                                   "give it a value in the stack's env")
        return
    clash = PLACEHOLDER.search(value)
    if clash:
        compose.notes.warn(origin, f"not carried over (it holds {clash.group(0)}, which a stack file reads as a "
                                   "placeholder): set it in the stack by hand")
        return
    svc.env[key] = EnvEntry(value, origin)


def _env_files(compose: ComposeFile, svc: ComposeService, value: Any) -> None:
    """Each env file's values (Compose's order: later files win; `environment` is read after and wins)."""
    entries = value if isinstance(value, list) else [value]
    for i, entry in enumerate(entries):
        loc = ("services", svc.name, "env_file") + ((i,) if isinstance(value, list) else ())
        spec = entry if isinstance(entry, dict) else {"path": entry}
        if not isinstance(spec.get("path"), str):
            raise compose.refuse(loc, "expected the path of an env file")
        path = compose.folder / spec["path"]
        shown = str(compose.path.parent / spec["path"])
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_ENV_FILE + 1)
        except OSError as exc:
            if spec.get("required", True) is False:
                compose.warn(loc, f"{shown}: not read ({exc.strerror or exc}); skipped, as it is not required")
                continue
            raise compose.refuse(loc, f"env file {shown}: {exc.strerror or exc}") from None
        if len(raw) > MAX_ENV_FILE:
            raise compose.refuse(loc, f"env file {shown} is larger than 1 MiB")
        for key, val, line in parse_dotenv(raw.decode("utf-8", errors="replace")):
            _set_env(compose, svc, key, val, Origin(shown, line, key))


def _build(compose: ComposeFile, value: Any, warn: Warn) -> dict[str, Any] | None:
    spec = {"context": value} if isinstance(value, str) else value
    if not isinstance(spec, dict):
        raise ValueError("expected a folder or a mapping with context, dockerfile, args")
    context = text(spec.get("context", "."))
    if "://" in context or context.startswith("git@"):
        warn(("build", "context"), "not carried over (a remote context; chaosdrill builds from a local folder): "
                                   "give the service an image instead")
        return None
    out: dict[str, Any] = {"context": (compose.folder / context).resolve(), "dockerfile": "Dockerfile", "args": {}}
    if spec.get("dockerfile") is not None:
        out["dockerfile"] = text(spec["dockerfile"])
    for key, arg, where in environment(spec.get("args") or {}):
        if arg is None:
            warn(("build", "args", where), "not carried over (its value comes from the shell when docker compose "
                                           "builds): give it a value in the stack's build.args")
        else:
            out["args"][key] = arg
    for key in spec:
        if key not in BUILD_KEYS:
            warn(("build", key), "not carried over (the docker backend builds with context, dockerfile and args)")
    return out


def _depends_on(compose: ComposeFile, svc: ComposeService, value: Any, warn: Warn) -> None:
    if not isinstance(value, dict):
        for i, target in enumerate(_items(value)):
            svc.depends_on[text(target)] = compose.origin("services", svc.name, "depends_on", i)
        return
    for target, spec in value.items():
        origin = compose.origin("services", svc.name, "depends_on", target)
        spec = spec if isinstance(spec, dict) else {}
        if spec.get("condition") == ONE_SHOT:
            svc.awaits_completion[str(target)] = origin
        else:
            svc.depends_on[str(target)] = origin  # service_started, service_healthy: a stack waits for health
        for sub in spec:
            if sub != "condition":
                warn(("depends_on", target, sub), "not carried over (a stack starts each service once the ones "
                                                  "it depends on are healthy)")
