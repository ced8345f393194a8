"""Helpers for the Compose import tests: write a compose file, import it, read what was written."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Callable

import pytest

from harness.schema.yaml_source import read_yaml
from harness.stack.compose import ImportResult, import_compose


class Imported:
    """An import's result with the stack it wrote, as plain data."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        self.stack: dict[str, Any] = read_yaml(result.outputs.stack).data
        self.warnings = result.warnings

    def env(self, service: str) -> dict[str, str]:
        return self.stack["services"][service].get("env", {})

    @property
    def links(self) -> dict[str, dict[str, Any]]:
        return self.stack.get("links", {})

    def warned(self, text: str) -> list[str]:
        return [w for w in self.warnings if text in w]


@pytest.fixture
def compose_file(tmp_path: Path) -> Callable[..., Path]:
    """`compose_file(text, name="compose.yaml", **other_files)`: a Compose file (dedented) and files beside it."""

    def write(text: str, name: str = "compose.yaml", **files: str) -> Path:
        for file_name, content in files.items():
            (tmp_path / file_name.replace("__", ".")).write_text(textwrap.dedent(content))
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def imported(compose_file: Callable[..., Path]) -> Callable[..., Imported]:
    """`imported(text, **import_options)`: the Compose text imported (environment empty unless given)."""

    def run(text: str, files: dict[str, str] | None = None, **options: Any) -> Imported:
        path = compose_file(text, **(files or {}))
        options.setdefault("environ", {})
        return Imported(import_compose(path, **options))

    return run
