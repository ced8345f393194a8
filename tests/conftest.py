"""Fixtures every test folder may use."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]  # tests/plugin drive pytest itself


@pytest.fixture
def isolated_state(tmp_path, monkeypatch):
    """Each test gets its own run-state folder, so runs of parallel tests never meet."""
    state = tmp_path / "state"
    monkeypatch.setenv("CHAOSDRILL_STATE_DIR", str(state))
    return state
