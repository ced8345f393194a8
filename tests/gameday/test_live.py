"""The live model: incremental merging, the charts' window, service state from /metrics samples."""

from __future__ import annotations

from harness.gameday.console import sparkline
from harness.gameday.live import LiveModel, read_sample_values
from tests.gameday.conftest import load_record

T0 = 1_800_000_000.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def model_at(offset: float) -> LiveModel:
    model = LiveModel("lending", window=10, clock=Clock(T0 + offset))
    model.t0 = T0
    return model


def test_workers_records_merge_into_their_second_and_only_touched_rows_change():
    model = model_at(5.5)
    assert model.ingest([load_record(T0 + 3, 10), load_record(T0 + 3.9, 5, degraded=5)]) == {3}
    row = model.rows[3]
    assert (row.n, row.classes["success"], row.classes["degraded"]) == (20, 15, 5)
    assert row.error_rate == 0.25
    before = model.rows[3]
    assert model.ingest([load_record(T0 + 4, 7)]) == {4}
    assert model.rows[3] is before  # untouched seconds are not recomputed
    assert model.metrics_json()[0]["t"] == 3 and model.metrics_json()[0]["endpoints"]


def test_recent_is_one_row_per_second_of_the_window_and_current_tolerates_a_late_second():
    model = model_at(12.2)  # the last complete second is 11
    model.ingest([load_record(T0 + t, 10 + t) for t in range(0, 11)])  # second 11 not reported yet
    rows = model.recent()
    assert [r.t for r in rows] == list(range(2, 12))  # the last 10 seconds
    assert rows[-1].n == 0 and rows[-2].n == 20
    assert model.current().n == 20  # the newest reported second
    model.clock.now += 2  # a whole second missing now: it really is zero
    assert model.current().n == 0


def test_accumulators_total_a_window_as_records_arrive():
    model = model_at(3.5)
    model.ingest([load_record(T0 + 1, 10), load_record(T0 + 2, 10, ungraceful=10)])
    model.add_accumulator("h", 2)
    assert model.accumulator("h").n == 20
    model.ingest([load_record(T0 + 3, 5), load_record(T0 + 1, 100)])  # second 1 is before the window
    total = model.accumulator("h")
    assert (total.n, total.ungraceful) == (25, 10)
    model.drop_accumulator("h")
    assert model.accumulator("h").n == 0


def test_breakers_and_gateway_in_use_from_sampled_metrics():
    values = {'chaosdrill_breaker_state{dependency="credit-bureau-a"}': 2.0,
              'chaosdrill_breaker_state{dependency="credit-bureau-b"}': 1.0,
              'chaosdrill_breaker_state{dependency="payment-gateway-primary"}': 0.0,
              'chaosdrill_gateway_in_use{gateway="primary"}': 0.0,
              'chaosdrill_gateway_in_use{gateway="backup"}': 1.0,
              "chaosdrill_lending_inflight": 3.0}
    breakers, in_use = read_sample_values(values)
    assert breakers == {"credit-bureau-a": "open", "credit-bureau-b": "half-open", "payment-gateway-primary": "closed"}
    assert in_use == {"gateway": "backup"}


def test_events_logged_before_t0_get_their_offset_once_t0_is_known():
    model = LiveModel("lending", clock=Clock(T0 - 2))
    model.event("stack_started", "up")
    model.t0 = T0
    assert model.recent_events(5) == [(-2.0, "stack_started", "up")]
    assert model.snapshot()["events"][0]["t"] == -2.0


def test_sparkline_squeezes_the_window_into_the_width():
    assert sparkline([], 4) == "    "
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8) == " ▂▃▄▅▆▇█"
    assert len(sparkline(list(range(180)), 60)) == 60
    assert sparkline([0, 0, 9, 0], 2, reduce="max") == " █"
