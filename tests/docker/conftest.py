"""Fixtures (this folder has no __init__.py on purpose: as a package named `docker`
it would hide the docker SDK): a private podman Docker-API engine per session, the echo stack on it.

The engine is real (podman's Docker API, storage in a temp folder, removed
at the end); when it cannot start the tests fail with its reason, never skip.
The built-in image is built once per session (its tag is a content hash, so
later runtimes find it on the engine).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.engine.podman import PodmanService
from harness.errors import HarnessError

STACKS = Path(__file__).parent / "stacks"


@pytest.fixture(scope="session")
def engine() -> Iterator[PodmanService]:
    svc = PodmanService()
    try:
        svc.start()
    except HarnessError as exc:
        pytest.fail(f"the Docker-API engine (podman) cannot start: {exc}", pytrace=False)
    try:
        yield svc
    finally:
        svc.stop()


@pytest.fixture(scope="session")
def docker_client(engine: PodmanService) -> Iterator[Any]:
    import docker

    client = docker.DockerClient(base_url=engine.base_url, timeout=60)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def builtin_image(docker_client: Any) -> str:
    from harness.stack.docker.image import builtin_image

    return builtin_image(docker_client)


def load(name: str) -> Any:
    from harness.stack.files import load_stack

    return load_stack(STACKS / name)


@pytest.fixture(scope="session")
def load_test_stack():
    """A stack of tests/docker/stacks by file name, freshly loaded (tests may change it)."""
    return load


class Running:
    """A started DockerStackRuntime with the loop it lives on (tests are synchronous)."""

    def __init__(self, rt: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.rt = rt
        self.loop = loop
        self.events: list[tuple[str, str]] = []

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)


@pytest.fixture(scope="module")
def echo(engine: PodmanService, builtin_image: str) -> Iterator[Running]:
    from harness.stack.docker.runtime import DockerStackRuntime
    from harness.stack.runtime import StackOptions

    loop = asyncio.new_event_loop()
    events: list[tuple[str, str]] = []
    rt = DockerStackRuntime(load("echo-docker.yaml"),
                            StackOptions(on_event=lambda kind, msg, data: events.append((kind, msg))),
                            base_url=engine.base_url, builtin_image=builtin_image)
    running = Running(rt, loop)
    running.events = events
    try:
        running.run(rt.start())
        yield running
    finally:
        running.run(rt.stop())
        loop.close()
