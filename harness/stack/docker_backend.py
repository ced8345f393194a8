"""The Docker backend: every service and the fault proxy as containers on a network of the run's own.

Same shape as the process backend (it is a StackRuntime with different
ways to start things), so the runner and the faults need not know which one
runs: links are proxies on the fault proxy, now a container; services reach
their dependencies only through it, by its address on the run's network
(and it reaches them by theirs, followed across restarts); the load reaches
the entry service through edge proxies published on 127.0.0.1; process
faults become container operations (kill, pause and unpause, stop and
start, restart).

Every container, network and volume carries the run's label and its owner
(host, pid, process start time), so a run removes exactly what it made on
every exit path, and `chaosdrill cleanup` removes what a killed run left.
The engine is whatever DOCKER_HOST names (a Docker daemon, or podman's
Docker-API service: see docs/docker.md).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from harness.errors import HarnessError, UsageError
from harness.proxy_client.client import FaultProxyClient
from harness.proxy_client.launcher import external_url
from harness.stack.ports import free_port
from harness.stack.processes import InstanceAddress, pid_alive, process_start_time
from harness.stack.runtime import EDGE_FROM, HOST, LinkRuntime, StackOptions, StackRuntime, proxy_name
from harness.stack.templating import TemplateContext, render
from harness.state import RunState

LABEL_RUN = "chaosdrill.run"
LABEL_OWNER = "chaosdrill.owner"  # "hostname:pid:start_time" of the runner
LABEL_ROLE = "chaosdrill.role"  # "service" | "fault-proxy" | "network" | "state"
LABEL_INSTANCE = "chaosdrill.instance"

STATE_DIR_IN_CONTAINER = "/state"
STACK_DIR_IN_CONTAINER = "/stack"
SERVICE_PORT_DEFAULT = 8080
DNS_LABEL_MAX = 63
LINK_PORT_BASE = 20000  # proxies for links listen on these ports inside the fault proxy container
EDGE_PORT_BASE = 21000  # and the edge proxies on these (published on 127.0.0.1)
TOXIPROXY_API_PORT = 8474
STATE_TTL = 0.2  # seconds a container's inspected state is reused
FAULT_PROXY_IMAGE_ENV = "CHAOSDRILL_FAULT_PROXY_IMAGE"


# ---------------------------------------------------------------- configuration


@dataclass
class FaultProxySpec:
    """Which image runs the fault proxy and how; the built-in server unless configured otherwise.

    A real Toxiproxy image (ghcr.io/shopify/toxiproxy) takes Toxiproxy's own
    flags; its API then listens on every interface of its container, and the
    harness reaches it only through the port published on 127.0.0.1.
    """

    image: str | None = None  # None: the built-in image
    command: list[str] | None = None
    api_port: int = TOXIPROXY_API_PORT

    @property
    def builtin(self) -> bool:
        return self.image is None

    def argv(self, python: str) -> list[str]:
        if self.command is not None:
            return list(self.command)
        if self.builtin:
            return [python, "-m", "harness.proxy", "--host", "0.0.0.0", "--port", str(self.api_port),
                    "--allow-non-loopback"]
        return ["-host=0.0.0.0", f"-port={self.api_port}"]  # Toxiproxy's flags


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def fault_proxy_spec(stack: Any, env: Mapping[str, str] | None = None) -> FaultProxySpec:
    """From $CHAOSDRILL_FAULT_PROXY_IMAGE, else the stack's `fault_proxy: {image, command, api_port}`."""
    env = os.environ if env is None else env
    conf = _field(stack, "fault_proxy")
    image = env.get(FAULT_PROXY_IMAGE_ENV) or _field(conf, "image")
    command = _field(conf, "command")
    api_port = _field(conf, "api_port") or TOXIPROXY_API_PORT
    if command is not None and (isinstance(command, str) or not all(isinstance(a, str) for a in command)):
        raise UsageError(f"stack {_field(stack, 'name')}: fault_proxy.command must be a list of strings")
    try:
        api_port = int(api_port)
    except (TypeError, ValueError):
        raise UsageError(f"stack {_field(stack, 'name')}: fault_proxy.api_port must be a port number") from None
    return FaultProxySpec(image=image or None, command=list(command) if command is not None else None,
                          api_port=api_port)


def owner_label() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{process_start_time(pid)}"


def owner_alive(label: str) -> bool | None:
    """True/False for an owner on this host; None when it ran elsewhere (we cannot tell)."""
    try:
        host, pid, start = label.rsplit(":", 2)
        pid_n = int(pid)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    return pid_alive(pid_n, int(start) if start.isdigit() else None)


def run_label_for(state: RunState | None) -> str:
    raw = str(state.data.get("run_id")) if state else ""
    safe = re.sub(r"[^a-zA-Z0-9_.-]+", "-", raw).strip("-.")[:40]
    return f"{safe}-{secrets.token_hex(3)}" if safe else secrets.token_hex(6)


def connect(base_url: str | None = None) -> Any:
    """A docker SDK client for DOCKER_HOST (or `base_url`), checked with a ping."""
    try:
        import docker
    except ImportError:
        raise HarnessError("backend docker needs the docker SDK: pip install 'chaosdrill[docker]'") from None
    where = base_url or os.environ.get("DOCKER_HOST") or "the default socket (unix:///var/run/docker.sock)"
    try:
        client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
        client.ping()
    except Exception as exc:
        raise HarnessError(
            f"no Docker-API engine answers at {where}: {exc}; set DOCKER_HOST (see docs/docker.md)"
        ) from None
    return client


# ---------------------------------------------------------------- instances


@dataclass
class DockerInstance(InstanceAddress):
    """One service instance as a container; the same face as processes.Instance."""

    service: str
    index: int
    container_name: str
    alias: str  # its DNS name on the run network (container names can pass DNS's 63-character limit)
    container_port: int
    port: int  # published on 127.0.0.1
    image: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    health_path: str = "/healthz"
    create_args: dict[str, Any] = field(default_factory=dict, repr=False)
    client: Any = field(default=None, repr=False)
    container: Any = field(default=None, repr=False)
    paused: bool = False
    host: str = HOST
    network: str = ""  # the run's network, where `address` is read
    on_moved: Callable[["DockerInstance"], None] | None = field(default=None, repr=False)
    address: str | None = None  # its IPv4 address on `network` while it runs
    _state_at: float = field(default=float("-inf"), repr=False)

    @property
    def internal_url(self) -> str:
        return f"http://{self.alias}:{self.container_port}"

    @property
    def id(self) -> str | None:
        return self.container.short_id if self.container is not None else None

    def _state(self) -> dict[str, Any]:
        """The container's state, fresh at most STATE_TTL old: samplers ask every second, per instance."""
        if self.container is None:
            return {}
        now = time.monotonic()
        if now - self._state_at > STATE_TTL:
            try:
                self.container.reload()
            except Exception:
                return {}
            self._state_at = now
        return self.container.attrs.get("State", {})

    def _changed(self) -> None:
        self._state_at = float("-inf")

    def refresh_address(self) -> None:
        """Read its address after it started or stopped, and say so (`on_moved`) when it changed.

        podman gives a container a new address each time it starts, so whatever
        reaches it by address must follow; a stopped container has none."""
        address = None
        self._changed()  # read the state as it is now
        if self.running():
            networks = self.container.attrs.get("NetworkSettings", {}).get("Networks") or {}
            address = (networks.get(self.network) or {}).get("IPAddress") or None
        if address != self.address:
            self.address = address
            if self.on_moved is not None:
                self.on_moved(self)

    @property
    def pid(self) -> int | None:
        """The container's main process as the host sees it (None when not running)."""
        return self._state().get("Pid") or None

    @property
    def status(self) -> str:
        return self._state().get("Status", "missing")

    def create(self) -> None:
        self.container = self.client.containers.create(
            self.image,
            command=self.argv or None,
            name=self.container_name,
            environment=self.env,
            ports={f"{self.container_port}/tcp": (HOST, self.port)},
            **self.create_args,
        )
        self._changed()

    def start(self) -> None:
        if self.container is None:
            self.create()
        status = self.status
        if status == "paused":
            self.container.unpause()
        elif status != "running":
            self.container.start()
        self._changed()
        self.paused = False
        self.refresh_address()

    def running(self) -> bool:
        return self.status in ("running", "paused")

    def exit_code(self) -> int | None:
        state = self._state()
        if not state or state.get("Status") in ("running", "paused", "created", "restarting"):
            return None
        return int(state.get("ExitCode", -1))

    def kill(self) -> None:
        """SIGKILL to the whole container, as a crash would."""
        if self.running():
            try:
                self.container.kill(signal="SIGKILL")
                self.container.wait(timeout=10)
            except Exception as exc:
                self._changed()
                if self.running():
                    raise HarnessError(f"container {self.container_name}: kill failed: {exc}") from None
        self._changed()
        self.paused = False
        self.refresh_address()

    def pause(self) -> None:
        """Freeze every process of the container (cgroup freezer): connections stay open, nothing answers."""
        if self.status == "running":
            self.container.pause()
        self._changed()
        self.paused = True

    def resume(self) -> None:
        if self.status == "paused":
            self.container.unpause()
        self._changed()
        self.paused = False

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM, SIGKILL after `grace` (unpausing first, or the signal waits)."""
        if self.status == "paused":
            self.container.unpause()
        self._changed()
        if self.running():
            self.container.stop(timeout=max(1, int(round(grace))))
        self._changed()
        self.paused = False
        self.refresh_address()

    def restart(self, grace: float = 3.0) -> None:
        if self.status == "paused":
            self.container.unpause()
        self.container.restart(timeout=max(1, int(round(grace))))
        self._changed()
        self.paused = False
        self.refresh_address()

    def logs(self) -> bytes:
        if self.container is None:
            return b""
        try:
            return self.container.logs(stdout=True, stderr=True)
        except Exception:
            return b""

    def log_tail(self, lines: int = 5) -> str:
        text = self.logs().decode(errors="replace").strip()
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class FaultProxyContainer:
    """The fault proxy's container, with the face of launcher.FaultProxyServer."""

    url: str
    instance: DockerInstance
    spec: FaultProxySpec

    external: bool = False

    @property
    def pid(self) -> int | None:
        return self.instance.pid

    def stop(self) -> None:
        self.instance.stop(grace=2)


# ---------------------------------------------------------------- the runtime


class DockerStackRuntime(StackRuntime):
    """Start with `await rt.start()`, always `await rt.stop()` (or `async with`)."""

    def __init__(self, stack: Any, options: StackOptions | None = None, state: RunState | None = None,
                 *, base_url: str | None = None, project_root: Path | None = None,
                 builtin_image: str | None = None) -> None:
        """`base_url`: the engine (default DOCKER_HOST); `builtin_image`: a tag to use instead of building."""
        super().__init__(stack, options, state)
        self.base_url = base_url
        self.project_root = project_root
        self.docker: Any = None
        self.run_label = run_label_for(state)
        self.owner = owner_label()
        self.network_name = f"chaosdrill-{self.run_label}"
        self.volume_name = f"chaosdrill-{self.run_label}-state"
        self.proxy_spec = fault_proxy_spec(stack)
        self.builtin_image = builtin_image
        self.proxy_instance: DockerInstance | None = None
        self._engine_lock = threading.Lock()
        self._edge_host_ports: list[int] = []
        self._aliases: set[str] = set()

    # ------------------------------------------------------------ labels and names
    def labels(self, role: str, **extra: str) -> dict[str, str]:
        return {LABEL_RUN: self.run_label, LABEL_OWNER: self.owner, LABEL_ROLE: role, **extra}

    def container_name(self, what: str) -> str:
        return re.sub(r"[^a-zA-Z0-9_.-]+", "-", f"cd-{self.run_label}-{what}")

    # ------------------------------------------------------------ start
    async def start(self) -> None:
        started = time.monotonic()
        try:
            await self._engine_step(self._prepare)
            await self._start_fault_proxy()
            await self._engine_step(self._create_links)
            for layer in self._start_layers():
                await asyncio.gather(*(self._engine_step(inst.start) for inst in layer))
                await asyncio.gather(*(self._wait_healthy(i) for i in layer))
        except BaseException:
            await asyncio.shield(self.stop())
            raise
        self._event(
            "stack_started",
            f"{len(self.all_instances())} service container(s) healthy in {time.monotonic() - started:.1f}s "
            f"on network {self.network_name}",
            services={i.name: i.url for i in self.all_instances()},
        )

    async def _engine_step(self, fn: Any, *args: Any) -> Any:
        """Run a blocking step that creates things on the engine, never alongside or after the removal.

        A cancelled start (Ctrl-C) leaves its thread running; the lock makes
        stop() wait for that step, and a step that starts after stop() began
        creates nothing.
        """

        import docker.errors

        def guarded() -> Any:
            with self._engine_lock:
                if self._stopped:
                    raise HarnessError(f"stack {self.stack.name} is stopping; not creating anything more")
                try:
                    return fn(*args)
                except docker.errors.APIError as exc:
                    raise HarnessError(f"docker engine refused a step of stack {self.stack.name}: "
                                       f"{exc.explanation or exc}") from None

        return await asyncio.to_thread(guarded)

    def _prepare(self) -> None:
        """Engine, run record, images, network and volume: everything before the first container."""
        external = self.options.fault_proxy_url or external_url(_field(_field(self.stack, "fault_proxy"), "url"))
        if external:
            raise UsageError(
                f"stack {self.stack.name}: backend docker runs its fault proxy as a container on the run's network, "
                f"so an external one ({external}, from --fault-proxy/TOXIPROXY_URL/fault_proxy.url) cannot reach "
                "the services; set fault_proxy.image to run a real Toxiproxy there instead"
            )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.docker = connect(self.base_url)
        engine = self.base_url or os.environ.get("DOCKER_HOST") or "default"
        if self.state:
            self.state.data["state_dir"] = str(self.state_dir)
            self.state.data["state_dir_owned"] = self._own_state_dir
            self.state.data["docker"] = {"engine": engine, "run_label": self.run_label, "faults": []}
            self.state.save()
        self._plan_instances()
        self._resolve_images()
        self.docker.volumes.create(name=self.volume_name, labels=self.labels("state"))
        self.docker.networks.create(self.network_name, driver="bridge", labels=self.labels("network"))
        self._event("docker_network", f"network {self.network_name} and volume {self.volume_name} created",
                    engine=engine, run_label=self.run_label)

    def _builtin(self) -> str:
        if self.builtin_image is None:
            from harness.stack.docker_image import builtin_image

            self.builtin_image = builtin_image(self.docker, self.project_root, self.options.on_event)
        return self.builtin_image

    def _resolve_images(self) -> None:
        import docker.errors

        wanted: dict[str, str] = {}
        for name, svc in self.stack.services.items():
            if getattr(svc, "image", None):
                wanted.setdefault(svc.image, f"stack {self.stack.name}: services.{name}.image")
        if self.proxy_spec.image:
            wanted.setdefault(self.proxy_spec.image, f"stack {self.stack.name}: fault_proxy.image")
        for image, where in wanted.items():
            try:
                self.docker.images.get(image)
            except docker.errors.ImageNotFound:
                try:
                    self.docker.images.pull(image)
                except docker.errors.APIError as exc:
                    raise UsageError(
                        f"{where}: image {image!r} is not on the engine and cannot be pulled: "
                        f"{exc.explanation or exc}"
                    ) from None
        uses_builtin = self.proxy_spec.builtin or any(
            not getattr(svc, "image", None) for svc in self.stack.services.values()
        )
        if uses_builtin:
            self._builtin()

    def dns_alias(self, what: str) -> str:
        """A name other containers resolve: one DNS label (<= 63 of a-z, 0-9, '-').

        Container names carry the run id to be unique on the engine and can be
        longer than a DNS label, and then no container can resolve them (a
        gateway's name was 71 characters and lending could not reach it).
        Aliases only need to be unique on the run's own network."""
        base = re.sub(r"[^a-z0-9-]+", "-", what.lower()).strip("-")[:DNS_LABEL_MAX] or "svc"
        alias, n = base, 1
        while alias in self._aliases:
            n += 1
            alias = f"{base[:DNS_LABEL_MAX - len(str(n)) - 1]}-{n}"
        self._aliases.add(alias)
        return alias

    def _create_args(self, role: str, alias: str, **labels: str) -> dict[str, Any]:
        return {
            "labels": self.labels(role, **labels),
            "network": self.network_name,
            "networking_config": {self.network_name: self.docker.api.create_endpoint_config(aliases=[alias])},
            "init": True,  # PID 1 that forwards SIGTERM, so stop() does not wait out its timeout
            "volumes": {self.volume_name: {"bind": STATE_DIR_IN_CONTAINER, "mode": "rw"}},
            "detach": True,
        }

    def _plan_instances(self) -> None:
        stack = self.stack
        self._check_options()
        for name, svc in stack.services.items():
            count = svc.replicas
            cport = SERVICE_PORT_DEFAULT if svc.port in (None, "auto") else int(svc.port)
            group = []
            for index in range(count):
                what = name if index == 0 else f"{name}-{index}"
                alias = self.dns_alias(what)
                group.append(DockerInstance(
                    service=name, index=index, container_name=self.container_name(what), alias=alias,
                    container_port=cport,
                    port=free_port(HOST), image="", argv=[], env={},
                    log_path=self.log_dir / f"{name}-{index}.log", health_path=svc.health.path,
                    create_args=self._create_args("service", alias, **{LABEL_INSTANCE: f"{name}#{index}"}),
                    network=self.network_name, on_moved=self._follow,
                ))
            self.instances[name] = group

    async def _start_fault_proxy(self) -> None:
        spec = self.proxy_spec
        image = spec.image or self._builtin()
        python = _python_in_image()
        inst = DockerInstance(
            service="fault-proxy", index=0, container_name=self.container_name("fault-proxy"),
            alias=self.dns_alias("fault-proxy"),
            container_port=spec.api_port, port=free_port(HOST), image=image, argv=spec.argv(python), env={},
            log_path=self.log_dir / "fault-proxy.log",
            client=self.docker, network=self.network_name,
        )
        # Edge proxies listen inside the proxy container; their ports are published with the API's.
        entry_count = len(self.instances[self.stack.entry])
        self._edge_host_ports = [free_port(HOST) for _ in range(entry_count)]
        inst.create_args = {**self._create_args("fault-proxy", inst.alias), "volumes": {}}
        self.proxy_instance = inst
        await self._engine_step(self._create_proxy_container, inst)
        self.fault_proxy = FaultProxyContainer(url=f"http://{HOST}:{inst.port}", instance=inst, spec=spec)
        self.client = FaultProxyClient(self.fault_proxy.url)
        version = await self._wait_proxy_api(inst)
        if self.state is not None:
            # As the process backend: faults are leased, so the server ends them if this runner dies.
            self.state.set_fault_proxy(self.fault_proxy.url, None)
            await asyncio.to_thread(self.client.use_leases, self.state.data["run_id"],
                                    float(self.state.data.get("lease_ttl", 5.0)))
        self._event("fault_proxy_ready", f"fault proxy {version} in container {inst.container_name} "
                                         f"(API on {self.fault_proxy.url})")

    def _create_proxy_container(self, inst: DockerInstance) -> None:
        ports: dict[str, Any] = {f"{inst.container_port}/tcp": (HOST, inst.port)}
        for i, host_port in enumerate(self._edge_host_ports):
            ports[f"{EDGE_PORT_BASE + i}/tcp"] = (HOST, host_port)
        inst.container = self.docker.containers.create(
            inst.image, command=inst.argv, name=inst.container_name, ports=ports, **inst.create_args
        )
        inst.container.start()
        inst.refresh_address()
        if inst.address is None:
            raise HarnessError(f"fault proxy container {inst.container_name} has no address on network "
                               f"{self.network_name} (status {inst.status}): {inst.log_tail(3) or 'no output'}")

    async def _wait_proxy_api(self, inst: DockerInstance, timeout: float = 30.0) -> str:
        assert self.client is not None
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            code = await asyncio.to_thread(inst.exit_code)
            if code is not None:
                raise HarnessError(f"fault proxy container {inst.container_name} exited with code {code}: "
                                   f"{inst.log_tail(3) or 'no output'}")
            try:
                self.client._version = None
                return await asyncio.to_thread(self.client.version)
            except Exception as exc:
                last = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            await asyncio.sleep(0.1)
        raise HarnessError(f"fault proxy container {inst.container_name} did not answer at {self.client.url} "
                           f"within {timeout:g}s (last: {last}); its log ends: {inst.log_tail(3) or 'empty'}")

    def _create_links(self) -> None:
        assert self.client is not None
        for i, (name, link) in enumerate(self.stack.links.items()):
            target = self.instance(link.to, 0)
            self.links[name] = self._make_docker_proxy(name, link.from_, target, LINK_PORT_BASE + i, None)
        for i, inst in enumerate(self.instances[self.stack.entry]):
            name = f"{EDGE_FROM}->{inst.name}"
            self.edges.append(self._make_docker_proxy(name, EDGE_FROM, inst, EDGE_PORT_BASE + i,
                                                      self._edge_host_ports[i]))
        stack_dir = _stack_dir(self.stack)
        for name, group in self.instances.items():
            svc = self.stack.services[name]
            image = getattr(svc, "image", None) or self._builtin()
            mounts = dict(group[0].create_args.get("volumes", {}))
            extra: dict[str, str] = {}
            if stack_dir is not None:
                extra["stack_dir"] = self._stack_dir_in_container(stack_dir, mounts)
            for inst in group:
                ctx = TemplateContext(
                    host="0.0.0.0", port=inst.container_port, instance=inst.index,
                    state_dir=STATE_DIR_IN_CONTAINER,
                    link_url=lambda ln, _svc=name: self._link_url(ln, _svc),
                    service_url=lambda sn, _svc=name: self._service_url(sn, _svc),
                    extra=extra,
                )
                where = f"stack {self.stack.name}: services.{name}"
                inst.argv = [render(a, ctx, f"{where}.command") for a in svc.command or []]
                inst.argv += self.options.extra_args.get(name, [])
                inst.env = {k: render(v, ctx, f"{where}.env.{k}") for k, v in svc.env.items()}
                inst.image = image
                inst.client = self.docker
                inst.create_args = {**inst.create_args, "volumes": mounts}

    def _stack_dir_in_container(self, stack_dir: Path, mounts: dict[str, Any]) -> str:
        """The stack's folder as containers see it: in /app when the built-in image holds it, else mounted."""
        from harness.stack.docker_image import APP_DIR, PROJECT_PARTS, project_root

        root = (self.project_root or project_root()).resolve()
        try:
            rel = stack_dir.resolve().relative_to(root).as_posix()
        except ValueError:
            rel = None
        if rel is not None and any(rel == part or rel.startswith(part + "/") for part in PROJECT_PARTS):
            return f"{APP_DIR}/{rel}"
        mounts[str(stack_dir.resolve())] = {"bind": STACK_DIR_IN_CONTAINER, "mode": "ro"}
        return STACK_DIR_IN_CONTAINER

    def _make_docker_proxy(self, name: str, source: str, target: DockerInstance, listen_port: int,
                           host_port: int | None) -> LinkRuntime:
        assert self.client is not None and self.proxy_instance is not None
        pname = proxy_name(name)
        if self.state:
            self.state.add_proxy(pname)
        info = self.client.create_proxy(pname, upstream=f"{target.alias}:{target.container_port}",
                                        listen=f"0.0.0.0:{listen_port}")
        listen = f"{HOST}:{host_port}" if host_port else f"{self.proxy_instance.address}:{listen_port}"
        return LinkRuntime(name, source, target.name, pname, listen, info.upstream)

    def _follow(self, inst: DockerInstance) -> None:
        """Point the proxies in front of `inst` at its new address, or at its name while it is down.

        Services reach the proxy, and the proxy its targets, by address rather
        than by name: on podman, name lookups in a container right after another
        one restarted took 10 to 40 s (aardvark-dns not answering), which a
        drill would have read as the system's own timeouts. A container that is
        down has no address; its name then fails to resolve at once, as a
        crashed container's does on Docker."""
        if self.client is None:
            return
        upstream = f"{inst.address or inst.alias}:{inst.container_port}"
        for link in [*self.links.values(), *self.edges]:
            if link.target == inst.name and link.upstream != upstream:
                self.client.set_upstream(link.proxy, upstream)
                link.upstream = upstream

    def _service_url(self, name: str, service: str) -> str:
        if name not in self.instances:
            raise UsageError(f"stack {self.stack.name}: services.{service}: unknown service {name!r}")
        return self.instances[name][0].internal_url

    def describe(self) -> dict:
        out = super().describe()
        out["backend"] = "docker"
        out["docker"] = {
            "engine": self.base_url or os.environ.get("DOCKER_HOST") or "default",
            "run_label": self.run_label,
            "network": self.network_name,
            "volume": self.volume_name,
            "fault_proxy_container": self.proxy_instance.container_name if self.proxy_instance else None,
            "fault_proxy_image": self.proxy_instance.image if self.proxy_instance else None,
        }
        for name, group in self.instances.items():
            for entry, inst in zip(out["services"][name], group):
                entry.update(container=inst.container_name, alias=inst.alias, image=inst.image,
                             internal_url=inst.internal_url)
        return out

    # ------------------------------------------------------------ stop
    def _stop_sync(self) -> None:
        """Save each container's log, then remove everything with this run's label."""
        with self._engine_lock:
            self._remove_all()

    def _remove_all(self) -> None:
        for inst in [*self.all_instances(), *([self.proxy_instance] if self.proxy_instance else [])]:
            if inst.container is None:
                continue
            try:
                inst.log_path.parent.mkdir(parents=True, exist_ok=True)
                inst.log_path.write_bytes(inst.logs())
            except OSError:
                pass
        if self.docker is not None:
            try:
                removed = remove_run(self.docker, self.run_label)
            except Exception as exc:  # the engine went away: keep the state file, `chaosdrill cleanup` retries
                self._event("docker_remove_failed", f"could not remove run {self.run_label} from the engine: {exc}; "
                                                    "`chaosdrill cleanup` will retry", error=str(exc))
                return
            failed = [r for r in removed if r.startswith("could not")]
            self._event("docker_removed", f"removed {len(removed) - len(failed)} container(s)/network(s)/volume(s) "
                                          f"of run {self.run_label}", removed=removed)
            if failed:
                return  # keep the state file so cleanup retries
        if self._own_state_dir:
            import shutil

            shutil.rmtree(self.state_dir, ignore_errors=True)
        if self.state:
            self.state.remove()

    # ------------------------------------------------------------ faults on instances
    async def restart_instance(self, inst: DockerInstance, graceful: bool = False) -> None:  # type: ignore[override]
        """Stop (graceful) or kill, start the same container again, wait for health."""
        if inst.running():
            await asyncio.to_thread(inst.stop if graceful else inst.kill)
        await asyncio.to_thread(inst.start)
        await self._wait_healthy(inst)

    def lease_process_fault(self, fault_id: str, kind: str, inst: DockerInstance,  # type: ignore[override]
                            restart: bool) -> None:
        """Recorded under state["docker"]["faults"]; `end_faults` ends them if this runner dies."""
        if self.state:
            docker_state = self.state.data.setdefault("docker", {"faults": []})
            faults = [f for f in docker_state.get("faults", []) if f["id"] != fault_id]
            faults.append({"id": fault_id, "kind": kind, "name": inst.name, "container": inst.container_name,
                           "restart": restart})
            docker_state["faults"] = faults
            self.state.save()

    def release_process_fault(self, fault_id: str) -> None:
        if self.state and "docker" in self.state.data:
            docker_state = self.state.data["docker"]
            before = len(docker_state.get("faults", []))
            docker_state["faults"] = [f for f in docker_state.get("faults", []) if f["id"] != fault_id]
            if len(docker_state["faults"]) != before:
                self.state.save()


def _python_in_image() -> str:
    """The built-in image holds this interpreter at the same path, so `{python}` needs no translation."""
    import sys

    return sys.executable


def _stack_dir(stack: Any) -> Path | None:
    for attr in ("stack_dir", "dir", "path", "source"):
        value = getattr(stack, attr, None)
        if value:
            p = Path(value)
            return p if p.is_dir() else p.parent
    return None


# ---------------------------------------------------------------- cleanup


def remove_run(client: Any, run_label: str) -> list[str]:
    """Remove every container, network and volume carrying `run_label`; returns what went."""
    return _remove_labelled(client, f"{LABEL_RUN}={run_label}")


def _remove_labelled(client: Any, label_filter: str) -> list[str]:
    done: list[str] = []
    for c in client.containers.list(all=True, filters={"label": label_filter}):
        try:
            c.remove(force=True, v=True)
            done.append(f"removed container {c.name}")
        except Exception as exc:
            done.append(f"could not remove container {c.name}: {exc}")
    for n in client.networks.list(filters={"label": label_filter}):
        try:
            n.remove()
            done.append(f"removed network {n.name}")
        except Exception as exc:
            done.append(f"could not remove network {n.name}: {exc}")
    for v in client.volumes.list(filters={"label": label_filter}):
        try:
            v.remove(force=True)
            done.append(f"removed volume {v.name}")
        except Exception as exc:
            done.append(f"could not remove volume {v.name}: {exc}")
    return done


def labelled_runs(client: Any) -> dict[str, str]:
    """run label -> owner label, for everything on the engine that a chaosdrill run made."""
    runs: dict[str, str] = {}
    for kind in (client.containers.list(all=True, filters={"label": LABEL_RUN}),
                 client.networks.list(filters={"label": LABEL_RUN}),
                 client.volumes.list(filters={"label": LABEL_RUN})):
        for obj in kind:
            labels = (obj.attrs.get("Config", {}) or {}).get("Labels") or obj.attrs.get("Labels") or {}
            if LABEL_RUN in labels:
                runs.setdefault(labels[LABEL_RUN], labels.get(LABEL_OWNER, ""))
    return runs


def cleanup_stale(client: Any | None = None, base_url: str | None = None) -> list[str]:
    """Remove what runs whose owner process (on this host) is gone left on the engine."""
    client = client or connect(base_url)
    done: list[str] = []
    for run, owner in sorted(labelled_runs(client).items()):
        if owner_alive(owner) is False:
            done.extend(f"run {run}: {action}" for action in remove_run(client, run))
    return done


def clean_state(st: RunState) -> list[str]:
    """For `chaosdrill cleanup`: remove a dead run's containers, network and volume, as its state file names them."""
    info = st.data.get("docker")
    if not info or not info.get("run_label"):
        return []
    engine = info.get("engine")
    try:
        client = connect(None if engine in (None, "default") else engine)
    except HarnessError as exc:
        return [f"could not reach the Docker engine of run {info['run_label']}: {exc}"]
    return remove_run(client, info["run_label"])


def end_faults(st: RunState) -> list[str]:
    """For the watchdog: unpause paused containers and start killed ones of a run whose runner died."""
    info = st.data.get("docker") or {}
    if not info.get("faults"):
        return []
    engine = info.get("engine")
    try:
        client = connect(None if engine in (None, "default") else engine)
    except HarnessError as exc:
        return [str(exc)]
    done: list[str] = []
    for fault in info["faults"]:
        try:
            c = client.containers.get(fault["container"])
            c.reload()
            status = c.status
            if fault["kind"] == "pause" and status == "paused":
                c.unpause()
                done.append(f"unpaused {fault['name']} ({fault['container']})")
            elif fault["kind"] in ("kill", "restart") and fault.get("restart") and status not in ("running", "paused"):
                c.start()
                done.append(f"started {fault['name']} ({fault['container']}) again")
        except Exception as exc:
            done.append(f"could not end fault {fault['id']} on {fault['container']}: {exc}")
    info["faults"] = []
    st.save()
    return done


# ---------------------------------------------------------------- choosing a backend


def make_runtime(stack: Any, options: StackOptions | None = None, state: RunState | None = None,
                 backend: str | None = None, **docker_options: Any) -> StackRuntime:
    """The runtime for `stack`: `backend` (e.g. --backend) overrides the stack's `backend:` field.

    `docker_options` (base_url, builtin_image, project_root) go to DockerStackRuntime.
    """
    chosen = backend or getattr(stack, "backend", None) or "process"
    if chosen == "process":
        return StackRuntime(stack, options, state)
    if chosen == "docker":
        return DockerStackRuntime(stack, options, state, **docker_options)
    raise UsageError(f"unknown backend {chosen!r}; known: process, docker")
