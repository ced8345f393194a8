"""Read a YAML file into plain data plus the line of every key and item.

ruamel's round-trip loader remembers where each key and list item stood;
we keep that as a map from field path to line so every validation error can
name `file:LINE field.path`, and hand plain dicts and lists to pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

Loc = tuple[Any, ...]


@dataclass
class YamlSource:
    """A parsed file: plain data and the 1-based line of each path in it."""

    path: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int:
        """Line of the longest known prefix of `loc` (a missing field: its parent's line)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)


class YamlSyntaxError(Exception):
    """The file is not YAML; carries the line of the problem."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse_yaml(text: str, path: str) -> YamlSource:
    yaml = YAML(typ="rt")
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc).splitlines()[0]
        raise YamlSyntaxError(line, f"YAML syntax error: {what}{_hint(what)}") from None
    except YAMLError as exc:
        raise YamlSyntaxError(1, f"YAML error: {str(exc).splitlines()[0]}") from None
    lines: dict[Loc, int] = {}
    data = _plain(doc, (), lines)
    # The document itself: where its first key is (comments above it do not count).
    lines[()] = min((n for loc, n in lines.items() if len(loc) == 1), default=1)
    return YamlSource(path, data, lines)


_HINTS = (
    ("'\\t'", "YAML indents with spaces, not tabs"),
    ("duplicate key", "a key may appear once per mapping"),
    ("expected <block end>", "check the indentation of this line against the lines above"),
    ("mapping values are not allowed", "quote a value that contains ': '"),
    ("could not find expected ':'", "a key needs ': ' after it, or quote the value"),
    ("found character '>'", "quote thresholds like '> 0'"),
)


def _hint(message: str) -> str:
    for needle, hint in _HINTS:
        if needle in message:
            return f" ({hint})"
    return ""


def read_yaml(path: Path | str) -> YamlSource:
    """Parse a file; OSError propagates for the caller to word."""
    text = Path(path).read_text(encoding="utf-8")
    return parse_yaml(text, str(path))


def _plain(node: Any, loc: Loc, lines: dict[Loc, int]) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            pos = node.lc.key(key)
            plain_key = _scalar(key)
            if pos is not None:
                lines[loc + (plain_key,)] = pos[0] + 1
            out[plain_key] = _plain(value, loc + (plain_key,), lines)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            pos = node.lc.item(i)
            if pos is not None:
                lines[loc + (i,)] = pos[0] + 1
            items.append(_plain(value, loc + (i,), lines))
        return items
    return _scalar(node)


def _scalar(value: Any) -> Any:
    """ruamel's scalar subclasses (ScalarFloat, folded strings...) as plain builtins."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value
