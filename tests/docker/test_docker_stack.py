"""The echo stack as containers: health, placement, and every fault kind changing what a client sees."""

from __future__ import annotations

import time

import requests

from harness.faults.link_down import LinkDown
from harness.faults.process_kill import ProcessKill
from harness.faults.process_pause import ProcessPause
from harness.faults.process_restart import ProcessRestart
from harness.faults.toxic import ToxicFault


def hello(rt, timeout: float = 5.0) -> tuple[int, str]:
    resp = requests.get(rt.entry_urls[0] + "/hello", timeout=timeout)
    return resp.status_code, resp.json()["code"]


def network_address(docker_client, rt, inst) -> str:
    """The container's address on the run's network, as the engine reports it now."""
    return docker_client.api.inspect_container(inst.container_name)["NetworkSettings"]["Networks"][
        rt.network_name]["IPAddress"]


def test_services_and_proxy_are_containers_on_the_run_network(echo, docker_client):
    rt = echo.rt
    desc = rt.describe()
    assert desc["backend"] == "docker"
    net = docker_client.networks.get(rt.network_name)
    attached = {c.name for c in docker_client.containers.list(filters={"network": net.name})}
    expected = {i.container_name for i in rt.all_instances()} | {rt.proxy_instance.container_name}
    assert expected <= attached
    for inst in rt.all_instances():
        assert inst.status == "running"
        assert requests.get(inst.url + "/healthz", timeout=3).status_code == 200
        ports = docker_client.api.inspect_container(inst.container_name)["HostConfig"]["PortBindings"]
        assert all(b["HostIp"] == "127.0.0.1" for bindings in ports.values() for b in bindings)
    # front reaches back only through the fault proxy container, both by address on the run's network
    # (no name lookups on the way: podman's DNS stalls for seconds right after a restart).
    front = rt.instance("front")
    dep = front.argv[front.argv.index("--dep") + 1]
    assert dep == f"http://{network_address(docker_client, rt, rt.proxy_instance)}:" \
                  f"{rt.link('front->back').listen.split(':')[1]}"
    assert rt.link("front->back").upstream == f"{network_address(docker_client, rt, rt.instance('back'))}:8080"
    assert rt.client.proxies()[rt.link("front->back").proxy].upstream == rt.link("front->back").upstream
    aliases = docker_client.api.inspect_container(rt.instance("back").container_name)[
        "NetworkSettings"]["Networks"][rt.network_name]["Aliases"]
    assert "back" in aliases  # {service:back} and a stopped back are reached by name
    # The load enters through the edge proxy, published on loopback.
    assert rt.entry_urls[0].startswith("http://127.0.0.1:")
    assert hello(rt) == (200, "OK")
    assert rt.client.is_builtin


def test_link_down_and_latency_act_inside_the_proxy_container(echo):
    rt = echo.rt
    down = LinkDown("front->back", "f-down")
    echo.run(down.apply(rt))
    try:
        assert hello(rt) == (503, "DEP_DOWN")
    finally:
        echo.run(down.revert(rt))
    assert hello(rt) == (200, "OK")

    slow = ToxicFault("front->back", "latency", "f-lat", attributes={"latency": 120})
    echo.run(slow.apply(rt))
    try:
        started = time.monotonic()
        assert hello(rt) == (200, "OK")  # 120 ms is within front's 300 ms deadline...
        assert time.monotonic() - started >= 0.12  # ...but the answer waits for it
    finally:
        echo.run(slow.revert(rt))
    too_slow = ToxicFault("front->back", "latency", "f-lat2", attributes={"latency": 800})
    echo.run(too_slow.apply(rt))
    try:
        assert hello(rt) == (503, "DEP_DOWN")  # past the deadline: front degrades
    finally:
        echo.run(too_slow.revert(rt))
    assert hello(rt) == (200, "OK")


def test_edge_link_down_cuts_the_load_off(echo):
    rt = echo.rt
    down = LinkDown("client->front", "f-edge")
    echo.run(down.apply(rt))
    try:
        try:
            requests.get(rt.entry_urls[0] + "/hello", timeout=2)
            reached = True
        except requests.RequestException:
            reached = False
        assert not reached
    finally:
        echo.run(down.revert(rt))
    assert hello(rt) == (200, "OK")


def test_pause_freezes_the_container_until_reverted(echo):
    rt = echo.rt
    back = rt.instance("back")
    fault = ProcessPause("back", 0, "f-pause")
    echo.run(fault.apply(rt))
    try:
        assert back.status == "paused" and back.running()
        assert hello(rt) == (503, "DEP_DOWN")  # connection accepted by the proxy, no answer: timeout
    finally:
        echo.run(fault.revert(rt))
    assert back.status == "running"
    assert hello(rt) == (200, "OK")


def test_kill_is_a_container_crash_and_revert_restarts_it(echo):
    rt = echo.rt
    back = rt.instance("back")
    old_pid = back.pid
    fault = ProcessKill("back", 0, "f-kill")
    echo.run(fault.apply(rt))
    assert not back.running()
    assert back.exit_code() == 137  # SIGKILL
    assert hello(rt) == (503, "DEP_DOWN")
    result = echo.run(fault.revert(rt))
    assert result.startswith("restarted")
    assert back.running() and back.pid != old_pid
    assert hello(rt) == (200, "OK")


def test_proxies_follow_a_container_to_its_new_address(echo, docker_client):
    """podman starts a container again at a new address: the proxies in front of it follow (by its
    name while it is down), so no connection waits on a name lookup after the restart."""
    rt = echo.rt
    link = rt.link("front->back")
    fault = ProcessKill("back", 0, "f-moved")
    echo.run(fault.apply(rt))
    try:
        assert link.upstream == "back:8080"
        assert rt.client.proxies()[link.proxy].upstream == "back:8080"
        assert hello(rt) == (503, "DEP_DOWN")
    finally:
        echo.run(fault.revert(rt))
    address = network_address(docker_client, rt, rt.instance("back"))
    assert link.upstream == f"{address}:8080"
    assert rt.client.proxies()[link.proxy].upstream == f"{address}:8080"
    assert rt.client.proxies()[link.proxy].enabled
    echo.run(ProcessRestart("back", 0, "f-moved-2").apply(rt))
    address = network_address(docker_client, rt, rt.instance("back"))
    assert rt.client.proxies()[link.proxy].upstream == link.upstream == f"{address}:8080"
    assert hello(rt) == (200, "OK")


def test_a_down_link_stays_down_when_its_target_moves(echo):
    rt = echo.rt
    down = LinkDown("front->back", "f-down-moved")
    echo.run(down.apply(rt))
    try:
        echo.run(ProcessRestart("back", 0, "f-restart-down").apply(rt))
        assert not rt.client.proxies()[rt.link("front->back").proxy].enabled
        assert hello(rt) == (503, "DEP_DOWN")
    finally:
        echo.run(down.revert(rt))
    assert hello(rt) == (200, "OK")


def test_restart_stops_gracefully_and_comes_back_healthy(echo):
    rt = echo.rt
    back = rt.instance("back")
    old_pid = back.pid
    started = time.monotonic()
    echo.run(ProcessRestart("back", 0, "f-restart").apply(rt))
    # init=True forwards SIGTERM, so the stop does not wait out its 3 s timeout.
    assert time.monotonic() - started < 3.0
    assert back.pid != old_pid
    assert back.exit_code() is None
    assert hello(rt) == (200, "OK")


def test_faults_are_leased_like_on_the_process_backend(engine, builtin_image, load_test_stack, tmp_path):
    """With a run state, toxics carry the run's lease: the proxy container ends them if the runner dies."""
    import asyncio

    from harness.stack.docker.runtime import DockerStackRuntime
    from harness.stack.runtime import StackOptions
    from harness.state import RunState

    state = RunState("lease-test", path=tmp_path / "run.json")
    state.data["lease_ttl"] = 1.0
    state.save()
    rt = DockerStackRuntime(load_test_stack("echo-docker.yaml"), StackOptions(), state,
                            base_url=engine.base_url, builtin_image=builtin_image)

    async def scenario() -> None:
        await rt.start()
        try:
            assert rt.client.lease == {"owner": "lease-test", "ttl": 1.0}
            fault = ToxicFault("front->back", "latency", "f-leased", attributes={"latency": 800})
            await fault.apply(rt)
            assert (await asyncio.to_thread(hello, rt)) == (503, "DEP_DOWN")
            await asyncio.sleep(2.0)  # no heartbeat renews the lease: the server drops the toxic
            assert (await asyncio.to_thread(hello, rt)) == (200, "OK")
        finally:
            await rt.stop()

    asyncio.run(scenario())
