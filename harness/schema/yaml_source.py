"""Read a YAML file into plain data plus the line of every key and item, within bounds.

PyYAML composes the file into nodes that carry their start marks (libyaml's
C parser when it is installed, the pure-Python one otherwise); we build plain
dicts and lists from the nodes ourselves, keeping a map from field path to
line so every validation error can name `file:LINE field.path`, and hand the
plain data to pydantic.

A scenario file may come from anyone (a CI gate validates contributed
files), so the work one file can cause is bounded, and a file past a bound
is refused as one `file:LINE: message` as soon as the bound is crossed:

- MAX_BYTES: a file is read up to 1 MiB and no further;
- MAX_DEPTH: lists and mappings nest at most 64 deep, checked as each one
  opens (aliases included), before the parser's cost grows with the depth;
- MAX_VALUES: a file stands for at most 10,000 values (scalars, lists and
  mappings), counted as they are composed, an alias counting every value
  of the node it names: a "billion laughs" is refused after a few thousand
  steps, before anything is expanded. An alias inside the node it names
  (which never ends) is refused too.

Scalars are read as YAML 1.2 reads them, as chaosdrill always has: only
true/false are booleans (`yes`, `no`, `on`, `off` stay strings), `0o17` is
octal and `0777` is 777, `1e3` is a number, `1:30` is a string.
Duplicate keys are refused. Writing goes through `dump_yaml`, which quotes
every string this reader would take for something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

Loc = tuple[Any, ...]

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 10_000


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
    """The file is not YAML (or not YAML chaosdrill reads); carries the line of the problem."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


# ---------------------------------------------------------------- resolving scalars (YAML 1.2)

_Y = "tag:yaml.org,2002:"
_RESOLVERS = (  # (tag, pattern, first characters): YAML 1.2's core schema, as chaosdrill has always read it
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("float", r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                  |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                  |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
                  |[-+]?\.(?:inf|Inf|INF)
                  |\.(?:nan|NaN|NAN))$""", "-+0123456789."),
    ("int", r"""^(?:[-+]?0b[0-1_]+
                |[-+]?0o?[0-7_]+
                |[-+]?[0-9_]+
                |[-+]?0x[0-9a-fA-F_]+)$""", "-+0123456789"),
    ("merge", r"^(?:<<)$", "<"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("timestamp", r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                      |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
                       (?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
                       (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", "0123456789"),
)


class _Resolver(BaseResolver):
    """Only the resolvers above: no `yes`/`on` booleans, no sexagesimal numbers."""


def _add_resolvers(cls: type[BaseResolver]) -> None:
    for tag, pattern, first in _RESOLVERS:
        cls.add_implicit_resolver(_Y + tag, re.compile(pattern, re.X), list(first))


_add_resolvers(_Resolver)


_INT_BITS = 14_000  # about 4200 digits: Python prints no longer int (sys.get_int_max_str_digits)


def _int(text: str) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    base = {"0b": 2, "0o": 8, "0x": 16}.get(digits[:2], 10)
    value = sign * int(digits[2:] if base != 10 else digits, base)
    if value.bit_length() > _INT_BITS:
        raise ValueError("too long")
    return value


def _float(text: str) -> float:
    value = text.replace("_", "").lower()
    if value.endswith((".inf", ".nan")):
        return float(value.replace(".", ""))
    return float(value)


_TIMESTAMPS = SafeConstructor()
_LOOKS = {_Y + "int": "an integer", _Y + "float": "a number", _Y + "timestamp": "a date"}
_SCALARS: dict[str, Callable[[str], Any]] = {
    _Y + "str": str,
    _Y + "merge": str,  # `<<` as a value; as a key it merges (see _mapping)
    _Y + "null": lambda text: None,
    _Y + "bool": lambda text: text.lower() == "true",
    _Y + "int": _int,
    _Y + "float": _float,
    _Y + "timestamp": lambda text: _TIMESTAMPS.construct_yaml_timestamp(ScalarNode(_Y + "timestamp", text)),
}


# ---------------------------------------------------------------- composing within bounds


class _BoundedComposer(Composer):
    """PyYAML's composer, counting values and depth as it goes and measuring
    each node as it completes: how many values it stands for, how deep it goes."""

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0
        self._values = 0
        self._measure: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth), once complete

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            return self._alias(event)
        self._count(1, event.start_mark, "the file holds more than")
        if event.anchor is not None:
            self.anchors.pop(event.anchor, None)  # YAML 1.2: an anchor given again names the later node
        collection = isinstance(event, CollectionStartEvent)
        if collection:
            self._check_depth(self._depth + 1, event.start_mark)
            self._depth += 1
        node = super().compose_node(parent, index)
        if collection:
            self._depth -= 1
        self._measure[id(node)] = _measure(node, self._measure)
        return node

    def _alias(self, event: AliasEvent) -> Node:
        node = self.anchors.get(event.anchor)
        if node is None:
            raise ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
        self.get_event()
        measured = self._measure.get(id(node))
        if measured is None:
            raise YamlSyntaxError(event.start_mark.line + 1,
                                  f"YAML alias *{event.anchor} is inside the node it names, so it never ends")
        values, depth = measured
        self._check_depth(self._depth + depth, event.start_mark)
        self._count(values, event.start_mark, "YAML aliases would expand to more than")
        return node

    def _count(self, values: int, mark: yaml.Mark, what: str) -> None:
        self._values += values
        if self._values > MAX_VALUES:
            bomb = " (a YAML bomb?)" if what.startswith("YAML aliases") else ""
            raise YamlSyntaxError(mark.line + 1, f"{what} {MAX_VALUES} values{bomb}; chaosdrill reads at most "
                                                 f"{MAX_VALUES} values (scalars, lists and mappings) per file")

    @staticmethod
    def _check_depth(depth: int, mark: yaml.Mark) -> None:
        if depth > MAX_DEPTH:
            raise YamlSyntaxError(mark.line + 1, f"YAML nested more than {MAX_DEPTH} lists and mappings deep; "
                                                 f"chaosdrill reads at most {MAX_DEPTH} levels")


def _measure(node: Node, known: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(values, depth) of a node whose children are all measured."""
    if isinstance(node, ScalarNode):
        return 1, 0
    children = [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else node.value
    measures = [known[id(child)] for child in children]
    return 1 + sum(m[0] for m in measures), 1 + max((m[1] for m in measures), default=0)


class _PyLoader(Reader, Scanner, Parser, _BoundedComposer, _Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _BoundedComposer.__init__(self)
        _Resolver.__init__(self)


_Loader: type = _PyLoader
if getattr(yaml, "__with_libyaml__", False):
    class _CLoader(_BoundedComposer, yaml.cyaml.CParser, _Resolver):  # libyaml parses, the composer above composes
        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            _Resolver.__init__(self)

    _Loader = _CLoader


# ---------------------------------------------------------------- parsing


def parse_yaml(text: str, path: str) -> YamlSource:
    _check_size(text.encode("utf-8", "surrogatepass"))
    _check_characters(text)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = _name_character(exc.problem or "", mark, text)
        what = " ".join(p for p in (exc.context, problem) if p) or str(exc).splitlines()[0]
        raise YamlSyntaxError(line, f"YAML syntax error: {what}{_hint(what)}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"YAML error: {str(exc).splitlines()[0]}") from None
    lines: dict[Loc, int] = {}
    data = _plain(root, (), lines) if root is not None else None
    # The document itself: where its first key is (comments above it do not count).
    lines[()] = min((n for loc, n in lines.items() if len(loc) == 1), default=1)
    return YamlSource(path, data, lines)


def _check_size(raw: bytes) -> None:
    if len(raw) > MAX_BYTES:
        raise YamlSyntaxError(raw.count(b"\n", 0, MAX_BYTES) + 1,
                              f"the file goes past 1 MiB here; chaosdrill reads YAML files of at most "
                              f"1 MiB ({MAX_BYTES} bytes)")


def _check_characters(text: str) -> None:
    """YAML allows no control characters (but tab and line breaks): say where the first one is."""
    bad = Reader.NON_PRINTABLE.search(text)
    if bad:
        line = len(_LINE_BREAK.findall(text, 0, bad.start())) + 1
        raise YamlSyntaxError(line, f"YAML error: unacceptable character #x{ord(bad.group()):04x}: "
                                    f"special characters are not allowed")


_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # what YAML counts as the end of a line


def _name_character(problem: str, mark: yaml.Mark | None, text: str) -> str:
    """libyaml says 'found character that cannot start any token'; name the character as PyYAML does."""
    if mark is None or "found character that cannot start any token" not in problem:
        return problem
    lines = text.splitlines()
    row = lines[mark.line] if mark.line < len(lines) else ""
    char = row[mark.column] if mark.column < len(row) else ""
    return problem.replace("found character", f"found character {char!r}") if char else problem


_HINTS = (
    ("'\\t'", "YAML indents with spaces, not tabs"),
    ("tab character", "YAML indents with spaces, not tabs"),
    ("expected <block end>", "check the indentation of this line against the lines above"),
    ("did not find expected '-' indicator", "check the indentation of this line against the lines above"),
    ("while parsing a block mapping did not find expected key",
     "check the indentation of this line against the lines above"),
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
    """Parse a file (read no further than the size bound); OSError propagates for the caller to word."""
    with open(path, "rb") as f:
        raw = f.read(MAX_BYTES + 1)
    _check_size(raw)
    text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # newlines as a text-mode read gives them
    return parse_yaml(text, str(path))


# ---------------------------------------------------------------- nodes to plain data


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _tag(node: Node) -> str:
    return node.tag.replace(_Y, "!!", 1)


def _plain(node: Node, loc: Loc, lines: dict[Loc, int]) -> Any:
    """Plain data for a node (an alias's node is built again where it is used: the budget bounds that)."""
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode) and node.tag == _Y + "seq":
        items = []
        for i, item in enumerate(node.value):
            lines[loc + (i,)] = _line(item)
            items.append(_plain(item, loc + (i,), lines))
        return items
    if isinstance(node, MappingNode) and node.tag == _Y + "map":
        return _mapping(node, loc, lines)
    raise _unsupported(node)


def _scalar(node: ScalarNode) -> Any:
    construct = _SCALARS.get(node.tag)
    if construct is None:
        raise _unsupported(node)
    try:
        return construct(node.value)
    except (ValueError, OverflowError):
        shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        looks = _LOOKS.get(node.tag, _tag(node))
        raise YamlSyntaxError(_line(node), f"YAML value {shown!r} looks like {looks} but is not one; "
                                           f"quote it if you mean the text") from None


def _unsupported(node: Node) -> YamlSyntaxError:
    return YamlSyntaxError(_line(node), f"YAML tag {_tag(node)} is not supported here; "
                                        f"chaosdrill reads plain mappings, lists and values")


def _key(node: Node) -> Any:
    if not isinstance(node, ScalarNode):
        raise YamlSyntaxError(_line(node), "YAML mapping key is a list or a mapping; a key is a name or a number")
    return _scalar(node)


def _mapping(node: MappingNode, loc: Loc, lines: dict[Loc, int]) -> dict[Any, Any]:
    """Keys in order; a `<<` merge adds the keys its mapping(s) have and this one does not (earlier wins)."""
    given: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _Y + "merge" and isinstance(key_node, ScalarNode):
            continue
        key = _key(key_node)
        if key in given:
            raise YamlSyntaxError(_line(key_node), f"YAML syntax error: duplicate key {_shown(key)}, first given on "
                                                   f"line {given[key]} (a key may appear once per mapping)")
        given[key] = _line(key_node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _Y + "merge" and isinstance(key_node, ScalarNode):
            for source in _merge_sources(value_node):
                merged_lines: dict[Loc, int] = {}
                adopted = set()
                for key, value in _mapping(source, loc, merged_lines).items():
                    if key not in given and key not in out:
                        out[key] = value
                        adopted.add(key)
                lines.update((sub, n) for sub, n in merged_lines.items() if sub[len(loc)] in adopted)
            continue
        key = _key(key_node)
        lines[loc + (key,)] = _line(key_node)
        out[key] = _plain(value_node, loc + (key,), lines)
    return out


def _merge_sources(node: Node) -> list[MappingNode]:
    sources = node.value if isinstance(node, SequenceNode) else [node]
    if not all(isinstance(s, MappingNode) and s.tag == _Y + "map" for s in sources):
        raise YamlSyntaxError(_line(node), "a '<<' merge takes a mapping or a list of mappings")
    return sources


def _shown(key: Any) -> str:
    return f'"{key}"' if isinstance(key, str) else repr(key)


# ---------------------------------------------------------------- writing


class _Dumper(yaml.SafeDumper):
    """Quotes a string that either YAML 1.1 or the reader above would take for a number,
    boolean or null (`yes`, `0o17`, `1e3`), so what is written reads back the same."""

    def choose_scalar_style(self) -> str:
        # PyYAML writes NEL, LS and PS as they are in single quotes, where a reader folds
        # them into a space: double quotes escape them.
        if isinstance(self.event.value, str) and any(c in self.event.value for c in "\x85\u2028\u2029"):
            return '"'
        return super().choose_scalar_style()


_add_resolvers(_Dumper)


def dump_yaml(data: Any, *, flow_leaves: bool = False, width: int = 80) -> str:
    """YAML as people write it: keys in their order, non-ASCII as is; `flow_leaves`
    writes lists and mappings of plain values on one line (`{users: 7}`)."""
    return yaml.dump(data, Dumper=_Dumper, default_flow_style=None if flow_leaves else False,
                     sort_keys=False, allow_unicode=True, width=width)
