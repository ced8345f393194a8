"""Fixtures every test folder may use."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]  # tests/plugin drive pytest itself


@pytest.fixture
def unhealthy_stack(tmp_path):
    """A stack file whose one service (a plain http.server) never passes its health check: `make(timeout)`."""

    def make(timeout: str) -> Path:
        path = tmp_path / "unhealthy.yaml"
        path.write_text(f"""
name: unhealthy
services:
  api:
    command: ["python3", "-m", "http.server", "{{port}}", "--bind", "127.0.0.1"]
    health: {{path: /never, timeout: {timeout}}}
entry: api
""")
        return path

    return make


@pytest.fixture
def isolated_state(tmp_path, monkeypatch):
    """Each test gets its own run-state folder, so runs of parallel tests never meet."""
    state = tmp_path / "state"
    monkeypatch.setenv("CHAOSDRILL_STATE_DIR", str(state))
    return state


# Tests that share one resource run on one xdist worker, in order: the
# Docker-API engine (one private podman per session; two would fight over the
# same network range), the drills that measure detection power, and the game
# day console tests (one console per module, driven step by step in order).
_SERIAL_GROUPS = {"docker": "docker", "drills": "drills", "gameday": "gameday"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = item.path.relative_to(config.rootpath).parts
        if len(parts) > 1 and parts[0] == "tests" and parts[1] in _SERIAL_GROUPS:
            item.add_marker(pytest.mark.xdist_group(_SERIAL_GROUPS[parts[1]]))
