"""A stack brought to life on this machine: processes, proxies, health.

Start order follows the links: a service starts once every service it
depends on is healthy, so a service that checks its upstreams at start sees
them up. Every link, and one edge link per entry instance, is a proxy on the
fault proxy server; services are given the proxy addresses, never each
other's, so every dependency edge can be faulted.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import aiohttp

from harness.errors import ChaosdrillError, HarnessError, UsageError
from harness.proxy_client.client import FaultProxyClient, looks_like_toxiproxy_version
from harness.proxy_client.launcher import FaultProxyServer, external_url, start_builtin
from harness.stack.model import EDGE_FROM, Stack, fixed_port_clashes
from harness.stack.ports import ensure_free, free_port, reserve
from harness.stack.processes import Instance
from harness.stack.templating import TemplateContext, render
from harness.state import RunState

HOST = "127.0.0.1"


def proxy_name(link: str) -> str:
    """Proxy name on the server for a link: URL-safe, still readable."""
    return link.replace("->", "-to-").replace("#", "-")


@dataclass
class LinkRuntime:
    name: str  # "lending->credit-bureau-a"
    source: str
    target: str  # instance name
    proxy: str  # proxy name on the fault proxy server
    listen: str  # host:port the proxy listens on
    upstream: str

    @property
    def url(self) -> str:
        return f"http://{self.listen}"


@dataclass
class StackOptions:
    state_dir: Path | None = None  # None: a fresh temp dir, removed at the end
    log_dir: Path | None = None
    replicas: dict[str, int] = field(default_factory=dict)
    extra_args: dict[str, list[str]] = field(default_factory=dict)
    fault_proxy_url: str | None = None
    on_event: Callable[[str, str, dict], None] | None = None  # (type, message, data)


def check_service_options(stack: Any, extra_args: dict, replicas: dict) -> None:
    """--service-arg and --replicas must name services of this stack (checked again before any run starts)."""
    for option, services in (("--service-arg", extra_args), ("--replicas", replicas)):
        for svc in services:
            if svc not in stack.services:
                raise UsageError(f"{option}: unknown service {svc!r} in stack {stack.name}; "
                                 f"known: {', '.join(stack.services)}")


class StackRuntime:
    """Start with `await rt.start()`, always `await rt.stop()` (or `async with`)."""

    def __init__(self, stack: Stack, options: StackOptions | None = None, state: RunState | None = None) -> None:
        self.options = options or StackOptions()
        self.stack = stack.with_replicas(self.options.replicas)  # the stack as it runs: one replica count
        self.state = state
        self.instances: dict[str, list[Instance]] = {}
        self.links: dict[str, LinkRuntime] = {}
        self.edges: list[LinkRuntime] = []
        self.fault_proxy: FaultProxyServer | None = None
        self.client: FaultProxyClient | None = None
        self._own_state_dir = self.options.state_dir is None
        self._keep_logs = False  # a service failed to start: its log, named in the error, outlives the stack
        self.state_dir = Path(self.options.state_dir or tempfile.mkdtemp(prefix="chaosdrill-stack-"))
        self.log_dir = Path(self.options.log_dir or self.state_dir / "logs")
        self._stopped = False

    # ------------------------------------------------------------ lookup
    def instance(self, service: str, index: int = 0) -> Instance:
        if service not in self.instances:
            raise UsageError(f"unknown service {service!r}; known: {', '.join(self.instances)}")
        group = self.instances[service]
        if not 0 <= index < len(group):
            raise UsageError(f"service {service!r} has {len(group)} instance(s); no instance {index}")
        return group[index]

    def all_instances(self) -> list[Instance]:
        return [i for group in self.instances.values() for i in group]

    def link(self, name: str) -> LinkRuntime:
        for candidate in (self.links.get(name), *[e for e in self.edges if e.name == name]):
            if candidate is not None:
                return candidate
        known = ", ".join([*self.links, *(e.name for e in self.edges)])
        raise UsageError(f"unknown link {name!r}; known: {known}")

    @property
    def entry_urls(self) -> list[str]:
        return [e.url for e in self.edges]

    @property
    def entry_names(self) -> list[str]:
        """The entry instance behind each of entry_urls ("lending", "lending#1")."""
        return [e.target for e in self.edges]

    def describe(self) -> dict:
        """The stack as resolved, for the journal."""
        return {
            "name": self.stack.name,
            "deadline_s": getattr(self.stack, "deadline", None),
            "fault_proxy": {"url": self.client.url if self.client else None,
                             "version": self.client.version() if self.client else None,
                             "external": bool(self.fault_proxy and self.fault_proxy.external)},
            "services": {
                name: [{"instance": i.index, "url": i.url, "pid": i.pid, "argv": i.argv} for i in group]
                for name, group in self.instances.items()
            },
            "links": {
                lk.name: {"proxy": lk.proxy, "listen": lk.listen, "upstream": lk.upstream}
                for lk in [*self.links.values(), *self.edges]
            },
        }

    # ------------------------------------------------------------ start
    async def __aenter__(self) -> "StackRuntime":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def _event(self, kind: str, message: str, **data) -> None:
        if self.options.on_event:
            self.options.on_event(kind, message, data)

    async def start(self) -> None:
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.state:
            self.state.data["state_dir"] = str(self.state_dir)
            self.state.data["state_dir_owned"] = self._own_state_dir
            self.state.save()
        self._plan_instances()
        await self._start_fault_proxy()
        await asyncio.to_thread(self._create_links)
        for layer in self._start_layers():
            for inst in layer:
                inst.start()
                if self.state:
                    self.state.add_process(inst.name, inst.pid)
            try:
                await asyncio.gather(*(self._wait_healthy(i) for i in layer))
            except ChaosdrillError:  # its message names the failed service's log: keep it
                self._keep_logs = True
                raise
        self._event(
            "stack_started",
            f"{len(self.all_instances())} service instance(s) healthy in {time.monotonic() - started:.1f}s",
            services={i.name: i.url for i in self.all_instances()},
        )

    def _check_options(self) -> None:
        check_service_options(self.stack, self.options.extra_args, self.options.replicas)

    def _plan_instances(self) -> None:
        stack = self.stack
        self._check_options()
        self._check_fixed_ports()
        for name, svc in stack.services.items():
            count = svc.replicas
            group = []
            for index in range(count):
                if svc.port == "auto" or svc.port is None:
                    port = free_port(HOST)
                else:
                    port = int(svc.port) + index
                    if port > 65535:
                        raise UsageError(f"service {name}: port {svc.port} with {count} instance(s) needs ports up "
                                         f"to {int(svc.port) + count - 1}, beyond 65535; give a lower port")
                    ensure_free(port, f"service {name}")
                group.append(
                    Instance(
                        service=name,
                        index=index,
                        host=HOST,
                        port=port,
                        argv=[],
                        env={},
                        log_path=self.log_dir / f"{name}-{index}.log",
                        health_path=svc.health.path,
                    )
                )
            self.instances[name] = group

    def _check_fixed_ports(self) -> None:
        """Two instances given one fixed port fail as one line, and `auto` never picks a fixed port.

        Each instance binds its own port, so a second one on the same port could not
        listen while the health check, answered by the first, passed for both.
        """
        owner, clashes = fixed_port_clashes([(name, int(svc.port), svc.replicas)
                                             for name, svc in self.stack.services.items()
                                             if svc.port not in ("auto", None)])
        for name, problem in clashes:
            raise UsageError(f"service {name}: {problem}")
        reserve(owner)

    async def _start_fault_proxy(self) -> None:
        url = self.options.fault_proxy_url or external_url(getattr(self.stack, "fault_proxy_url", None))
        given_by = ("--fault-proxy" if self.options.fault_proxy_url
                    else "TOXIPROXY_URL" if os.environ.get("TOXIPROXY_URL") else "the stack's fault_proxy.url")
        if url:
            self.fault_proxy = FaultProxyServer(url=url)
        else:
            # The server starts in a thread that a cancellation (Ctrl-C, SIGTERM) cannot stop:
            # wait for it even then, so stop() ends the server instead of leaving it running.
            starting = asyncio.ensure_future(asyncio.to_thread(start_builtin, self.log_dir / "fault-proxy.log"))
            try:
                self.fault_proxy = await asyncio.shield(starting)
            except asyncio.CancelledError:
                try:
                    self.fault_proxy = await starting
                except Exception:
                    pass
                raise
        if self.state:
            self.state.set_fault_proxy(self.fault_proxy.url, self.fault_proxy.pid)
        self.client = FaultProxyClient(self.fault_proxy.url)
        try:
            version = await asyncio.to_thread(self.client.version)
            if self.fault_proxy.external and not looks_like_toxiproxy_version(version):
                raise UsageError(f"{given_by} {url}: /version answered {version[:60]!r}, not a Toxiproxy "
                                 f"version; is this a Toxiproxy server?")
            if self.state is not None:
                await asyncio.to_thread(self.client.use_leases, self.state.data["run_id"],
                                        float(self.state.data.get("lease_ttl", 5.0)))
        except UsageError:
            raise
        except HarnessError as exc:
            if self.fault_proxy.external:  # the address the user gave is at fault, not the harness
                raise UsageError(f"{given_by} {url}: {exc}") from None
            raise
        except Exception as exc:
            if self.fault_proxy.external:
                raise UsageError(f"{given_by} {url}: no Toxiproxy API answers there (GET /version: {type(exc).__name__})") from None
            raise HarnessError(f"fault proxy at {self.fault_proxy.url} is not answering: {exc}") from None
        self._event("fault_proxy_ready", f"fault proxy {version} at {self.fault_proxy.url}")

    def _create_links(self) -> None:
        assert self.client is not None
        for name, link in self.stack.links.items():
            target = self.instance(link.to, 0)
            self.links[name] = self._make_proxy(name, link.from_, target)
        for inst in self.instances[self.stack.entry]:
            name = f"{EDGE_FROM}->{inst.name}"
            self.edges.append(self._make_proxy(name, EDGE_FROM, inst))
        # Now every address is known: render commands and environments.
        for name, group in self.instances.items():
            svc = self.stack.services[name]
            for inst in group:
                ctx = TemplateContext(
                    host=inst.host,
                    port=inst.port,
                    instance=inst.index,
                    state_dir=str(self.state_dir),
                    link_url=lambda ln, _svc=name: self._link_url(ln, _svc),
                    service_url=lambda sn, _svc=name: self._service_url(sn, _svc),
                    extra={"stack_dir": str(self.stack.stack_dir or Path.cwd())},
                )
                where = f"stack {self.stack.name}: services.{name}"
                inst.argv = [render(a, ctx, f"{where}.command") for a in svc.command]
                inst.argv += self.options.extra_args.get(name, [])
                inst.env = {k: render(v, ctx, f"{where}.env.{k}") for k, v in svc.env.items()}

    def _make_proxy(self, name: str, source: str, target: Instance) -> LinkRuntime:
        assert self.client is not None
        pname = proxy_name(name)
        if self.state:
            self.state.add_proxy(pname)
        info = self.client.create_proxy(pname, upstream=f"{target.host}:{target.port}", listen=f"{HOST}:0")
        return LinkRuntime(name, source, target.name, pname, info.listen, info.upstream)

    def _link_url(self, name: str, service: str) -> str:
        if name not in self.links:
            raise UsageError(
                f"stack {self.stack.name}: services.{service}: unknown link {name!r}; known: {', '.join(self.links)}"
            )
        return self.links[name].url

    def _service_url(self, name: str, service: str) -> str:
        if name not in self.instances:
            raise UsageError(f"stack {self.stack.name}: services.{service}: unknown service {name!r}")
        return self.instances[name][0].url

    def _start_layers(self) -> list[list[Instance]]:
        """Instances grouped so each group's dependencies are in earlier groups."""
        deps: dict[str, set[str]] = {name: set() for name in self.instances}
        for link in self.stack.links.values():
            if link.from_ in deps and link.to != link.from_:
                deps[link.from_].add(link.to)
        layers: list[list[Instance]] = []
        done: set[str] = set()
        while len(done) < len(deps):
            ready = [n for n in deps if n not in done and deps[n] <= done]
            if not ready:  # a cycle: start the rest together
                ready = [n for n in deps if n not in done]
            layers.append([i for n in ready for i in self.instances[n]])
            done.update(ready)
        return layers

    async def _wait_healthy(self, inst: Instance) -> None:
        svc = self.stack.services[inst.service]
        timeout = float(svc.health.timeout)
        interval = float(svc.health.interval)
        tcp = inst.health_path is None  # `path: null`: a TCP connection accepted is healthy
        url = f"tcp://{inst.host}:{inst.port}" if tcp else inst.url + inst.health_path
        deadline = time.monotonic() + timeout
        last = "no answer"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                code = inst.exit_code()
                if code is not None:
                    tail = inst.log_tail(3)
                    message = (f"service {inst.name} exited with code {code} before becoming healthy"
                               + (f"; its log ({inst.log_path}) ends: {tail}" if tail else ""))
                    added = self.options.extra_args.get(inst.service)
                    if code == 2 and added:  # 2: a command line refused (argparse's and click's usage code)
                        raise UsageError(f"--service-arg {inst.service}={' '.join(added)}: {message}")
                    raise HarnessError(message)
                try:
                    if tcp:
                        _, writer = await asyncio.wait_for(asyncio.open_connection(inst.host, inst.port), 2)
                        writer.close()
                        return
                    async with session.get(url) as resp:
                        if resp.status == 200:
                            return
                        last = f"HTTP {resp.status}"
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                    last = type(exc).__name__
                await asyncio.sleep(interval)
        tail = inst.log_tail(3)
        raise HarnessError(
            f"service {inst.name} did not become healthy at {url} within {timeout:g}s (last: {last})"
            + (f"; its log ({inst.log_path}) ends: {tail}" if tail else "")
        )

    async def wait_healthy(self, inst: Instance) -> None:
        await self._wait_healthy(inst)

    # ------------------------------------------------------------ stop
    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        await asyncio.to_thread(self._stop_sync)

    def _stop_sync(self) -> None:
        for layer in reversed(self._start_layers() if self.instances else []):
            for inst in layer:
                inst.stop()
        if self.client and self.fault_proxy and self.fault_proxy.external:
            for lk in [*self.links.values(), *self.edges]:
                try:
                    self.client.delete_proxy(lk.proxy)
                except Exception:
                    pass
        if self.fault_proxy:
            self.fault_proxy.stop()
        if self._own_state_dir and not (self._keep_logs and self.log_dir.is_relative_to(self.state_dir)):
            shutil.rmtree(self.state_dir, ignore_errors=True)
        if self.state:
            self.state.remove()

    # ------------------------------------------------------------ faults on instances
    def restart_on_kill(self, service: str) -> bool:
        return bool(self.stack.services[service].restart_on_kill)

    async def restart_instance(self, inst: Instance, graceful: bool = False) -> None:
        """Stop (SIGTERM if graceful, else it is already dead), start, wait for health."""
        if inst.running():
            await asyncio.to_thread(inst.stop if graceful else inst.kill)
        inst.start()
        if self.state:
            self.state.add_process(inst.name, inst.pid)
        await self._wait_healthy(inst)

    def lease_instance_fault(self, fault: Any) -> None:
        """Hand an instance fault to the watchdog before applying it, in case this runner dies
        before reverting it: the watchdog then starts a killed instance again when the fault
        would have (its own `restart:`, else the stack's restart_on_kill)."""
        restart = getattr(fault, "restart", None)
        self.lease_process_fault(fault.fault_id, fault.kind, self.instance(fault.service, fault.index),
                                 self.restart_on_kill(fault.service) if restart is None else restart)

    def lease_process_fault(self, fault_id: str, kind: str, inst: Instance, restart: bool) -> None:
        if self.state:
            self.state.lease_process_fault(fault_id, kind, inst, restart)

    def release_process_fault(self, fault_id: str) -> None:
        if self.state:
            self.state.release_process_fault(fault_id)
