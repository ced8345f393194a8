"""A locustfile checked at validate rather than found broken when the load process starts.

Never run: importing it would run the user's module-level code (and Locust's
gevent patching) inside the harness. It is compiled, and the modules its
top-level imports name are looked up (found, not imported), the way the load
process will: the locustfile's folder first, then the current folder, then
this Python's own paths.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path


def locustfile_problem(path: Path) -> str | None:
    """None when the file compiles and its top-level imports can be found; else what is wrong
    and where, for one validation line."""
    try:
        tree = compile(path.read_bytes(), str(path), "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        compile(tree, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        return f"{path}: not valid Python ({where}): {exc.msg}"
    except (ValueError, OSError) as exc:  # null bytes, unreadable
        return f"{path}: cannot be read as Python: {exc}"
    for line, module in _top_level_imports(tree):
        if not _findable(module, path.parent):
            return (f"{path}: line {line}: imports {module!r}, but no module {module!r} is installed for "
                    f"{sys.executable} (nor next to the locustfile)")
    return None


def _top_level_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """Absolute imports the module runs unconditionally, by their top-level package. Imports
    inside try/if/functions are left alone: they may be optional on purpose."""
    out = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.append((node.lineno, node.module.split(".")[0]))
    return out


def _findable(module: str, folder: Path) -> bool:
    # A top-level name: finding it imports nothing (only a dotted name would import its parents).
    if importlib.machinery.PathFinder.find_spec(module, [str(folder), os.getcwd()]) is not None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
