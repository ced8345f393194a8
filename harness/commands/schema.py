"""`chaosdrill schema [scenario|stack]`: the JSON Schema of a file kind.

Editors (e.g. VS Code's YAML extension via `# yaml-language-server:
$schema=...`) validate and complete scenario files with it; it is generated
from the same pydantic models `validate` uses, so the two never disagree.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from harness.commands.common import MODEL_MODULES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of scenario or stack files")
    p.add_argument("kind", nargs="?", choices=("scenario", "stack"), default="scenario",
                   help="which file kind (default: scenario)")
    p.set_defaults(func=cmd_schema, preload=MODEL_MODULES)


def schema_for(kind: str) -> dict[str, Any]:
    if kind == "stack":
        from harness.stack.model import Stack as model
    else:
        from harness.scenario.model import Scenario as model  # type: ignore[assignment]
    schema = model.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"chaosdrill {kind} file"
    return schema


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(schema_for(args.kind), indent=2, sort_keys=False))
    return 0
