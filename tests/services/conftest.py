"""Fixtures: the real mock services as subprocesses, always torn down.

`make_stack(...)` starts two bureau replicas, two gateways and lending
instances on free ports (mock_services.local_stack); `relay(port)` puts a
breakable TCP relay in front of one of them. Everything started here is
stopped in the fixture's teardown, whatever the test did.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

from mock_services.local_stack import LocalStack
from .relay import Relay


class Api:
    """Tiny JSON client for tests: every call has a client-side timeout."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def call(self, method: str, path: str, body: Any = None, timeout: float = 5.0) -> requests.Response:
        return self.session.request(method, self.base + path, json=body, timeout=timeout)

    def borrow(self, request_id: str, user_id: str, amount: int = 100, timeout: float = 5.0) -> requests.Response:
        return self.call("POST", "/v1/loans", {"request_id": request_id, "user_id": user_id, "amount": amount}, timeout)

    def metric(self, name: str, **labels: str) -> float:
        text = self.session.get(self.base + "/metrics", timeout=5).text
        wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
        for line in text.splitlines():
            if line.startswith(wanted + " "):
                return float(line.rsplit(" ", 1)[1])
        raise KeyError(wanted)


def code_of(response: requests.Response) -> str | None:
    try:
        return response.json().get("code")
    except ValueError:
        return None


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


def ledger(url: str) -> list[dict]:
    return requests.get(url + "/v1/ledger", timeout=5).json()["movements"]


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[Callable[..., LocalStack]]:
    stacks: list[LocalStack] = []

    def make(lending_args: list[str] | None = None, instances: int = 1, start: bool = True) -> LocalStack:
        """A stack; with start=False only its dependencies run, call start_lending(...) after."""
        stack = LocalStack(tmp_path / f"stack{len(stacks)}", lending_args=lending_args, lending_instances=instances)
        stacks.append(stack)
        return stack.start() if start else stack.start_dependencies()

    try:
        yield make
    finally:
        for stack in stacks:
            stack.stop()


@pytest.fixture
def relay() -> Iterator[Callable[[int], Relay]]:
    relays: list[Relay] = []

    def make(upstream_port: int) -> Relay:
        r = Relay(upstream_port).start()
        relays.append(r)
        return r

    try:
        yield make
    finally:
        for r in relays:
            r.stop()
