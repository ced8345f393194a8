"""Exact per-second request metrics shared by load, judging and reports."""
