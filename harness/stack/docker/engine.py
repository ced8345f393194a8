"""The connection to a Docker-API engine (a Docker daemon, or podman's service) and what it must hold."""

from __future__ import annotations

import os
from typing import Any

from harness.errors import HarnessError, UsageError


def engine_name(base_url: str | None) -> str:
    """The engine as a run records it: `base_url`, else DOCKER_HOST, else "default"."""
    return base_url or os.environ.get("DOCKER_HOST") or "default"


def connect(base_url: str | None = None) -> Any:
    """A docker SDK client for DOCKER_HOST (or `base_url`), checked with a ping."""
    try:
        import docker
    except ImportError:
        raise HarnessError("backend docker needs the docker SDK: pip install 'chaosdrill[docker]'") from None
    where = base_url or os.environ.get("DOCKER_HOST") or "the default socket (unix:///var/run/docker.sock)"
    try:
        client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
        client.ping()
    except Exception as exc:
        raise HarnessError(
            f"no Docker-API engine answers at {where}: {exc}; set DOCKER_HOST (see docs/docker.md)"
        ) from None
    return client


def connect_recorded(engine: str | None) -> Any:
    """A client for the engine a run recorded (engine_name's value)."""
    return connect(None if engine in (None, "default") else engine)


def ensure_images(client: Any, wanted: dict[str, str]) -> None:
    """Pull each image of `wanted` (image -> where it was named) that the engine does not hold yet."""
    import docker.errors

    for image, where in wanted.items():
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            try:
                client.images.pull(image)
            except docker.errors.APIError as exc:
                raise UsageError(
                    f"{where}: image {image!r} is not on the engine and cannot be pulled: "
                    f"{exc.explanation or exc}"
                ) from None
