"""The server as a process: CLI contract, death without collateral damage, restore by populate."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
import requests

from harness.errors import UsageError
from harness.proxy.process import start_proxy_server
from .conftest import connect, round_trip, start_server, stop_server


def test_dying_server_leaves_upstreams_fine_and_populate_restores(tmp_path, echo_upstream):
    first = start_server()
    try:
        r = requests.post(f"{first.url}/proxies", json={"name": "svc", "upstream": echo_upstream, "listen": "127.0.0.1:0"})
        listen = r.json()["listen"]
        port = int(listen.rsplit(":", 1)[1])
        round_trip(connect(port), b"before")
        first.process.kill()  # SIGKILL: no cleanup at all
        first.process.wait()
    finally:
        stop_server(first)

    # the upstream itself is untouched
    host, up_port = echo_upstream.rsplit(":", 1)
    round_trip(connect(int(up_port)), b"upstream alive")

    # a new server given the same config restores the same proxy on the same address
    config = tmp_path / "proxies.json"
    config.write_text(json.dumps([{"name": "svc", "upstream": echo_upstream, "listen": listen}]))
    second = start_server("--config", str(config))
    try:
        assert requests.get(f"{second.url}/proxies/svc").json()["listen"] == listen
        round_trip(connect(port), b"after restart")
        # and /populate with the same config is a no-op that keeps it
        r = requests.post(f"{second.url}/populate", data=config.read_bytes())
        assert r.status_code == 201 and r.json()["proxies"][0]["listen"] == listen
    finally:
        stop_server(second)


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "proxy-server", *args], capture_output=True, text=True, timeout=20
    )


def test_port_in_use_is_one_clear_line_and_exit_2():
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        result = _run_cli("--port", str(blocker.getsockname()[1]))
    finally:
        blocker.close()
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "address already in use" in lines[0], result.stderr


def test_non_loopback_api_host_needs_the_flag():
    result = _run_cli("--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2 and "--allow-non-loopback" in result.stderr


def test_bad_config_file_is_named(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    result = _run_cli("--port", "0", "--config", str(bad))
    assert result.returncode == 2 and str(bad) in result.stderr and len(result.stderr.strip().splitlines()) == 1
    missing = _run_cli("--port", "0", "--config", str(tmp_path / "none.json"))
    assert missing.returncode == 2 and "none.json" in missing.stderr
    incomplete = tmp_path / "incomplete.json"
    incomplete.write_text('[{"name": "x", "listen": "127.0.0.1:0"}]')
    result = _run_cli("--port", "0", "--config", str(incomplete))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"chaosdrill: error: --config {incomplete}: missing required field: upstream at proxy 1"
    ]


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "http"])
def test_a_port_that_is_no_port_is_refused(port):
    result = _run_cli(f"--port={port}")
    assert result.returncode == 2 and "argument --port: " in result.stderr and "Traceback" not in result.stderr


def test_sigterm_stops_cleanly_and_closes_listeners(echo_upstream):
    srv = start_server()
    r = requests.post(f"{srv.url}/proxies", json={"name": "x", "upstream": echo_upstream, "listen": "127.0.0.1:0"})
    port = int(r.json()["listen"].rsplit(":", 1)[1])
    live = connect(port)
    srv.process.terminate()
    assert srv.process.wait(timeout=5) == 0
    stop_server(srv)
    assert live.recv(10) == b""


def test_start_proxy_server_helper_reports_a_taken_port():
    with start_proxy_server() as running:
        assert requests.get(f"{running.url}/version").status_code == 200
        with pytest.raises(UsageError, match="address already in use"):
            start_proxy_server(port=running.port)
    assert not running.alive()


def test_threaded_server_in_process(echo_upstream):
    from harness.proxy.server import ThreadedProxyServer

    with ThreadedProxyServer() as srv:
        r = requests.post(f"{srv.url}/proxies", json={"name": "t", "upstream": echo_upstream, "listen": "127.0.0.1:0"})
        port = int(r.json()["listen"].rsplit(":", 1)[1])
        round_trip(connect(port), b"in-process")
    with pytest.raises(OSError):
        connect(port, timeout=1)


def test_interrupt_while_the_server_starts_stops_it(monkeypatch):
    """Ctrl-C while waiting for the ready line (new_session: the signal never reaches
    the server) must not leave the server running with no owner."""
    import harness.proxy.process as process_mod

    started = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        p = real_popen(*args, **kwargs)
        started.append(p)
        return p

    def interrupted(process, timeout):
        raise KeyboardInterrupt

    monkeypatch.setattr(process_mod.subprocess, "Popen", recording_popen)
    monkeypatch.setattr(process_mod, "_read_line", interrupted)
    with pytest.raises(KeyboardInterrupt):
        start_proxy_server(port=0, new_session=True)
    assert len(started) == 1
    try:
        assert started[0].poll() is not None, "the fault proxy server was left running"
    finally:
        if started[0].poll() is None:
            started[0].kill()
            started[0].wait()
