"""Thresholds as people write them: "< 0.5%", "<= 300ms", "> 0.7x", "== 0".

A threshold is parsed once at load time into an operator and a value in a
canonical unit (ratios for %, milliseconds for times), so judging compares
numbers and reports can print the threshold exactly as the user wrote it.
abort_if adds a duration: "> 80% for 10s".
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import AfterValidator, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import core_schema

from harness.schema.durations import format_duration, parse_duration

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}

# unit as written -> (kind, factor to the canonical unit of that kind)
UNITS: dict[str, tuple[str, float]] = {
    "": ("number", 1.0),  # a count, or milliseconds where the field says *_ms
    "%": ("share", 0.01),  # canonical: a ratio 0..1
    "ms": ("time", 1.0),  # canonical: milliseconds
    "us": ("time", 0.001),
    "s": ("time", 1000.0),
    "x": ("relative", 1.0),  # a ratio to the baseline phase
    "rps": ("rate", 1.0),  # requests per second
}

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_THRESHOLD = re.compile(rf"^\s*(<=|>=|==|!=|<|>)\s*({_NUMBER})\s*(%|ms|us|s|x|rps)?\s*$")
THRESHOLD_PATTERN = r"^\s*(<=|>=|==|!=|<|>)\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*(%|ms|us|s|x|rps)?\s*$"
THRESHOLD_FOR_PATTERN = r"^\s*(<=|>=|==|!=|<|>)\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*(%|ms|us|s|x|rps)?(\s+for\s+\S+)?\s*$"
_EXAMPLES = "'< 0.5%', '<= 300ms', '> 0.7x', '== 0'"


class _ParsedFromText:
    """Pydantic hooks shared by types written as one string in files and dumped back as it."""

    _json_schema: dict[str, Any] = {}

    @classmethod
    def parse(cls, text: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> dict:
        return dict(cls._json_schema)


@dataclass(frozen=True)
class Threshold(_ParsedFromText):
    """A comparison `measured <op> value`, value in the canonical unit of its kind."""

    op: str
    number: float  # as written
    unit: str = ""  # as written: '', '%', 'ms', 'us', 's', 'x', 'rps'

    # ------------------------------------------------------------ parsing
    @classmethod
    def parse(cls, text: Any) -> "Threshold":
        if isinstance(text, Threshold):
            return text
        if not isinstance(text, str):
            raise ValueError(f"expected a threshold (a quoted comparison) like {_EXAMPLES}, got {text!r}")
        m = _THRESHOLD.match(text)
        if not m:
            raise ValueError(f"expected a threshold like {_EXAMPLES}, got {text!r}")
        number = float(m.group(2))
        if math.isnan(number) or math.isinf(number):
            raise ValueError(f"threshold {text!r}: the number must be finite")
        return cls(m.group(1), number, m.group(3) or "")

    # ------------------------------------------------------------ meaning
    @property
    def kind(self) -> str:
        """number | share | time | relative | rate."""
        return UNITS[self.unit][0]

    @property
    def value(self) -> float:
        """The limit in the canonical unit: a ratio for %, ms for times."""
        return self.number * UNITS[self.unit][1]

    def check(self, measured: float) -> bool:
        """True when `measured` (canonical unit) satisfies the threshold."""
        if measured is None or (isinstance(measured, float) and math.isnan(measured)):
            return False
        if self.op in ("==", "!="):
            equal = math.isclose(measured, self.value, rel_tol=1e-9, abs_tol=1e-12)
            return equal if self.op == "==" else not equal
        return OPS[self.op](measured, self.value)

    def gap(self, measured: float) -> float:
        """How far `measured` is from the limit, in the canonical unit (>= 0)."""
        return abs(measured - self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.number:g}{self.unit}"


Threshold._json_schema = {
    "type": "string", "pattern": THRESHOLD_PATTERN,
    "description": f"a comparison and a number with an optional unit (% ms us s x rps), e.g. {_EXAMPLES}",
}


@dataclass(frozen=True)
class ThresholdFor(_ParsedFromText):
    """A threshold that must hold for a while: "> 80% for 10s" (abort_if)."""

    threshold: Threshold
    for_s: float = 0.0

    @classmethod
    def parse(cls, text: Any) -> "ThresholdFor":
        if isinstance(text, ThresholdFor):
            return text
        if not isinstance(text, str):
            raise ValueError(f"expected a threshold like '> 80% for 10s', got {text!r}")
        head, sep, tail = text.rpartition(" for ")
        if not sep:
            return cls(Threshold.parse(text), 0.0)
        return cls(Threshold.parse(head), parse_duration(tail.strip()))

    def check(self, measured: float) -> bool:
        return self.threshold.check(measured)

    def __str__(self) -> str:
        return f"{self.threshold} for {format_duration(self.for_s)}" if self.for_s else str(self.threshold)


ThresholdFor._json_schema = {
    "type": "string", "pattern": THRESHOLD_FOR_PATTERN,
    "description": "a threshold, optionally held for a duration: '> 80% for 10s'",
}


def units(*allowed: str, hint: str) -> AfterValidator:
    """Restrict a Threshold field to some units, e.g. units("%", hint="a share like '< 0.5%'")."""
    allowed_set = set(allowed)

    def check(value: Any) -> Any:
        t = value.threshold if isinstance(value, ThresholdFor) else value
        if t.unit not in allowed_set:
            shown = ", ".join(f"'{u}'" if u else "no unit" for u in allowed)
            raise ValueError(f"unit {t.unit or 'none'!r} does not fit here ({t}); use {hint} (units: {shown})")
        return value

    return AfterValidator(check)

