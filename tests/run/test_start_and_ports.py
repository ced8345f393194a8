"""Start-up exit paths: nothing may be left running, and what an error names must still exist."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

from harness.stack.files import load_stack
from harness.stack.runtime import StackOptions, StackRuntime
from tests.run.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_cancelling_the_start_while_the_fault_proxy_starts_stops_the_server(tmp_path, isolated_state, monkeypatch):
    """Ctrl-C during `stack up` / `run` cancels rt.start() while the server starts in a
    thread; the server it then finishes starting must still be stopped by rt.stop()."""
    import harness.proxy_client.launcher as launcher
    import harness.proxy.process as process_mod
    import harness.stack.runtime as runtime_mod

    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        p = real_popen(*args, **kwargs)
        started.append(p)
        return p

    real_start = launcher.start_builtin

    def slow_start(*args, **kwargs):
        time.sleep(0.5)  # still starting when the cancellation comes
        return real_start(*args, **kwargs)

    monkeypatch.setattr(process_mod.subprocess, "Popen", recording_popen)
    monkeypatch.setattr(runtime_mod, "start_builtin", slow_start)
    stack = load_stack(ROOT / "tests" / "fixtures" / "stacks" / "echo.yaml")
    rt = StackRuntime(stack, StackOptions(state_dir=str(tmp_path / "s")))

    async def scenario():
        start = asyncio.create_task(rt.start())
        await asyncio.sleep(0.1)
        start.cancel()
        await asyncio.gather(start, return_exceptions=True)
        await rt.stop()

    asyncio.run(scenario())
    try:
        assert started, "the fault proxy server was never started"
        for p in started:
            assert p.poll() is not None, "the fault proxy server was left running"
    finally:
        for p in started:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_stack_up_cancelled_early_lets_the_start_wind_down_before_stopping(isolated_state, monkeypatch):
    """A Ctrl-C that lands before `stack up` installs its own handlers cancels _up itself
    (asyncio.run's handler); stop() must then wait for the start task, or a fault proxy
    server that finishes starting after stop() is left running."""
    import harness.commands.stack as stack_cmd
    import harness.stack.backends as backends

    events: list[str] = []

    class FakeRuntime:
        log_dir = isolated_state / "logs"  # what the session around it needs
        client = None
        links: dict = {}
        edges: list = []

        def all_instances(self):
            return []

        async def start(self):
            events.append("start")
            try:
                await asyncio.sleep(5)
            finally:
                events.append("start ended")

        async def stop(self):
            events.append("stop")

    monkeypatch.setattr(backends, "make_runtime", lambda *a, **k: FakeRuntime())
    stack = load_stack(ROOT / "tests" / "fixtures" / "stacks" / "echo.yaml")

    async def scenario():
        up = asyncio.create_task(stack_cmd._up(stack, {}, {}, None, None))
        while "start" not in events:
            await asyncio.sleep(0.01)
        up.cancel()
        await asyncio.gather(up, return_exceptions=True)

    asyncio.run(scenario())
    assert "stop" in events and "start ended" in events
    assert events.index("start ended") < events.index("stop"), events


def test_a_fixed_port_that_replicas_push_past_65535_is_bad_input(tmp_path, isolated_state):
    """--replicas can make a valid fixed port overflow: one line, exit 2, before anything starts
    (was an OverflowError reported as an internal error, exit 3)."""
    import pytest

    from harness.errors import UsageError

    stack_file = tmp_path / "top.yaml"
    stack_file.write_text('name: top\nentry: api\nservices:\n  api:\n'
                          '    command: ["{python}", "-m", "http.server", "{port}"]\n    port: 65535\n')
    rt = StackRuntime(load_stack(stack_file), StackOptions(state_dir=str(tmp_path / "s"), replicas={"api": 2}))
    with pytest.raises(UsageError, match="port 65535 with 2 instance"):
        rt._plan_instances()


def test_two_services_on_one_fixed_port_is_bad_input(tmp_path, isolated_state):
    """Two instances given the same fixed port (two services, or replicas running into the
    next service's port): one line, exit 2, before anything starts. It was a stack reported
    up with the second service dead, its health check answered by the first."""
    import pytest

    from harness.errors import UsageError

    stack_file = tmp_path / "clash.yaml"
    stack_file.write_text('name: clash\nentry: a\nservices:\n'
                          '  a:\n    command: ["{python}", "-m", "http.server", "{port}"]\n    port: 23400\n'
                          '  b:\n    command: ["{python}", "-m", "http.server", "{port}"]\n    port: 23401\n')
    StackRuntime(load_stack(stack_file), StackOptions(state_dir=str(tmp_path / "s")))._plan_instances()
    rt = StackRuntime(load_stack(stack_file), StackOptions(state_dir=str(tmp_path / "s2"), replicas={"a": 2}))
    with pytest.raises(UsageError, match=r"service b: port 23401 \(of b\) is also the port of a#1"):
        rt._plan_instances()


def test_auto_ports_never_take_a_fixed_port(tmp_path, isolated_state, monkeypatch):
    import harness.stack.ports as ports

    stack_file = tmp_path / "mixed.yaml"
    stack_file.write_text('name: mixed\nentry: a\nservices:\n'
                          '  a:\n    command: ["{python}", "-m", "http.server", "{port}"]\n    port: 23400\n'
                          '  b:\n    command: ["{python}", "-m", "http.server", "{port}"]\n')
    picks = iter([23400, 23999])  # the first free port drawn is a's fixed one
    monkeypatch.setattr(ports.random, "randrange", lambda lo, hi: next(picks))
    monkeypatch.setattr(ports, "_given", set())
    rt = StackRuntime(load_stack(stack_file), StackOptions(state_dir=str(tmp_path / "s")))
    rt._plan_instances()
    assert [rt.instance("a").port, rt.instance("b").port] == [23400, 23999]


def test_stack_up_keeps_the_log_its_error_names(tmp_path, isolated_state, unhealthy_stack):
    """'its log (PATH) ends: ...' must point at a file that still exists after stack up gave up."""
    import re

    stack = unhealthy_stack("2s")
    res = run_cli(["stack", "up", "--stack", str(stack)], tmp_path, timeout=60)
    assert res.returncode == 3, res.stdout + res.stderr
    named = re.search(r"its log \(([^)]+)\)", res.stdout + res.stderr)
    assert named, res.stdout + res.stderr
    log = Path(named.group(1))
    try:
        assert log.is_file() and "GET /never" in log.read_text()
    finally:
        shutil.rmtree(log.parent.parent, ignore_errors=True)
