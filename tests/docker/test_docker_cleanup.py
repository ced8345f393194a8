"""Nothing a run made stays on the engine: after stop, after a failed start, after the runner died."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from harness.errors import HarnessError, UsageError
from harness.stack.docker.cleanup import clean_state, cleanup_stale, labelled_runs
from harness.stack.docker.labels import LABEL_OWNER, LABEL_ROLE, LABEL_RUN, owner_label
from harness.stack.docker.runtime import DockerStackRuntime
from harness.stack.runtime import StackOptions
from harness.state import RunState


def leftovers(client, run_label: str) -> list[str]:
    f = {"label": f"{LABEL_RUN}={run_label}"}
    return ([f"container {c.name}" for c in client.containers.list(all=True, filters=f)]
            + [f"network {n.name}" for n in client.networks.list(filters=f)]
            + [f"volume {v.name}" for v in client.volumes.list(filters=f)])


def test_stop_removes_every_container_network_and_volume_of_the_run(engine, docker_client, builtin_image, load_test_stack, tmp_path):
    state = RunState("cleanup-test", path=tmp_path / "run.json")
    state.save()
    rt = DockerStackRuntime(load_test_stack("echo-docker.yaml"), StackOptions(log_dir=tmp_path / "logs"), state,
                            base_url=engine.base_url, builtin_image=builtin_image)

    async def scenario() -> list[str]:
        await rt.start()
        try:
            made = leftovers(docker_client, rt.run_label)
            assert state.data["docker"]["run_label"] == rt.run_label
            rt.instance("back").kill()  # a container left dead by a fault is removed as well
            rt.instance("front").pause()  # and a paused one
            return made
        finally:
            await rt.stop()

    made = asyncio.run(scenario())
    assert len([m for m in made if m.startswith("container")]) == 3  # back, front, fault proxy
    assert any(m.startswith("network") for m in made) and any(m.startswith("volume") for m in made)
    assert leftovers(docker_client, rt.run_label) == []
    assert not state.path.exists()
    # Each container's log is kept after the container went.
    assert (tmp_path / "logs" / "back-0.log").exists()
    assert "listening on" in (tmp_path / "logs" / "fault-proxy.log").read_text()


def test_a_failed_start_leaves_nothing(engine, docker_client, builtin_image, load_test_stack):
    stack = load_test_stack("echo-docker.yaml")
    stack.services["back"].command.append("--fail-start")
    rt = DockerStackRuntime(stack, StackOptions(), base_url=engine.base_url, builtin_image=builtin_image)
    with pytest.raises(HarnessError, match="back exited with code 2 .*refusing to start"):
        asyncio.run(rt.start())
    assert leftovers(docker_client, rt.run_label) == []


def test_cleanup_removes_what_a_dead_runner_left_and_spares_live_runs(engine, docker_client, builtin_image, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_owner = owner_label().rsplit(":", 2)[0] + f":{dead.stdout.strip()}:1"
    for run, owner in (("deadrun", dead_owner), ("liverun", owner_label())):
        labels = {LABEL_RUN: run, LABEL_OWNER: owner, LABEL_ROLE: "service"}
        docker_client.networks.create(f"chaosdrill-{run}", labels=labels)
        docker_client.volumes.create(name=f"chaosdrill-{run}-state", labels=labels)
        docker_client.containers.create(builtin_image, ["/bin/sleep", "60"], name=f"cd-{run}-x", labels=labels,
                                        network=f"chaosdrill-{run}")
    try:
        done = cleanup_stale(docker_client)
        assert leftovers(docker_client, "deadrun") == []
        assert any("cd-deadrun-x" in d for d in done)
        assert "liverun" in labelled_runs(docker_client)
        assert len(leftovers(docker_client, "liverun")) == 3
    finally:
        # A state file names the run: `chaosdrill cleanup` removes it that way too.
        st = RunState("liverun", path=tmp_path / "liverun.json")
        st.data["docker"] = {"engine": engine.base_url, "run_label": "liverun"}
        done = clean_state(st)
    assert leftovers(docker_client, "liverun") == []
    assert sum("removed" in d for d in done) == 3


def test_an_interrupted_start_leaves_nothing(engine, docker_client, builtin_image, load_test_stack):
    """Ctrl-C while services come up: the runner cancels start(), then stop() must still remove all."""
    ready = asyncio.Event()

    def on_event(kind, message, data):
        if kind == "fault_proxy_ready":
            ready.set()

    rt = DockerStackRuntime(load_test_stack("echo-docker.yaml"), StackOptions(on_event=on_event),
                            base_url=engine.base_url, builtin_image=builtin_image)

    async def scenario() -> list[str]:
        task = asyncio.create_task(rt.start())
        await asyncio.wait_for(ready.wait(), 30)
        made = leftovers(docker_client, rt.run_label)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await rt.stop()
        return made

    made = asyncio.run(scenario())
    assert any(m.startswith("container") for m in made)  # it was interrupted midway, not before it began
    assert leftovers(docker_client, rt.run_label) == []


def test_an_external_fault_proxy_is_refused_before_anything_is_made(engine, docker_client, builtin_image,
                                                                   load_test_stack):
    rt = DockerStackRuntime(load_test_stack("echo-docker.yaml"), StackOptions(fault_proxy_url="http://127.0.0.1:1"),
                            base_url=engine.base_url, builtin_image=builtin_image)
    with pytest.raises(UsageError, match="set fault_proxy.image"):
        asyncio.run(rt.start())
    assert leftovers(docker_client, rt.run_label) == []
