"""A locustfile's syntax, checked at validate rather than found when the load process starts.

Only compiled, never run: importing it would run the user's module-level code (and
Locust's gevent patching) inside the harness. Import errors still surface at load start.
"""

from __future__ import annotations

from pathlib import Path


def syntax_problem(path: Path) -> str | None:
    """None when the file compiles; else what is wrong and where, for one validation line."""
    try:
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        return f"{path}: not valid Python ({where}): {exc.msg}"
    except (ValueError, OSError) as exc:  # null bytes, unreadable
        return f"{path}: cannot be read as Python: {exc}"
    return None
