"""The base of every file model: unknown keys are errors, aliases work both ways,
durations are float seconds."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

from harness.schema.durations import DURATION_PATTERN, parse_duration


class StrictModel(BaseModel):
    """A mapping in a scenario or stack file: a typo is an error, never ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(lambda v: v, return_type=float),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "number", "minimum": 0},
            ],
            "description": "a duration: '500ms', '20s', '2m', '1h', or a number of seconds",
        }
    ),
]
"""Float seconds in the model; text or a number in the file."""
