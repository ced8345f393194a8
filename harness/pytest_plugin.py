"""pytest plugin: resilience checks written as ordinary tests.

Registered through the `pytest11` entry point, so installing chaosdrill is
enough. It gives:

- `chaosdrill_stack`: a session fixture that starts a stack once (ini option
  `chaosdrill_stack`, default the built-in `lending`) and hands out a
  `StackHandle` to inject faults and read metrics:

      def test_quota_survives_a_slow_bureau(chaosdrill_stack):
          with chaosdrill_stack.fault("lending->credit-bureau-a", latency="800ms"):
              r = httpx.get(chaosdrill_stack.entry_url + "/v1/users/7/quota")
          assert r.json()["code"] in {"QUOTA_OK", "QUOTA_DEGRADED"}

- scenario files as tests: every `drill_*.yaml` (or the ini option
  `chaosdrill_scenarios` glob) is collected; the drill runs once and each
  expectation and invariant is its own test item.

Faults go through the same session as `chaosdrill run`: leased, kept on by
its heartbeat while a test holds them, ended by the fault proxy and a
watchdog within seconds if pytest is killed; the stack stops on failures
and Ctrl-C alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

# ---------------------------------------------------------------- the handle

from harness.faults.shorthand import fault_entry  # noqa: E402  (re-exported: the plugin's short form)
from harness.judge.answers import answer_checks  # noqa: E402
from harness.metrics.series import instance_scope  # noqa: E402


class StackHandle:
    """A running stack, driven from synchronous test code."""

    def __init__(self, session: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.session = session
        self.runtime = session.runtime
        self._loop = loop
        self._n = 0

    def _call(self, coro: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def entry_url(self) -> str:
        return self.runtime.entry_urls[0]

    def url(self, service: str, instance: int = 0) -> str:
        """The service's own address (bypassing every proxy)."""
        return self.runtime.instance(service, instance).url

    def link_url(self, link: str) -> str:
        return self.runtime.link(link).url

    @contextlib.contextmanager
    def fault(self, target: str, **kwargs: Any) -> Iterator[Any]:
        """Apply a fault for the duration of the block; always removed.

        The fault goes through the session's fault path: leased, and kept on by
        the session's heartbeat for as long as the block runs.
        """
        from harness.faults import build_fault

        self._n += 1
        with _one_line(f"fault({target!r})"):
            fault = build_fault(fault_entry(target, **kwargs), f"pytest{self._n}")
            self._call(self.session.faults.apply(fault, phase="pytest"))
        try:
            yield fault
        finally:
            self._call(self.session.faults.revert(fault.fault_id))

    def metrics(self, service: str, instance: int = 0, prefix: str = "") -> dict[str, float]:
        """The service's Prometheus samples, keyed `name{labels}`."""
        import urllib.request

        from harness.run.sampling import parse_series

        with urllib.request.urlopen(self.url(service, instance) + "/metrics", timeout=5) as resp:
            text = resp.read().decode()
        return parse_series(text, [prefix])


class _LoopThread:
    """An asyncio loop on its own thread hosting the session (its heartbeat runs there too)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="chaosdrill-stack", daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 120.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@contextlib.contextmanager
def running_stack(stack_ref: str, service_args: dict[str, list[str]] | None = None,
                  replicas: dict[str, int] | None = None, backend: str | None = None) -> Iterator[StackHandle]:
    """Start a stack (name or file) in a session, yield a handle, always close the session."""
    from harness.run.session import RunSession, SessionOptions
    from harness.stack.files import load_stack

    stack = load_stack(stack_ref)
    session = RunSession(stack, f"pytest-{os.getpid()}-{stack.name}",
                         SessionOptions(kind="pytest", service_args=service_args or {}, replicas=replicas or {},
                                        backend=backend))
    host = _LoopThread()
    try:
        host.run(session.open())
        yield StackHandle(session, host.loop)
    finally:
        try:
            host.run(session.close())
        finally:
            host.close()


# ---------------------------------------------------------------- pytest hooks


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("chaosdrill_stack", "stack for the chaosdrill_stack fixture (name or file)", default="lending")
    parser.addini("chaosdrill_scenarios", "glob of scenario files collected as tests", default="drill_*.yaml")
    parser.addini("chaosdrill_report_dir", "where drills collected as tests write reports", default="reports")


@contextlib.contextmanager
def _one_line(what: str) -> Iterator[None]:
    """Bad input (an unknown stack, link or toxic) fails the test with the harness's one line, not a traceback."""
    from harness.errors import ChaosdrillError

    try:
        yield
    except ChaosdrillError as exc:
        # `from None`: else pytest prints the error twice, with "During handling of the
        # above exception, another exception occurred" between the two.
        raise pytest.fail.Exception(f"{what}: {exc}", pytrace=False) from None


@pytest.fixture(scope="session")
def chaosdrill_stack(request: pytest.FixtureRequest) -> Iterator[StackHandle]:
    stack_ref = request.config.getini("chaosdrill_stack")
    context = running_stack(stack_ref)
    with _one_line(f"chaosdrill_stack = {stack_ref}"):
        handle = context.__enter__()
    try:
        yield handle
    finally:
        context.__exit__(None, None, None)


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    pattern = parent.config.getini("chaosdrill_scenarios")
    if file_path.suffix in (".yaml", ".yml") and file_path.match(pattern):
        return DrillFile.from_parent(parent, path=file_path)
    return None


class DrillFile(pytest.File):
    """A scenario file: one drill, one test item per expectation and invariant."""

    def repr_failure(self, excinfo, style=None):
        from harness.errors import ChaosdrillError

        if isinstance(excinfo.value, ChaosdrillError):  # a broken scenario: the validator's lines
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def collect(self):
        from harness.scenario import load_scenario

        scenario = load_scenario(self.path)
        for key in expectation_keys(scenario):
            yield DrillCheck.from_parent(self, name=key, key=key)
        for name in scenario.invariants or []:
            yield DrillCheck.from_parent(self, name=f"invariant: {name}", key=f"invariant: {name}")

    def journal(self) -> dict:
        cached = getattr(self, "_journal", None)
        if cached is None:
            from harness.run.drill import run_one
            from harness.run.progress import Progress
            from harness.scenario import load_scenario

            scenario = load_scenario(self.path)
            report_dir = Path(self.config.getini("chaosdrill_report_dir"))
            cached, _ = run_one(self.path, scenario, report_dir, {}, {}, None, Progress(quiet=True))
            self._journal = cached
        return cached


def expectation_key(phase: str, endpoint: str | None, name: str) -> str:
    return f"{phase}: {endpoint + ' ' if endpoint else ''}{name}"


def expectation_keys(scenario: Any) -> list[str]:
    """Item names known before the drill runs: one per expectation in the scenario."""
    keys = []
    for phase in scenario.phases:
        expect = phase.expect
        if expect is None:
            continue
        data = expect.model_dump(exclude_none=True, by_alias=True)
        endpoints = data.pop("endpoints", {}) or {}
        endpoints.update({instance_scope(k): v for k, v in (data.pop("instances", {}) or {}).items()})
        for name, value in data.items():
            if isinstance(value, dict):  # codes / classes: one per entry
                keys += [expectation_key(phase.name, None, f"{name}.{k}") for k in value]
            else:
                keys.append(expectation_key(phase.name, None, name))
        for endpoint, sub in endpoints.items():
            for name, value in sub.items():
                if isinstance(value, dict):
                    keys += [expectation_key(phase.name, endpoint, f"{name}.{k}") for k in value]
                else:
                    keys.append(expectation_key(phase.name, endpoint, name))
    keys += [expectation_key(c.phase, c.endpoint, c.name) for c in answer_checks(scenario)]
    return keys


class DrillCheck(pytest.Item):
    def __init__(self, *, key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key = key

    def runtest(self) -> None:
        journal = self.parent.journal()
        if journal["status"] == "error":
            raise DrillFailure(f"the drill could not run: {journal['reason']}")
        if self.key.startswith("invariant: "):
            name = self.key.removeprefix("invariant: ")
            for inv in journal.get("invariants", []):
                if inv["name"] == name:
                    if not inv["passed"]:
                        raise DrillFailure(f"{name} violated: {inv.get('message', '')} {inv.get('offending', [])[:10]}")
                    return
            raise DrillFailure(f"invariant {name} was not checked ({journal.get('reason') or 'no audit'})")
        for exp in journal.get("expectations", []):
            if expectation_key(exp["phase"], exp.get("endpoint"), exp["name"]) == self.key:
                if not exp["passed"]:
                    raise DrillFailure(f"{exp['name']} {exp['threshold']}: measured {exp.get('display')} "
                                       f"({exp.get('why', '')})")
                return
        raise DrillFailure(f"not judged: {journal.get('reason') or 'phase did not run'}")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, DrillFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"drill {self.path.name}: {self.key}"


class DrillFailure(Exception):
    pass
