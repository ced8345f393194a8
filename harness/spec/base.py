"""The base of every file model: unknown keys are errors, aliases work both ways."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A mapping in a scenario or stack file: a typo is an error, never ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)
