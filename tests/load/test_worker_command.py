"""`chaosdrill worker --master HOST[:PORT]`: a master host that does not
resolve is refused at once."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from .conftest import ROOT


@pytest.mark.parametrize("host, why", [("no-such-host.invalid", "does not resolve"),
                                       ("a..b", "is not a valid host name")])
def test_a_master_host_that_does_not_resolve_is_refused_at_once(host, why):
    # It was a 30 s wait for a config that could never come, then exit 3.
    started = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "harness.cli", "worker", "--master", f"{host}:5557"], cwd=ROOT,
                         capture_output=True, text=True, timeout=25)
    assert res.returncode == 2, res.stderr
    (line,) = res.stderr.splitlines()
    assert line.startswith(f"chaosdrill: error: --master '{host}:5557': ") and host in line and why in line
    assert time.monotonic() - started < 20
