"""Comparing two runs of the same drills: what each measured, and what regressed (docs/compare.md)."""

from harness.compare.diff import DrillDiff, Pair, compare_sides
from harness.compare.sources import drill_name, read_side

__all__ = ["DrillDiff", "Pair", "compare_sides", "drill_name", "read_side"]
