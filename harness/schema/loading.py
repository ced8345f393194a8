"""Read a file and validate it against a model, collecting every problem.

Two passes, both always run: pydantic checks the structure (types, units,
unknown keys) and a semantic pass checks cross-references on the raw data
(unknown link, duplicate phase name). Both report against the YAML lines,
so one run of `chaosdrill validate` shows everything wrong with a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from harness.schema.errors import FileError, FileIssue, issue_at, issues_from_validation
from harness.schema.yaml_source import Loc, YamlSource, YamlSyntaxError, read_yaml

if TYPE_CHECKING:  # loaded with the models: reading a file alone (read_source) does not need it
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")

# A semantic check: (raw data, report(loc, message)) -> None
Report = Callable[[Loc, str], None]


def read_source(path: Path | str) -> YamlSource:
    """Parse a YAML file, or raise FileError naming the file and line."""
    try:
        source = read_yaml(path)
    except FileNotFoundError:
        raise FileError([FileIssue(str(path), 0, (), "no such file")]) from None
    except IsADirectoryError:
        raise FileError([FileIssue(str(path), 0, (), "is a folder, not a YAML file")]) from None
    except UnicodeDecodeError as exc:
        raise FileError([FileIssue(str(path), 1, (), f"not UTF-8 text ({exc.reason})")]) from None
    except OSError as exc:
        raise FileError([FileIssue(str(path), 0, (), f"cannot read: {exc.strerror or exc}")]) from None
    except YamlSyntaxError as exc:
        raise FileError([FileIssue(str(path), exc.line, (), exc.message)]) from None
    if source.data is None:
        raise FileError([FileIssue(str(path), 1, (), "the file is empty")])
    if not isinstance(source.data, dict):
        raise FileError([FileIssue(str(path), 1, (), f"expected a mapping of keys at the top level, got a {type(source.data).__name__}")])
    return source


def validate_source(source: YamlSource, model: type[M], context: dict[str, Any] | None = None,
                    semantic: Callable[[Any, Report], None] | None = None) -> tuple[M | None, list[FileIssue]]:
    """The model (None when invalid) and every issue found by both passes."""
    from pydantic import ValidationError

    issues: list[FileIssue] = []
    obj: M | None = None
    try:
        obj = model.model_validate(source.data, context=context)
    except ValidationError as exc:
        issues.extend(issues_from_validation(exc, source, model))
    if semantic is not None:
        seen = {(i.loc, i.message) for i in issues}

        def report(loc: Loc, message: str) -> None:
            if (tuple(loc), message) not in seen:
                seen.add((tuple(loc), message))
                issues.append(issue_at(source, loc, message))

        semantic(source.data, report)
    return (obj if not issues else None), issues
