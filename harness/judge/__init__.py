"""Expectations -> verdicts on recorded per-second metrics (docs/expectations.md)."""

from harness.judge.abort import check_abort
from harness.judge.judging import DEFAULT_SETTLE, judge, normalize_timing
from harness.judge.results import ExpectationResult

__all__ = ["DEFAULT_SETTLE", "ExpectationResult", "check_abort", "judge", "normalize_timing"]
