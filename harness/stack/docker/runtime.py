"""DockerStackRuntime: a stack's services and its fault proxy as containers on a network of the run's own.

The start order, health checks, links and faults are the process backend's
(harness.stack.runtime); what differs is how things start: on the engine,
under the run's labels (labels.py), every step that creates something
guarded so none runs alongside or after the removal.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, UsageError
from harness.proxy_client.client import FaultProxyClient
from harness.proxy_client.launcher import external_url
from harness.stack.docker.cleanup import lease_container_fault, release_container_fault, remove_run
from harness.stack.docker.container import SERVICE_PORT_DEFAULT, STATE_DIR_IN_CONTAINER, DockerInstance
from harness.stack.docker.engine import connect, engine_name, ensure_images
from harness.stack.docker.image import python_in_image, service_image, stack_dir, stack_dir_in_container
from harness.stack.docker.labels import LABEL_INSTANCE, RunNames, owner_label, run_label_for
from harness.stack.docker.proxy_container import (
    EDGE_PORT_BASE,
    LINK_PORT_BASE,
    FaultProxyContainer,
    follow,
    proxy_container_settings,
)
from harness.stack.ports import free_port
from harness.stack.runtime import EDGE_FROM, HOST, StackOptions, StackRuntime
from harness.stack.templating import TemplateContext, render
from harness.state import RunState


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
        self.names = RunNames(run_label_for(state), owner_label())
        self.run_label = self.names.run_label
        self.network_name = self.names.network
        self.volume_name = self.names.volume
        self.proxy_settings = proxy_container_settings(stack)
        self.builtin_image = builtin_image
        self.service_images: dict[str, str] = {}  # services with `build:`: the image built for each
        self.proxy_instance: DockerInstance | None = None
        self._engine_lock = threading.Lock()

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
        external = self.options.fault_proxy_url or external_url(self.proxy_settings.url)
        if external:
            raise UsageError(
                f"stack {self.stack.name}: backend docker runs its fault proxy as a container on the run's network, "
                f"so an external one ({external}, from --fault-proxy/TOXIPROXY_URL/fault_proxy.url) cannot reach "
                "the services; set fault_proxy.image to run a real Toxiproxy there instead"
            )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.docker = connect(self.base_url)
        engine = engine_name(self.base_url)
        if self.state:
            self.state.data["state_dir"] = str(self.state_dir)
            self.state.data["state_dir_owned"] = self._own_state_dir
            self.state.data["docker"] = {"engine": engine, "run_label": self.run_label, "faults": []}
            self.state.save()
        self._plan_instances()
        self._resolve_images()
        self.docker.volumes.create(name=self.volume_name, labels=self.names.labels("state"))
        self.docker.networks.create(self.network_name, driver="bridge", labels=self.names.labels("network"))
        self._event("docker_network", f"network {self.network_name} and volume {self.volume_name} created",
                    engine=engine, run_label=self.run_label)

    def _builtin(self) -> str:
        if self.builtin_image is None:
            from harness.stack.docker.image import builtin_image

            self.builtin_image = builtin_image(self.docker, self.project_root, self.options.on_event)
        return self.builtin_image

    def _resolve_images(self) -> None:
        """Pull the images named and missing, build the services' `build:` ones: all before any container."""
        wanted: dict[str, str] = {}
        for name, svc in self.stack.services.items():
            if getattr(svc, "image", None) and not getattr(svc, "build", None):
                wanted.setdefault(svc.image, f"stack {self.stack.name}: services.{name}.image")
        if self.proxy_settings.image:
            wanted.setdefault(self.proxy_settings.image, f"stack {self.stack.name}: fault_proxy.image")
        ensure_images(self.docker, wanted)
        for name, svc in self.stack.services.items():
            if getattr(svc, "build", None):
                self.service_images[name] = service_image(self.docker, self.stack, name, self.options.on_event)
        uses_builtin = self.proxy_settings.builtin or any(
            not getattr(svc, "image", None) and name not in self.service_images
            for name, svc in self.stack.services.items()
        )
        if uses_builtin:
            self._builtin()

    def _create_args(self, role: str, alias: str, **labels: str) -> dict[str, Any]:
        return {
            "labels": self.names.labels(role, **labels),
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
            if svc.address is not None:
                raise UsageError(f"stack {stack.name}: services.{name}.address: a service already running is "
                                 "reached by the process backend (its fault proxy runs on this machine); run "
                                 "with --backend process, or give the service an image")
            count = svc.replicas
            cport = SERVICE_PORT_DEFAULT if svc.port in (None, "auto") else int(svc.port)
            group = []
            for index in range(count):
                what = name if index == 0 else f"{name}-{index}"
                alias = self.names.dns_alias(what)
                group.append(DockerInstance(
                    service=name, index=index, container_name=self.names.container_name(what), alias=alias,
                    container_port=cport,
                    port=free_port(HOST), image="", argv=[], env={},
                    log_path=self.log_dir / f"{name}-{index}.log", health_path=svc.health.path,
                    create_args=self._create_args("service", alias, **{LABEL_INSTANCE: f"{name}#{index}"}),
                    network=self.network_name, on_moved=self._follow,
                ))
            self.instances[name] = group

    async def _start_fault_proxy(self) -> None:
        settings = self.proxy_settings
        image = settings.image or self._builtin()
        inst = DockerInstance(
            service="fault-proxy", index=0, container_name=self.names.container_name("fault-proxy"),
            alias=self.names.dns_alias("fault-proxy"),
            container_port=settings.api_port, port=free_port(HOST), image=image,
            argv=settings.argv(python_in_image()), env={}, log_path=self.log_dir / "fault-proxy.log",
            client=self.docker, network=self.network_name,
        )
        # Edge proxies listen inside the proxy container; their ports are published with the API's.
        edge_host_ports = [free_port(HOST) for _ in self.instances[self.stack.entry]]
        inst.create_args = {**self._create_args("fault-proxy", inst.alias), "volumes": {}}
        self.proxy_instance = inst
        container = FaultProxyContainer(url=f"http://{HOST}:{inst.port}", instance=inst, settings=settings,
                                        edge_host_ports=edge_host_ports)
        await self._engine_step(container.create, self.docker)
        self.fault_proxy = container
        self.client = FaultProxyClient(container.url)
        version = await container.wait_for_api(self.client)
        if self.state is not None:
            # As the process backend: faults are leased, so the server ends them if this runner dies.
            self.state.set_fault_proxy(container.url, None)
            await asyncio.to_thread(self.client.use_leases, self.state.data["run_id"],
                                    float(self.state.data.get("lease_ttl", 5.0)))
        self._event("fault_proxy_ready", f"fault proxy {version} in container {inst.container_name} "
                                         f"(API on {container.url})")

    def _create_links(self) -> None:
        assert self.client is not None and isinstance(self.fault_proxy, FaultProxyContainer)
        proxies = self.fault_proxy
        fixed = self._fixed_listen_ports()
        free = (p for p in itertools.count(LINK_PORT_BASE) if p not in fixed)
        for name, link in self.stack.links.items():
            target = self.instance(link.to, 0)
            listen = getattr(link, "listen", None) or next(free)
            self.links[name] = proxies.add_proxy(self.client, self.state, name, link.from_, target, listen, None,
                                                 target_port=getattr(link, "port", None))
        for i, inst in enumerate(self.instances[self.stack.entry]):
            self.edges.append(proxies.add_proxy(self.client, self.state, f"{EDGE_FROM}->{inst.name}", EDGE_FROM,
                                                inst, EDGE_PORT_BASE + i, proxies.edge_host_ports[i]))
        folder = stack_dir(self.stack)
        for name, group in self.instances.items():
            svc = self.stack.services[name]
            image = self.service_images.get(name) or getattr(svc, "image", None) or self._builtin()
            mounts = dict(group[0].create_args.get("volumes", {}))
            extra: dict[str, str] = {}
            if folder is not None:
                extra["stack_dir"] = stack_dir_in_container(folder, self.project_root, mounts)
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
                entrypoint = getattr(svc, "entrypoint", None)
                if entrypoint is not None:
                    inst.entrypoint = [render(a, ctx, f"{where}.entrypoint") for a in entrypoint]
                inst.env = {k: render(v, ctx, f"{where}.env.{k}") for k, v in svc.env.items()}
                inst.image = image
                inst.client = self.docker
                inst.create_args = {**inst.create_args, "volumes": mounts}

    def _fixed_listen_ports(self) -> set[int]:
        """The links' own `listen:` ports in the proxy's container: each once, none on its API port
        nor on the edge proxies' (the load's way in)."""
        owner: dict[int, str] = {self.proxy_settings.api_port: "the fault proxy's API"}
        for i in range(self.stack.services[self.stack.entry].replicas):
            owner[EDGE_PORT_BASE + i] = f"edge link {EDGE_FROM}->{self.stack.entry}{f'#{i}' if i else ''}"
        for name, link in self.stack.links.items():
            port = getattr(link, "listen", None)
            if port is None:
                continue
            if not isinstance(port, int):
                raise UsageError(f"stack {self.stack.name}: links.{name}.listen {port}: on the docker backend a "
                                 "link listens on a port of the fault proxy's container; give the port alone")
            if port in owner:
                raise UsageError(f"stack {self.stack.name}: links.{name}.listen: port {port} is also the port of "
                                 f"{owner[port]} in the fault proxy's container; give each link its own")
            owner[port] = f"link {name}"
        return set(owner)

    def _follow(self, inst: DockerInstance) -> None:
        """Keep the proxies in front of `inst` pointed at it when its address changes (proxy_container.follow)."""
        if self.client is not None:
            follow(self.client, [*self.links.values(), *self.edges], inst)

    def _service_url(self, name: str, service: str) -> str:
        if name not in self.instances:
            raise UsageError(f"stack {self.stack.name}: services.{service}: unknown service {name!r}")
        return self.instances[name][0].internal_url

    def describe(self) -> dict:
        out = super().describe()
        out["backend"] = "docker"
        out["docker"] = {
            "engine": engine_name(self.base_url),
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
            inst.save_log()
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
        """Recorded in the state file (cleanup.lease_container_fault) for the watchdog, if this runner dies."""
        if self.state:
            lease_container_fault(self.state, fault_id, kind, inst, restart)

    def release_process_fault(self, fault_id: str) -> None:
        if self.state:
            release_container_fault(self.state, fault_id)
