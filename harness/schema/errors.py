"""Validation errors as one line each: `file:LINE field.path: message`.

pydantic reports where in the data a value is wrong; the YAML source knows
which line that is. This module joins the two, rewords pydantic's messages
for people writing YAML (unknown keys get a did-you-mean), and raises them
all at once so a user fixes a file in one pass.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Union

from harness.errors import UsageError
from harness.schema.suggest import did_you_mean, known_list
from harness.schema.yaml_source import Loc, YamlSource

if TYPE_CHECKING:  # pydantic is loaded by the models; reading a file (read_source) must not need it
    from pydantic import BaseModel, ValidationError

_IDENT = re.compile(r"^[A-Za-z_][\w-]*$")
# What str.splitlines() splits at, each as its escape.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


class LocatedError(ValueError):
    """Raised inside a validator to point below the value being validated.

    `sub_loc` is appended to pydantic's location, so a model-level check can
    name the exact field (e.g. ("faults", 0, "end")).
    """

    def __init__(self, message: str, sub_loc: Iterable[Any] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.sub_loc = tuple(sub_loc)


@dataclass(frozen=True)
class FileIssue:
    file: str
    line: int
    loc: Loc
    message: str

    @property
    def field(self) -> str:
        return format_loc(self.loc)

    def __str__(self) -> str:
        where = f" {self.field}" if self.loc else ""
        line = f":{self.line}" if self.line else ""  # 0: about the file as a whole (missing, unreadable)
        # One line, whatever the file held: a line break in a quoted value or key shows as its escape.
        return f"{self.file}{line}{where}: {self.message}".translate(_LINE_BREAKS)


class FileError(UsageError):
    """Every problem found in one or more files; str() is one line per problem."""

    def __init__(self, issues: list[FileIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line))
        super().__init__("\n".join(str(i) for i in self.issues))


def format_loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(str(part)):
            out += ("." if out else "") + str(part)
        else:
            out += f'["{part}"]'
    return out


def issue_at(source: YamlSource, loc: Iterable[Any], message: str) -> FileIssue:
    loc = tuple(loc)
    return FileIssue(source.path, source.line_of(loc), loc, message)


def issues_from_validation(exc: ValidationError, source: YamlSource, model: type[BaseModel],
                           prefix: Loc = ()) -> list[FileIssue]:
    """One FileIssue per pydantic error, located and reworded."""
    issues: list[FileIssue] = []
    seen: set[tuple[Loc, str]] = set()
    for err in exc.errors(include_url=False):
        loc, message = _located(err, model, prefix)
        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        issues.append(issue_at(source, loc, message))
    return issues


def first_problem(exc: ValidationError, model: type[BaseModel]) -> str:
    """`field.path: message` for the first error, worded as in files (did-you-mean included),
    for data that comes from somewhere other than a file (a game day command)."""
    loc, message = _located(exc.errors(include_url=False)[0], model)
    return f"{format_loc(loc)}: {message}" if loc else message


def _located(err: dict[str, Any], model: type[BaseModel], prefix: Loc = ()) -> tuple[Loc, str]:
    """Where an error is (a bad mapping key is the key's own location) and what to say."""
    loc = prefix + tuple(err["loc"])
    key_error = False
    if loc and loc[-1] == "[key]":
        loc, key_error = loc[:-1], True
    located = (err.get("ctx") or {}).get("error")
    if isinstance(located, LocatedError):
        loc = loc + located.sub_loc
    return loc, _reword(err, loc[len(prefix):], model, key_error)


def _reword(err: dict[str, Any], loc: Loc, model: type[BaseModel], key_error: bool = False) -> str:
    kind = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind in ("too_short", "too_long"):
        limit = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return f"needs {'at least' if kind == 'too_short' else 'at most'} {limit} item(s), got {ctx.get('actual_length')}"
    if kind == "extra_forbidden":
        allowed = fields_at(model, loc[:-1]) or []
        name = str(loc[-1])
        return f"unknown key '{name}'{did_you_mean(name, allowed)}; allowed: {known_list(allowed, limit=30)}"
    if kind == "value_error":
        error = ctx.get("error")
        return error.message if isinstance(error, LocatedError) else str(error)
    if kind in ("literal_error", "enum"):
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        got = f"{value!r}" if not isinstance(value, (dict, list)) else type(value).__name__
        if key_error:
            return f"unknown key {got}{did_you_mean(str(value), expected)}; allowed: {', '.join(expected)}"
        return f"got {got}; expected one of: {', '.join(expected)}{did_you_mean(str(value), expected)}"
    msg = err["msg"]
    msg = msg[0].lower() + msg[1:] if msg else kind
    if isinstance(value, (str, int, float, bool)) or value is None:
        msg += f", got {value!r}"
    elif isinstance(value, (dict, list)):
        msg += f", got a {'mapping' if isinstance(value, dict) else 'list'}"
    return f"key {loc[-1]!r}: {msg}" if key_error else msg


# ---------------------------------------------------------------- walking the model


def fields_at(model: type[BaseModel], loc: Loc) -> list[str] | None:
    """The keys a mapping at `loc` may hold, per the model (aliases as written in files)."""
    from pydantic import BaseModel

    tp: Any = model
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = _field(tp, part)
            if field is None:
                return None
            tp = field.annotation
        elif typing.get_origin(tp) in (list, tuple):
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or name for name, f in tp.model_fields.items()]
    return None


def _field(model: type[BaseModel], key: Any) -> Any:
    for name, f in model.model_fields.items():
        if key in (name, f.alias):
            return f
    return None


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = next((a for a in args if _is_model_or_container(a)), args[0])
        else:
            return tp


def _is_model_or_container(tp: Any) -> bool:
    from pydantic import BaseModel

    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (list, dict, tuple):
        return True
    return isinstance(tp, type) and issubclass(tp, BaseModel)
