"""Compose's `${VAR}` interpolation, done once at import as `docker compose` does at each `up`.

A Compose file takes values from the environment and from the `.env` file
beside it (`image: postgres:${PG_VERSION:-16}`). A stack file has no such
syntax, so the import fills the values in and the stack holds the result.
As in Compose: `$$` is a `$`; `${VAR:-default}`, `${VAR-default}`,
`${VAR:+other}`, `${VAR+other}` and `${VAR:?message}` work (a default may
hold another variable); a variable set nowhere becomes empty, and the import
says so once per variable.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from harness.schema.yaml_source import Loc

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPRESSION = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?$", re.S)

Missing = Callable[[str], None]  # told the name of each variable that is set nowhere


class InterpolationError(ValueError):
    """A `${VAR:?message}` whose variable is unset, or a `${` that never closes: Compose refuses these too.
    `loc` is where in the file (set by interpolate_data)."""

    loc: Loc = ()


def interpolate(text: str, env: Mapping[str, str], missing: Missing) -> str:
    """`text` with every `$VAR`/`${...}` filled from `env`."""
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    while True:
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        follower = text[j + 1:j + 2]
        if follower == "$":
            out.append("$")
            i = j + 2
        elif follower == "{":
            end = _closing(text, j + 2)
            if end < 0:
                raise InterpolationError(f"'${{' without its closing '}}' in {text!r}")
            out.append(_expression(text[j + 2:end], env, missing))
            i = end + 1
        else:
            m = _NAME.match(text, j + 1)
            if m is None:
                out.append("$")
                i = j + 1
            else:
                out.append(_lookup(m.group(), env, missing))
                i = m.end()


def _closing(text: str, start: int) -> int:
    """Index of the `}` that closes a `${` opened before `start` (defaults may nest `${...}`)."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _lookup(name: str, env: Mapping[str, str], missing: Missing) -> str:
    if name in env:
        return env[name]
    missing(name)
    return ""


def _expression(expr: str, env: Mapping[str, str], missing: Missing) -> str:
    m = _EXPRESSION.match(expr)
    if m is None:
        raise InterpolationError(f"'${{{expr}}}' is not a variable Compose can fill in")
    name, op, arg = m.group("name"), m.group("op"), m.group("arg") or ""
    if op is None:
        return _lookup(name, env, missing)
    value = env.get(name)
    unset = value is None or (op.startswith(":") and value == "")
    kind = op[-1]
    if kind == "-":
        return interpolate(arg, env, missing) if unset else str(value)
    if kind == "+":
        return "" if unset else interpolate(arg, env, missing)
    if unset:  # "?"
        raise InterpolationError(f"{name} is required: {interpolate(arg, env, missing) or 'it is not set'}")
    return str(value)


def interpolate_data(data: Any, env: Mapping[str, str], missing: Callable[[str, Loc], None],
                     loc: Loc = ()) -> Any:
    """Every string value of plain data interpolated (keys are left as written, as Compose does);
    `missing(name, loc)` hears of each unset variable and where it was met."""
    if isinstance(data, str):
        try:
            return interpolate(data, env, lambda name: missing(name, loc))
        except InterpolationError as exc:
            exc.loc = loc
            raise
    if isinstance(data, dict):
        return {k: interpolate_data(v, env, missing, loc + (k,)) for k, v in data.items()}
    if isinstance(data, list):
        return [interpolate_data(v, env, missing, loc + (i,)) for i, v in enumerate(data)]
    return data
