"""The fault proxy's container: which image runs it and how, starting it, and the proxies on it.

Links and edges are proxies inside this container: the ones for links listen
on the run's network, the edge proxies on ports published on 127.0.0.1 for
the load. Each proxy reaches its target container by address, followed
across restarts.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from harness.errors import HarnessError, UsageError
from harness.proxy_client.client import FaultProxyClient
from harness.stack.docker.container import DockerInstance
from harness.stack.runtime import HOST, LinkRuntime, proxy_name
from harness.state import RunState

TOXIPROXY_API_PORT = 8474
FAULT_PROXY_IMAGE_ENV = "CHAOSDRILL_FAULT_PROXY_IMAGE"
LINK_PORT_BASE = 20000  # proxies for links listen on these ports inside the fault proxy container
EDGE_PORT_BASE = 21000  # and the edge proxies on these (published on 127.0.0.1)


@dataclass
class ProxyContainerSettings:
    """Which image runs the fault proxy and how; the built-in server unless configured otherwise.

    A real Toxiproxy image (ghcr.io/shopify/toxiproxy) takes Toxiproxy's own
    flags; its API then listens on every interface of its container, and the
    harness reaches it only through the port published on 127.0.0.1.
    """

    image: str | None = None  # None: the built-in image
    command: list[str] | None = None
    api_port: int = TOXIPROXY_API_PORT
    url: str | None = None  # fault_proxy.url as given: an external proxy, which this backend refuses

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


def proxy_container_settings(stack: Any, env: Mapping[str, str] | None = None) -> ProxyContainerSettings:
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
    return ProxyContainerSettings(image=image or None, command=list(command) if command is not None else None,
                                  api_port=api_port, url=_field(conf, "url"))


@dataclass
class FaultProxyContainer:
    """The fault proxy's container, with the face of launcher.FaultProxyServer."""

    url: str
    instance: DockerInstance
    settings: ProxyContainerSettings
    edge_host_ports: list[int] = field(default_factory=list)  # one per entry instance, in its order

    external: bool = False

    @property
    def pid(self) -> int | None:
        return self.instance.pid

    def stop(self) -> None:
        self.instance.stop(grace=2)

    def create(self, docker: Any) -> None:
        """Create and start the container, its API and the edge proxies' ports published on 127.0.0.1."""
        inst = self.instance
        ports: dict[str, Any] = {f"{inst.container_port}/tcp": (HOST, inst.port)}
        for i, host_port in enumerate(self.edge_host_ports):
            ports[f"{EDGE_PORT_BASE + i}/tcp"] = (HOST, host_port)
        inst.container = docker.containers.create(
            inst.image, command=inst.argv, name=inst.container_name, ports=ports, **inst.create_args
        )
        inst.container.start()
        inst.refresh_address()
        if inst.address is None:
            raise HarnessError(f"fault proxy container {inst.container_name} has no address on network "
                               f"{inst.network} (status {inst.status}): {inst.log_tail(3) or 'no output'}")

    async def wait_for_api(self, client: FaultProxyClient, timeout: float = 30.0) -> str:
        """The proxy's version, once its API answers; an error naming its log when it exits or stays silent."""
        inst = self.instance
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            code = await asyncio.to_thread(inst.exit_code)
            if code is not None:
                raise HarnessError(f"fault proxy container {inst.container_name} exited with code {code}: "
                                   f"{inst.log_tail(3) or 'no output'}")
            try:
                client._version = None
                return await asyncio.to_thread(client.version)
            except Exception as exc:
                last = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            await asyncio.sleep(0.1)
        raise HarnessError(f"fault proxy container {inst.container_name} did not answer at {client.url} "
                           f"within {timeout:g}s (last: {last}); its log ends: {inst.log_tail(3) or 'empty'}")

    def add_proxy(self, client: FaultProxyClient, state: RunState | None, name: str, source: str,
                  target: DockerInstance, listen_port: int, host_port: int | None,
                  target_port: int | None = None) -> LinkRuntime:
        """A proxy for link `name` listening on `listen_port` in the container (published on `host_port`),
        forwarding to `target_port` of the target (default: its service's port)."""
        pname = proxy_name(name)
        if state:
            state.add_proxy(pname)
        info = client.create_proxy(pname, upstream=f"{target.alias}:{target_port or target.container_port}",
                                   listen=f"0.0.0.0:{listen_port}")
        listen = f"{HOST}:{host_port}" if host_port else f"{self.instance.address}:{listen_port}"
        return LinkRuntime(name, source, target.name, pname, listen, info.upstream)


def follow(client: FaultProxyClient, links: Iterable[LinkRuntime], inst: DockerInstance) -> None:
    """Point the proxies in front of `inst` at its new address, or at its name while it is down.

    Services reach the proxy, and the proxy its targets, by address rather
    than by name: on podman, name lookups in a container right after another
    one restarted took 10 to 40 s (aardvark-dns not answering), which a
    drill would have read as the system's own timeouts. A container that is
    down has no address; its name then fails to resolve at once, as a
    crashed container's does on Docker. Each proxy keeps its own port of the target (a link may go to
    another port than the service's)."""
    for link in links:
        if link.target != inst.name:
            continue
        upstream = f"{inst.address or inst.alias}:{link.upstream.rsplit(':', 1)[1]}"
        if link.upstream != upstream:
            client.set_upstream(link.proxy, upstream)
            link.upstream = upstream
