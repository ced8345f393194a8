"""A team's own system, started outside chaosdrill, drilled through `address:` services and fixed ports.

The test starts a real Redis (Debian's redis-server) and an example service
that keeps its data there (tests/fixtures/kv/), as a team would start its
staging system by hand. The service is told once to reach Redis at a fixed
port, where the stack's `listen:` puts the link's proxy; chaosdrill starts
neither and stops neither. Faults on that link are real faults on the Redis
protocol: down, latency, reset_peer, limit_data. The service must answer
explicitly (STORE_UNAVAILABLE with a Retry-After) while its store is
faulted, and nothing it acknowledged may be lost (the team's own invariant,
tests/fixtures/kv/invariants.py, checked on the service's audit endpoint).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.stack.ports import free_port
from tests.run.conftest import ROOT, only_journal, run_cli

KV = ROOT / "tests" / "fixtures" / "kv"
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="needs Debian's redis-server (python3 -m tests installs it)")


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def running_system(tmp_path):
    """Redis and the service, started the way a team starts its own system; stopped at the end."""
    redis_port, app_port, link_port = free_port(), free_port(), free_port()
    procs = [
        subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, str(KV / "kv_app.py"), "--port", str(app_port),
                          "--redis", f"127.0.0.1:{link_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT),
    ]
    try:
        wait_port(redis_port)
        wait_port(app_port)
        yield {"redis": redis_port, "app": app_port, "link": link_port, "procs": procs}
    finally:
        for p in procs:
            p.kill()
            p.wait()


def write_stack(path: Path, ports: dict, redis_host: str = "127.0.0.1") -> Path:
    path.write_text(textwrap.dedent(f"""\
        name: kv-running
        entry: app
        deadline: 2s
        services:
          app:
            address: 127.0.0.1:{ports['app']}
            health: {{path: /healthz}}
          redis:
            address: {redis_host}:{ports['redis']}
        links:
          app->redis: {{listen: {ports['link']}}}   # where the service was told Redis is
        classification:
          field: code
          classes:
            success: [STORED, FOUND]
            degraded: [STORE_UNAVAILABLE]
            rejected: [NOT_FOUND]
          retry_after_required: [STORE_UNAVAILABLE]
        load:
          locustfile: {KV / "kv_locust.py"}
        audit:
          plugin: kv
          module: {KV / "invariants.py"}
          endpoints:
            items: {{service: app, path: /audit}}
        """))
    return path


DRILL = """\
title: The store behind the service, faulted four ways
plan: >-
  The service's Redis link goes down, slow, reset and cut short in turn. The service answers
  every write explicitly (STORED, or STORE_UNAVAILABLE with a Retry-After), none in more than
  the 2 s deadline, and every write it acknowledged is in Redis afterwards.
stack: {stack}
load: {{users: 4, spawn_rate: 4}}
phases:
  - {{name: baseline, duration: 2s, expect: {{ungraceful: "== 0", slow: "== 0"}}}}
  - name: down
    duration: 2s
    faults: [{{link: app->redis, toxic: down}}]
    expect: {{ungraceful: "== 0", slow: "== 0", codes: {{STORE_UNAVAILABLE: "> 0"}}, retry_after: required}}
  - name: latency
    duration: 2s
    faults: [{{link: app->redis, toxic: latency, attributes: {{latency: 100ms}}}}]
    expect: {{ungraceful: "== 0", slow: "== 0"}}
  - name: reset
    duration: 2s
    faults: [{{link: app->redis, toxic: reset_peer, attributes: {{timeout: 0}}}}]
    expect: {{ungraceful: "== 0", slow: "== 0", codes: {{STORE_UNAVAILABLE: "> 0"}}}}
  - name: cut-short
    duration: 2s
    faults: [{{link: app->redis, toxic: limit_data, attributes: {{bytes: 200}}}}]
    expect: {{ungraceful: "== 0", slow: "== 0", codes: {{STORE_UNAVAILABLE: "> 0"}}}}
  - {{name: recovery, duration: 3s, expect: {{ungraceful: "== 0", recovers_within: 2s}}}}
invariants: [no_lost_writes]
"""


def test_a_running_system_is_drilled_through_fixed_ports_and_left_running(tmp_path, isolated_state, running_system):
    stack = write_stack(tmp_path / "kv.yaml", running_system)
    drill = tmp_path / "drill.yaml"
    drill.write_text(DRILL.format(stack=stack))
    res = run_cli(["run", str(drill), "--report-dir", str(tmp_path / "r")], tmp_path, timeout=180)
    journal = only_journal(tmp_path / "r")
    assert res.returncode == 0, res.stdout + res.stderr
    faults = {f["kind"]: f for f in journal["faults"]}
    assert set(faults) == {"down", "latency", "reset_peer", "limit_data"}
    assert all(f["applied_at"] is not None and f["removed_at"] is not None for f in faults.values())
    (inv,) = journal["invariants"]
    assert inv["name"] == "no_lost_writes" and inv["passed"] and inv["counts"]["acknowledged"] > 0, inv
    assert journal["stack"]["links"]["app->redis"]["listen"] == f"127.0.0.1:{running_system['link']}"
    # chaosdrill started neither and stopped neither
    assert all(p.poll() is None for p in running_system["procs"])
    wait_port(running_system["app"], 1)


def test_a_service_named_as_running_that_is_not_is_one_line_and_exit_3(tmp_path, isolated_state, running_system):
    redis = running_system["procs"][0]
    redis.kill()
    redis.wait()
    stack = write_stack(tmp_path / "kv.yaml", running_system)
    res = run_cli(["stack", "up", "--stack", str(stack)], tmp_path, timeout=60)
    assert res.returncode == 3, res.stdout + res.stderr
    (line,) = [ln for ln in res.stderr.splitlines() if ln.startswith("chaosdrill: error:")]
    assert f"service redis at 127.0.0.1:{running_system['redis']} does not answer" in line
    assert "already running (address:)" in line and "Traceback" not in res.stderr


def test_an_address_on_another_host_needs_allow_remote(tmp_path, isolated_state, running_system):
    stack = write_stack(tmp_path / "kv.yaml", running_system, redis_host="192.0.2.10")  # TEST-NET-1: nobody
    res = run_cli(["stack", "up", "--stack", str(stack)], tmp_path, timeout=60)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "services.redis.address 192.0.2.10:" in res.stderr and "--allow-remote" in res.stderr
    assert "Traceback" not in res.stderr
