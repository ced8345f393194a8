"""Reading API request bodies the way Toxiproxy's Go `encoding/json` does.

A script written against this server must work against a real Toxiproxy and
the other way round, so the decoding rules that change what a request means
follow Go's: only the first JSON value of a body is read (text after it is
ignored), object keys match field names without regard to case (the last
matching key wins), `null` leaves a field as it was, and an integer field
refuses a number written with a fraction or exponent, or one too big for
int64.
"""

from __future__ import annotations

import json
from typing import Any

from harness.proxy import errors

_DECODER = json.JSONDecoder()
INT64 = (-(2**63), 2**63 - 1)
_JSON_KIND = {str: "string", bool: "boolean"}


def decode_json(body: bytes) -> Any:
    """The first JSON value of a request body (Go's json.Decoder.Decode)."""
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise errors.bad_body(str(exc)) from None
    text = text.lstrip(" \t\r\n")
    if not text:
        raise errors.bad_body("EOF")
    try:
        return _DECODER.raw_decode(text)[0]
    except ValueError as exc:
        raise errors.bad_body(str(exc)) from None


def json_get(obj: dict[str, Any], key: str) -> Any:
    """The value of field `key`: Go matches keys case-insensitively, and a later key overrides an earlier one."""
    folded = key.casefold()
    value = None
    for k, v in obj.items():
        if k.casefold() == folded:
            value = v
    return value


def json_has(obj: dict[str, Any], key: str) -> bool:
    folded = key.casefold()
    return any(k.casefold() == folded for k in obj)


def json_field(obj: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    """A typed field; absent or null gives `default`, a wrong type is a 400."""
    value = json_get(obj, key)
    if value is None:
        return default
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise errors.bad_body(f"field {key} must be a number")
        return float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise errors.bad_body(f"field {key} must be a {_JSON_KIND.get(kind, kind.__name__)}")
    return value


def json_object(data: Any, what: str) -> dict[str, Any]:
    """A body that must be an object; `null` decodes as an empty one, as into a Go struct."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise errors.bad_body(f"{what} must be a JSON object")
    return data
