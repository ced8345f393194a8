"""A team's own invariants: a Python file (or module) the stack names, imported to register them.

A stack's `audit: {plugin: NAME, module: invariants.py}` names where its
invariants are: a file next to the stack (or a path from it), or an
importable module (`myteam.drills.invariants`). Importing it runs its
`@invariant(name, plugin=NAME)` decorators (harness/invariants/registry.py),
so the plugin is known when the stack is validated and when the audit runs.
A file is imported once per process, under a name derived from its path, so
two stacks naming the same file share it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from pathlib import Path

__all__ = ["ModuleProblem", "import_invariants_module"]


class ModuleProblem(Exception):
    """The module could not be imported; the message says why, for a file:line field: message."""


def import_invariants_module(spec: str, base_dir: Path | None) -> None:
    if spec.endswith(".py") or "/" in spec:
        path = Path(spec) if Path(spec).is_absolute() else (base_dir or Path.cwd()) / spec
        path = path.resolve()
        if not path.is_file():
            raise ModuleProblem(f"no such file {path}")
        name = f"chaosdrill_invariants_{abs(hash(str(path))):x}"
        if name in sys.modules:
            return
        loader_spec = importlib.util.spec_from_file_location(name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise ModuleProblem(f"{path} cannot be imported as Python")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        try:
            loader_spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise ModuleProblem(_where(exc, str(path))) from None
        return
    try:
        importlib.import_module(spec)
    except Exception as exc:
        raise ModuleProblem(_where(exc, spec)) from None


def _where(exc: Exception, what: str) -> str:
    """The exception and the line of the user's file it came from."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "importlib" not in f.filename]
    at = f" (line {frames[-1].lineno} of {frames[-1].filename})" if frames else ""
    return f"importing {what} failed: {type(exc).__name__}: {exc}{at}"
