"""A drill, as one straight pipeline.

scenario -> plan (plan.py) -> execution (execution.py, writes the journal
as it goes via journal.py) -> verdict (verdict.py) -> report (harness.report).
No module here reads from a later stage.
"""
