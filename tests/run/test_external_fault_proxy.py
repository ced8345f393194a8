"""TOXIPROXY_URL: the harness drives a fault proxy server it did not start."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from harness.errors import UsageError
from harness.proxy_client.client import FaultProxyClient
from harness.proxy_client.launcher import start_builtin
from harness.proxy.server import ServerOptions, ThreadedProxyServer
from tests.run.conftest import ROOT, SCENARIOS, only_journal, run_cli


def test_a_drill_runs_against_a_separately_started_server(tmp_path, isolated_state):
    server = start_builtin(tmp_path / "external-proxy.log")
    try:
        res = run_cli(["run", str(SCENARIOS / "echo-outage.yaml"), "--report-dir", str(tmp_path / "r")],
                      tmp_path, env={"TOXIPROXY_URL": server.url})
        assert res.returncode == 0, res.stdout + res.stderr
        j = only_journal(tmp_path / "r")
        assert j["stack"]["fault_proxy"] == {"url": server.url, "version": j["stack"]["fault_proxy"]["version"],
                                             "external": True}
        assert any(e["type"] == "fault_applied" for e in j["events"])
        # The run removed its proxies from the server it borrowed, and left the server running.
        with urllib.request.urlopen(server.url + "/proxies", timeout=3) as resp:
            assert json.loads(resp.read()) == {}
        assert server.handle.alive()
    finally:
        server.stop()


class _PlainToxiproxy(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        body = json.dumps({"version": "2.12.0"}).encode() if self.path == "/version" else b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_http_toxics_are_refused_by_name_on_a_plain_toxiproxy():
    httpd = HTTPServer(("127.0.0.1", 0), _PlainToxiproxy)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        client = FaultProxyClient(url)
        assert not client.is_builtin
        assert client.use_leases("run-1") is False  # a plain Toxiproxy knows no leases
        with pytest.raises(UsageError) as err:
            client.add_toxic("front-to-back", "http_error", attributes={"status": 503})
        assert "http_error" in str(err.value) and url in str(err.value) and "2.12.0" in str(err.value)
    finally:
        httpd.shutdown()


def test_a_drill_needing_an_http_toxic_stops_before_any_load_on_a_plain_toxiproxy(tmp_path, isolated_state,
                                                                                  monkeypatch):
    # The built-in server, saying it is a plain Toxiproxy: a real API for the drill's proxies.
    monkeypatch.setattr("harness.proxy.api.VERSION", "2.12.0")
    with ThreadedProxyServer(ServerOptions(port=0)) as server:
        res = run_cli(["run", str(ROOT / "scenarios" / "gray-release.yaml"), "--profile", "gate",
                       "--report-dir", str(tmp_path / "r")], tmp_path, env={"TOXIPROXY_URL": server.url})
        assert res.returncode == 2, res.stdout + res.stderr
        assert "phase 'canary': toxic 'http_error' on client->lending#1 is a chaosdrill extension" in res.stdout
        assert "Traceback" not in res.stdout + res.stderr
        j = only_journal(tmp_path / "r")
        assert not any(e["type"] in ("load_started", "fault_applied") for e in j["events"])
        with urllib.request.urlopen(server.url + "/proxies", timeout=3) as resp:
            assert json.loads(resp.read()) == {}  # the proxies it made are gone again


def test_an_address_where_no_toxiproxy_answers_is_bad_input_naming_where_it_came_from(tmp_path, isolated_state):
    """TOXIPROXY_URL pointing at some other HTTP server (or at nothing) is the user's input at fault:
    exit 2 naming TOXIPROXY_URL, not exit 3 with the raw bytes of whatever answered."""
    import http.server
    import threading

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = b"hello"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        res = run_cli(["run", str(SCENARIOS / "echo-outage.yaml"), "--report-dir", str(tmp_path / "r")], tmp_path,
                      env={"TOXIPROXY_URL": url})
    finally:
        server.shutdown()
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"TOXIPROXY_URL {url}: /version answered 'hello', not a Toxiproxy version" in res.stdout
    res = run_cli(["run", str(SCENARIOS / "echo-outage.yaml"), "--fault-proxy", "http://127.0.0.1:9",
                   "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 2 and "--fault-proxy http://127.0.0.1:9:" in res.stdout
    assert not list(isolated_state.glob("*.json"))
