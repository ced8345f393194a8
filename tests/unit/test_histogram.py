import random

from hypothesis import given, strategies as st

from harness.metrics.histogram import Histogram, bucket_bounds, bucket_key


@given(st.integers(min_value=0, max_value=10**10))
def test_every_value_lands_in_a_bucket_that_contains_it(v):
    low, high = bucket_bounds(bucket_key(v))
    assert low <= v < high
    assert high - low == 1 or (high - low) / low <= 1 / 128


def test_keys_are_monotonic():
    prev = -1
    for v in range(0, 300_000, 3):
        k = bucket_key(v)
        assert k >= prev
        prev = k


def test_percentiles_track_exact_values_within_half_a_percent():
    rng = random.Random(7)
    values = sorted(int(rng.expovariate(1 / 5000)) + 1 for _ in range(50_000))
    h = Histogram()
    for v in values:
        h.record(v)
    for q in (50, 90, 99, 99.9):
        exact = values[max(0, int(-(-len(values) * q // 100)) - 1)]
        assert abs(h.percentile(q) - exact) <= max(1, exact * 0.005)
    assert h.percentile(100) == values[-1]


def test_merge_equals_recording_everything_in_one():
    a, b, both = Histogram(), Histogram(), Histogram()
    for v in range(0, 100_000, 37):
        (a if v % 2 else b).record(v)
        both.record(v)
    merged = Histogram.from_json(a.to_json()).merge(Histogram.from_json(b.to_json()))
    assert merged.counts == both.counts
    assert (merged.total, merged.sum_us, merged.max_us) == (both.total, both.sum_us, both.max_us)
