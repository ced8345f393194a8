"""A Compose file as the import reads it: chaosdrill's bounded YAML, refused in one line when it is
not a Compose file, interpolated, and able to say where each value came from.

The file is read with harness.schema.yaml_source like every file chaosdrill
reads (a hostile one is refused the same way, at most 1 MiB, 10,000 values),
and every key's line is kept: each thing the import does not carry over is
one warning naming `file:LINE field`, so a user can find it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from harness.errors import UsageError
from harness.schema.errors import format_loc
from harness.schema.loading import read_source
from harness.schema.yaml_source import Loc, YamlSource
from harness.stack.compose.interpolate import InterpolationError, interpolate_data
from harness.stack.compose.values import parse_dotenv

TOP_LEVEL_NOT_CARRIED = {
    "version": "obsolete in the Compose Specification; nothing to carry",
    "networks": "every service of a run is on one network of the run's own",
    "volumes": "services start with their image's files; {state_dir} (/state) is the run's one shared volume",
    "secrets": "give the service the value in `env`, or bake it into its image",
    "configs": "give the service the value in `env`, or bake it into its image",
    "include": "the included files are not read; import the merged file (`docker compose config > merged.yaml`)",
}
STACK_ONLY_KEYS = ("entry", "links", "classification", "backend", "audit")
OVERRIDE_NAMES = ("compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml",
                  "docker-compose.override.yml")


@dataclass(frozen=True)
class Origin:
    """Where a value came from, as a warning names it: `compose.yaml:12 services.web.deploy`."""

    file: str
    line: int
    field: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" + (f" {self.field}" if self.field else "")


class Notes:
    """The import's warnings, each once, in the order of the files' lines."""

    def __init__(self) -> None:
        self._found: dict[str, tuple[str, int]] = {}

    def warn(self, origin: Origin, message: str) -> None:
        self._found.setdefault(f"{origin}: {message}", (origin.file, origin.line))

    @property
    def lines(self) -> list[str]:
        return sorted(self._found, key=lambda line: self._found[line])


@dataclass
class ComposeFile:
    """The file's data (interpolated) with the line of every key, and the warnings so far."""

    path: Path
    data: dict[str, Any]
    source: YamlSource
    notes: Notes = field(default_factory=Notes)

    @property
    def folder(self) -> Path:
        return self.path.resolve().parent

    def origin(self, *loc: Any, named: tuple | None = None) -> Origin:
        """Where `loc` is; `named`: how to call it when that differs (an environment list item by its key)."""
        return Origin(str(self.path), self.source.line_of(loc), format_loc(loc if named is None else named))

    def warn(self, loc: Loc, message: str) -> None:
        self.notes.warn(self.origin(*loc), message)

    def refuse(self, loc: Loc, message: str) -> UsageError:
        """One line, exit 2: what Compose itself would refuse, or a file that is not a Compose file."""
        return UsageError(f"{self.origin(*loc)}: {message}")

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return self.data["services"]


def read_compose(path: Path, environ: Mapping[str, str] | None = None) -> ComposeFile:
    """The Compose file at `path`, or a UsageError (exit 2) in one line when it is not one."""
    source = read_source(path)  # FileError (a UsageError): missing, not YAML, past a bound, not a mapping
    compose = ComposeFile(path, source.data, source)
    data = compose.data
    if "phases" in data:
        raise compose.refuse(("phases",), "this is a chaosdrill scenario (it has phases), not a Compose file; "
                                          "give the compose.yaml (or docker-compose.yml) that runs the system")
    stack_keys = [k for k in STACK_ONLY_KEYS if k in data]
    if stack_keys:
        raise compose.refuse((stack_keys[0],), f"this is a chaosdrill stack file (it has {', '.join(stack_keys)}), "
                                               "not a Compose file; it needs no import")
    services = data.get("services")
    if not isinstance(services, dict) or not services:
        keys = ", ".join(str(k) for k in list(data)[:8])
        raise compose.refuse(("services",) if "services" in data else (),
                             "not a Compose file: no top-level 'services' mapping of service names to their "
                             f"settings (top-level keys here: {keys})")
    for name, body in services.items():
        if not isinstance(body, dict):
            got = type(body).__name__ if body is not None else "nothing"
            raise compose.refuse(("services", name), f"a service's settings are a mapping, got {got}")
    env = {**dotenv_beside(compose), **(os.environ if environ is None else environ)}
    unset: set[str] = set()

    def missing(name: str, loc: Loc) -> None:
        if name not in unset:
            unset.add(name)
            compose.warn(loc, f"variable {name} is not set (in the environment nor in .env beside the file): "
                              "it became an empty string, as in docker compose")

    try:
        compose.data = interpolate_data(data, env, missing)
    except InterpolationError as exc:
        raise compose.refuse(exc.loc, str(exc)) from None
    for name in OVERRIDE_NAMES:
        if (compose.folder / name).is_file() and name != path.name:
            compose.notes.warn(Origin(str(path.parent / name), 1),
                               f"not read (docker compose merges it into {path.name} by default); to carry it "
                               "over, import the merged file: docker compose config > merged.yaml")
    return compose


def dotenv_beside(compose: ComposeFile) -> dict[str, str]:
    """The `.env` file beside the Compose file, which Compose reads for interpolation."""
    path = compose.folder / ".env"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    return {key: value for key, value, _ in parse_dotenv(text) if value is not None}
