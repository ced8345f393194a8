"""The read-only web view: live numbers from the model, in headless Chromium; GET only, loopback only."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import urllib.error
import urllib.request

import pytest

from harness.gameday.live import ActiveFault, LiveModel, ServiceView
from harness.gameday.web import WebView
from tests.gameday.conftest import dump_dom, load_record


class ServedModel:
    """A web view on its own loop thread, over a model the test feeds."""

    def __init__(self, model: LiveModel) -> None:
        self.model = model
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.view = WebView(model.snapshot, port=0)
        self.url = asyncio.run_coroutine_threadsafe(self.view.start(), self.loop).result(10)

    def feed(self, records: list[dict]) -> None:
        asyncio.run_coroutine_threadsafe(self._ingest(records), self.loop).result(10)

    async def _ingest(self, records: list[dict]) -> None:
        self.model.ingest(records)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.view.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class Clock:
    """The model's time, moved by the test: the page shows exactly the second the test chose."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served():
    clock = Clock(1_800_000_020.5)
    model = LiveModel("lending", clock=clock)
    model.t0 = 1_800_000_000.0
    model.users = 12
    model.status = "running"
    model.links = {"lending->credit-bureau-a": {"source": "lending", "target": "credit-bureau-a"}}
    model.set_services([ServiceView("lending", "lending", 0, 4242, "running",
                                    breakers={"credit-bureau-a": "open"}, in_use={"gateway": "backup"})])
    model.fault_on(ActiveFault("g1", "down on lending->credit-bureau-a", {"link": "lending->credit-bureau-a"}, 12.0))
    model.event("note", "paged on-call")
    server = ServedModel(model)
    try:
        yield server
    finally:
        server.close()


def _text(dom: str, element_id: str) -> str:
    m = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', dom)
    assert m, f"no #{element_id} in the page"
    return m.group(1)


def test_page_shows_the_live_numbers_and_follows_them(served):
    t0 = served.model.t0
    last = 19  # t+20.5s: second 19 is the last complete one, what the page shows as "now"
    served.feed([load_record(t0 + s, success=90, degraded=10, latency_us=20_000) for s in range(0, last)]
                + [load_record(t0 + last, success=300, degraded=100, latency_us=40_000)])
    dom = dump_dom(served.url)
    assert _text(dom, "rps") == "400"
    assert _text(dom, "error-rate") == "25.0%"
    assert float(_text(dom, "p99")) == pytest.approx(40.0, rel=0.1)
    assert _text(dom, "users") == "12" and _text(dom, "status") == "running"
    assert "down on lending-&gt;credit-bureau-a" in dom  # the active fault, escaped
    assert "paged on-call" in dom and "backup" in dom and "open" in dom
    shown = dict(re.findall(r'data-series="(\w+)">([^<]*)<', dom))  # four outcome classes, three percentiles
    assert shown == {"success": "300", "degraded": "100", "rejected": "0", "ungraceful": "0",
                     "p50": shown["p50"], "p95": shown["p95"], "p99": _text(dom, "p99")}

    # A second later the page shows the next second's numbers.
    served.model.clock.now += 1
    served.feed([load_record(t0 + last + 1, success=50)])
    dom = dump_dom(served.url)
    assert _text(dom, "rps") == "50" and _text(dom, "error-rate") == "0.0%"


def test_state_endpoint_is_plain_json_and_read_only(served):
    with urllib.request.urlopen(served.url + "api/state", timeout=5) as resp:
        state = json.loads(resp.read())
    assert state["stack"] == "lending" and state["faults"][0]["id"] == "g1"
    assert state["links"][0]["breaker"] == "open"
    assert len(state["window"]) == 20  # one row per complete second so far
    request = urllib.request.Request(served.url + "api/state", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 405
    assert served.url.startswith("http://127.0.0.1:")


def test_a_busy_web_port_is_refused_before_anything_starts(tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "gameday", "--no-console", "--web-port", str(port),
                               "--report-dir", str(tmp_path)], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "CHAOSDRILL_STATE_DIR": str(tmp_path / "state")})
    assert proc.returncode == 2, proc.stderr
    output = proc.stdout + proc.stderr
    assert f"--web-port {port}" in proc.stderr and "starting stack" not in proc.stderr
    assert output.count(f"--web-port {port}") == 1, output  # said once, not again as a verdict
    assert "Address already in use" in proc.stderr
    assert not list((tmp_path / "state").glob("*.json"))
    assert not list(tmp_path.glob("*-gameday*")), "a game day that never started leaves no record folder"


def test_an_unusable_report_dir_is_one_line_and_exit_2(tmp_path):
    import subprocess
    import sys

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "gameday", "--no-console", "--web-port", "-1",
                           "--report-dir", str(blocker / "reports")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "CHAOSDRILL_STATE_DIR": str(tmp_path / "state")})
    assert proc.returncode == 2, proc.stderr
    assert f"--report-dir {blocker / 'reports'}" in proc.stderr and "Traceback" not in proc.stderr
    assert "starting stack" not in proc.stderr

