"""The built-in lending stack, unchanged but for `backend: docker`: five service containers behind the proxy."""

from __future__ import annotations

import asyncio

import requests

from harness.stack.backends import make_runtime
from harness.stack.docker.runtime import DockerStackRuntime
from harness.stack.files import load_stack
from harness.stack.runtime import StackOptions
from harness.state import RunState


def test_lending_runs_as_containers_and_degrades_when_the_bureaus_are_cut_off(engine, builtin_image, tmp_path):
    """With a drill's long run id, as `chaosdrill run` gives: container names then pass DNS's
    63-character limit (seen: every payment failed as lending could not resolve the gateways)."""
    stack = load_stack("lending")
    state = RunState("20261123T104837Z-credit-bureau-outage", path=tmp_path / "run.json")
    state.save()
    rt = make_runtime(stack, StackOptions(), state, backend="docker", base_url=engine.base_url,
                      builtin_image=builtin_image)
    assert isinstance(rt, DockerStackRuntime)

    async def scenario() -> None:
        await rt.start()
        try:
            gateway = rt.instances["payment-gateway-primary"][0]
            assert len(gateway.container_name) > 63 and len(gateway.alias) <= 63
            entry = rt.entry_urls[0]
            quota = await asyncio.to_thread(requests.get, entry + "/v1/users/42/quota", timeout=15)
            assert quota.json()["code"] == "QUOTA_OK"
            loan = await asyncio.to_thread(requests.post, entry + "/v1/loans", timeout=15,
                                           json={"user_id": "42", "amount": 100, "request_id": "docker-1"})
            assert loan.json()["code"] == "APPROVED"
            for link in ("lending->credit-bureau-a", "lending->credit-bureau-b"):
                await asyncio.to_thread(rt.client.set_enabled, rt.link(link).proxy, False)
            cut = await asyncio.to_thread(requests.get, entry + "/v1/users/43/quota", timeout=15)
            assert stack.classification.class_of(cut.json()["code"]) == "degraded"
        finally:
            await rt.stop()

    asyncio.run(scenario())
