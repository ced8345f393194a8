"""A user's stack names its own images; a missing one stops the run naming the field."""

from __future__ import annotations

import asyncio

import pytest
import requests

from harness.errors import UsageError
from harness.stack.docker.labels import LABEL_RUN
from harness.stack.docker.runtime import DockerStackRuntime
from harness.stack.runtime import StackOptions


def test_a_service_runs_from_the_image_its_stack_names(engine, docker_client, builtin_image, load_test_stack):
    docker_client.images.get(builtin_image).tag("localhost/team/echo", "1.0")
    stack = load_test_stack("echo-docker.yaml")
    stack.services["back"].image = "localhost/team/echo:1.0"
    rt = DockerStackRuntime(stack, StackOptions(), base_url=engine.base_url, builtin_image=builtin_image)

    async def scenario() -> None:
        await rt.start()
        try:
            back = docker_client.containers.get(rt.instance("back").container_name)
            front = docker_client.containers.get(rt.instance("front").container_name)
            assert back.attrs["Config"]["Image"].endswith("team/echo:1.0")
            assert front.attrs["Config"]["Image"].endswith(builtin_image)
            resp = await asyncio.to_thread(requests.get, rt.entry_urls[0] + "/hello", timeout=5)
            assert resp.json()["code"] == "OK"
        finally:
            await rt.stop()

    asyncio.run(scenario())


def test_an_image_the_engine_cannot_get_is_a_usage_error(engine, docker_client, builtin_image, load_test_stack):
    stack = load_test_stack("echo-docker.yaml")
    stack.services["back"].image = "localhost:1/nowhere/missing:1"  # no registry answers there
    rt = DockerStackRuntime(stack, StackOptions(), base_url=engine.base_url, builtin_image=builtin_image)
    with pytest.raises(UsageError, match=r"services\.back\.image: image 'localhost:1/nowhere/missing:1'"):
        asyncio.run(rt.start())
    assert docker_client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={rt.run_label}"}) == []
