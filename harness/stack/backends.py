"""Choosing a stack's backend: processes on this machine, or containers on a Docker-API engine.

The docker package (and through it the docker SDK) is imported only when a
stack runs on backend docker.
"""

from __future__ import annotations

from typing import Any

from harness.errors import UsageError
from harness.stack.runtime import StackOptions, StackRuntime
from harness.state import RunState

BACKENDS = ("process", "docker")


def make_runtime(stack: Any, options: StackOptions | None = None, state: RunState | None = None,
                 backend: str | None = None, **docker_options: Any) -> StackRuntime:
    """The runtime for `stack`: `backend` (e.g. --backend) overrides the stack's `backend:` field.

    `docker_options` (base_url, builtin_image, project_root) go to DockerStackRuntime.
    """
    chosen = backend or getattr(stack, "backend", None) or "process"
    if chosen == "process":
        return StackRuntime(stack, options, state)
    if chosen == "docker":
        from harness.stack.docker.runtime import DockerStackRuntime

        return DockerStackRuntime(stack, options, state, **docker_options)
    raise UsageError(f"unknown backend {chosen!r}; known: {', '.join(BACKENDS)}")
