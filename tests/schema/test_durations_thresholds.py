"""Durations and thresholds: parsing, canonical units, checks, text forms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.schema.durations import format_duration, parse_duration
from harness.schema.thresholds import Threshold, ThresholdFor


@pytest.mark.parametrize("text,seconds", [
    ("500ms", 0.5), ("20s", 20.0), ("2m", 120.0), ("1h", 3600.0), ("1.5s", 1.5), (" 250 ms ", 0.25),
    ("750us", 0.00075), (3, 3.0), (0.25, 0.25), ("0", 0.0), (".5s", 0.5),
])
def test_durations_become_seconds(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["10x", "ten seconds", "-1s", -2, True, None, "", "1d", [1]])
def test_bad_durations_are_refused_with_an_example(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


@given(st.floats(min_value=0.001, max_value=10_000, allow_nan=False).map(lambda x: round(x, 3)))
def test_format_duration_reads_back_as_the_same_seconds(seconds):
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, rel=1e-6)


@pytest.mark.parametrize("text,op,value,kind", [
    ("< 0.5%", "<", 0.005, "share"),
    ("<= 300ms", "<=", 300.0, "time"),
    ("< 2s", "<", 2000.0, "time"),
    ("< 500us", "<", 0.5, "time"),
    ("> 0.7x", ">", 0.7, "relative"),
    ("== 0", "==", 0.0, "number"),
    ("!= 3", "!=", 3.0, "number"),
    (">= 50rps", ">=", 50.0, "rate"),
    ("<300", "<", 300.0, "number"),
])
def test_thresholds_parse_to_canonical_units(text, op, value, kind):
    t = Threshold.parse(text)
    assert (t.op, t.kind) == (op, kind)
    assert t.value == pytest.approx(value)


def test_threshold_text_form_is_what_the_user_wrote_normalized():
    assert str(Threshold.parse("<0.50%")) == "< 0.5%"
    assert str(Threshold.parse("<= 300ms")) == "<= 300ms"
    assert str(ThresholdFor.parse("> 80% for 10s")) == "> 80% for 10s"


@pytest.mark.parametrize("text,measured,ok", [
    ("< 0.5%", 0.004, True), ("< 0.5%", 0.005, False), ("<= 0.5%", 0.005, True),
    ("> 0.7x", 0.71, True), ("> 0.7x", 0.7, False), (">= 0.7x", 0.7, True),
    ("== 0", 0, True), ("== 0", 1, False), ("!= 0", 0, False), ("!= 0", 2, True),
    ("< 2s", 1999.9, True), ("< 2s", 2000.0, False),
])
def test_threshold_check(text, measured, ok):
    assert Threshold.parse(text).check(measured) is ok


def test_a_missing_measurement_never_passes():
    assert Threshold.parse("< 1%").check(None) is False
    assert Threshold.parse("!= 1").check(float("nan")) is False


@pytest.mark.parametrize("bad", ["0.5%", "< fast", "=> 1", "< 1 %%", "<< 2", 0, None, "< 1d"])
def test_bad_thresholds_are_refused(bad):
    with pytest.raises(ValueError, match="threshold"):
        Threshold.parse(bad)


def test_threshold_for_needs_a_duration():
    cond = ThresholdFor.parse("> 80% for 10s")
    assert cond.for_s == 10.0 and cond.threshold.value == pytest.approx(0.8)
    assert ThresholdFor.parse("> 80%").for_s == 0.0
    with pytest.raises(ValueError, match="duration"):
        ThresholdFor.parse("> 80% for ever")
