"""Properties of the judged windows and of stats summed over them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from series_builder import record, series

from harness.judge.windows import SecondIndex, judged_seconds, phase_seconds

times = st.floats(min_value=0, max_value=60, allow_nan=False).map(lambda x: round(x * 4) / 4)


@settings(max_examples=200, deadline=None)
@given(start=times, length=st.floats(min_value=0.25, max_value=30).map(lambda x: round(x * 4) / 4),
       changes=st.lists(times, max_size=4), settle=st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_judged_seconds_lie_in_the_phase_and_avoid_settling_time(start, length, changes, settle):
    end = start + length
    full = phase_seconds(start, end)
    assert all(start <= t and t + 1 <= end for t in full)
    assert len(full) >= int(length) - 1
    kept = judged_seconds(start, end, changes, settle)

    def overlaps(t: int) -> bool:
        return settle > 0 and any(t < b + settle and t + 1 > b for b in [start, *changes])

    clean = [t for t in full if not overlaps(t)]
    assert kept == (clean or full)  # settled seconds left out, unless nothing would be left

def test_a_phase_shorter_than_its_settle_time_keeps_its_seconds():
    assert judged_seconds(10, 11, [], settle=1.0) == [10]
    assert judged_seconds(10, 15, [12.5], settle=1.0) == [11, 14]


@given(st.dictionaries(st.integers(0, 20), st.tuples(st.integers(0, 50), st.integers(0, 50)), max_size=15),
       st.sets(st.integers(0, 20)))
def test_stats_over_seconds_add_up(per_second, chosen):
    s = series({t: {"a": record(n=a, degraded=a // 2), "b": record(n=b)} for t, (a, b) in per_second.items()})
    index = SecondIndex(s)
    total = index.stats(chosen)
    assert total.n == sum(a + b for t, (a, b) in per_second.items() if t in chosen)
    assert total.classes["degraded"] == sum(a // 2 for t, (a, _) in per_second.items() if t in chosen)
    assert index.stats(chosen, "b").n == sum(b for t, (_, b) in per_second.items() if t in chosen)
    assert index.stats(chosen, "nope").n == 0
