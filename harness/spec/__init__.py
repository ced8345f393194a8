"""Reading scenario and stack files: YAML with lines, durations, thresholds, errors."""

from harness.spec.durations import Duration, format_duration, parse_duration
from harness.spec.errors import LocatedError, SpecError, SpecIssue
from harness.spec.thresholds import Threshold, ThresholdFor

__all__ = ["Duration", "LocatedError", "SpecError", "SpecIssue", "Threshold", "ThresholdFor",
           "format_duration", "parse_duration"]
