"""Helpers for the game day tests: synthetic load records, headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness.metrics.histogram import Histogram

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def load_record(second: float, success: int, degraded: int = 0, ungraceful: int = 0, latency_us: int = 5000,
                endpoint: str = "GET /v1/users/{id}/quota") -> dict:
    """One worker's record for one second, as the load process writes it."""
    hist = Histogram()
    n = success + degraded + ungraceful
    for _ in range(n):
        hist.record(latency_us)
    return {"second": second, "endpoints": {endpoint: {
        "n": n, "classes": {"success": success, "degraded": degraded, "rejected": 0, "ungraceful": ungraceful},
        "codes": {"QUOTA_OK": success, "QUOTA_DEGRADED": degraded}, "retry_after_missing": 0,
        "hist": hist.to_json()}}}


def dump_dom(url: str, budget_ms: int = 4000) -> str:
    """The page's DOM after its scripts ran for `budget_ms` of virtual time."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="chaosdrill-chromium-") as profile:
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
            capture_output=True, text=True, timeout=60,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout
