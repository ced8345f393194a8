"""Judge every expectation of a scenario on the run's per-second metrics.

Inputs are only the scenario, each phase's [start, end) on the metrics axis
and the Series, so a verdict can be recomputed from a saved journal.
Windows and the settle rule: windows.py; recovery: recovery.py; what each
expectation measures: measures.py; the contract: docs/expectations.md.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from harness.judge.margin import decided_by
from harness.judge.measures import Measured, counted, explain, fmt, measure
from harness.judge.recovery import STREAK, Bounds, recovery_time
from harness.judge.results import ExpectationResult, runs_of
from harness.judge.windows import SecondIndex, fault_changes, judged_seconds, phase_seconds
from harness.metrics.series import INSTANCE_SCOPE, Series, instance_scope
from harness.schema.durations import format_duration
from harness.schema.suggest import did_you_mean, known_list
from harness.schema.thresholds import Threshold

DEFAULT_SETTLE = 1.0
THRESHOLD_FIELDS = ("error_rate", "errors", "ungraceful", "slow", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_latency",
                    "throughput", "goodput")

Timing = Mapping[str, tuple[float, float]]


def normalize_timing(phases_timing: Any) -> dict[str, tuple[float, float]]:
    """{name: (start, end)} from that mapping or from journal phases [{name, start, end}]."""
    if isinstance(phases_timing, Mapping):
        return {str(k): (float(v[0]), float(v[1])) for k, v in phases_timing.items()}
    return {str(p["name"]): (float(p["start"]), float(p["end"])) for p in phases_timing}


def _faults_ended(scenario: Any, timing: Timing, phase_name: str) -> float:
    """When the last fault of an earlier phase ended; the phase start if none did."""
    latest: float | None = None
    for phase in scenario.phases:
        if phase.name == phase_name:
            break
        if phase.name not in timing:
            continue
        start = timing[phase.name][0]
        for fault in phase.faults:
            end = start + phase.fault_window(fault)[1]
            latest = end if latest is None else max(latest, end)
    return latest if latest is not None else timing[phase_name][0]


def _is_event(name: str, threshold: Threshold) -> bool:
    """Counts of bad events and the worst latency are judged on the whole phase (no settle)."""
    if name == "max_latency":
        return True
    if name == "errors":
        return True  # a count only (its share is error_rate)
    counted = name in ("ungraceful", "slow") or name.startswith(("codes.", "classes."))
    return counted and threshold.unit != "%"


def expect_thresholds(expect: Any) -> Iterable[tuple[str, Threshold]]:
    """Every threshold of one scope's expectations as (name, threshold), in the verdict's order."""
    for name in THRESHOLD_FIELDS:
        value = getattr(expect, name, None)
        if value is not None:
            yield name, value
    for code, value in (expect.codes or {}).items():
        yield f"codes.{code}", value
    for cls, value in (expect.classes or {}).items():
        yield f"classes.{cls}", value


def expect_scopes(expect: Any) -> list[tuple[str | None, Any]]:
    """A phase's expectations by scope: (None, all requests), then each endpoint and `instance NAME`."""
    return [(None, expect), *expect.endpoints.items(),
            *((instance_scope(name), sub) for name, sub in expect.instances.items())]


def _span(seconds: list[int]) -> str:
    return f"seconds {seconds[0]}-{seconds[-1]}" if seconds else "no seconds"


class _PhaseJudge:
    def __init__(self, scenario: Any, timing: Timing, index: SecondIndex, settle: float, baseline: str) -> None:
        self.scenario, self.timing, self.index, self.settle = scenario, timing, index, settle
        self.base_secs: list[int] = []
        if baseline in timing:
            b_start, b_end = timing[baseline]
            self.base_secs = judged_seconds(b_start, b_end, fault_changes(scenario.phase(baseline), b_start), settle)

    def judge_phase(self, phase: Any) -> list[ExpectationResult]:
        start, end = self.timing[phase.name]
        stat_secs = judged_seconds(start, end, fault_changes(phase, start), self.settle)
        all_secs = phase_seconds(start, end)
        out: list[ExpectationResult] = []
        for endpoint, expect in expect_scopes(phase.expect):
            missing = self._missing_endpoint(endpoint)
            for name, threshold in expect_thresholds(expect):
                secs = all_secs if _is_event(name, threshold) else stat_secs
                out.append(self._threshold(phase.name, endpoint, name, threshold, secs, missing))
            if expect.retry_after == "required":
                out.append(self._retry_after(phase.name, endpoint, all_secs, missing))
            if expect.recovers_within is not None:
                out.append(self._recovery(phase.name, endpoint, expect.recovers_within, end, missing))
        return out

    def _missing_endpoint(self, endpoint: str | None) -> str:
        if endpoint is None or endpoint in self.index.endpoints:
            return ""
        if endpoint.startswith(INSTANCE_SCOPE):
            known = [e for e in self.index.endpoints if e.startswith(INSTANCE_SCOPE)]
            return (f"{endpoint} never appears in the metrics{did_you_mean(endpoint, known)} (instances are "
                    f"the entry service's, named like lending and lending#1, and need a load that reports URLs); "
                    f"known: {known_list(known)}")
        routes = [e for e in self.index.endpoints if not e.startswith(INSTANCE_SCOPE)]  # instances are no endpoint
        return (f"endpoint '{endpoint}' never appears in the metrics{did_you_mean(endpoint, routes)}; "
                f"known: {known_list(routes)}")

    def _threshold(self, phase: str, endpoint: str | None, name: str, threshold: Threshold,
                   secs: list[int], missing: str) -> ExpectationResult:
        stats = self.index.stats(secs, endpoint)
        base = self.index.stats(self.base_secs, endpoint) if self.base_secs else None
        deadline_ms = self.scenario.deadline_s() * 1000.0 if name == "slow" else None
        m = measure(name, threshold, stats, len(secs), base, len(self.base_secs), deadline_ms=deadline_ms)
        if missing:
            return ExpectationResult(phase, endpoint, name, str(threshold), m.value, m.display, False, missing)
        if stats.n == 0 and name not in ("throughput", "goodput"):
            m = Measured(None, m.unit, "no requests", f"no requests in {_span(secs)}")
        passed = m.value is not None and threshold.check(m.value)
        why = "" if passed else explain(name, threshold, m)
        share = counted(name, stats) if threshold.unit == "%" and not passed else None
        if share is not None and stats.n:
            close = decided_by(threshold, share[0], stats.n, share[1])  # '' when more answers decided it
            why += f", {close}" if close else ""
        return ExpectationResult(phase, endpoint, name, str(threshold), m.value, m.display, passed, why,
                                 window=runs_of(secs))

    def _retry_after(self, phase: str, endpoint: str | None, secs: list[int], missing: str) -> ExpectationResult:
        stats = self.index.stats(secs, endpoint)
        n = stats.retry_after_missing
        degraded = stats.classes.get("degraded", 0)
        display = (f"{n} of {degraded} degraded answer(s) without Retry-After" if degraded
                   else "not exercised: no degraded answers to check")  # vacuous: say so rather than "0 of 0"
        if missing or stats.n == 0:
            why = missing or f"no requests in {_span(secs)}"
            return ExpectationResult(phase, endpoint, "retry_after", "required", float(n), display, False, why)
        passed = n == 0
        why = "" if passed else f"retry_after: {n} explicit degraded answer(s) came without a Retry-After header"
        return ExpectationResult(phase, endpoint, "retry_after", "required", float(n), display, passed, why,
                                 window=runs_of(secs))

    def _recovery(self, phase: str, endpoint: str | None, limit: float, end: float, missing: str) -> ExpectationResult:
        threshold = f"<= {format_duration(limit)}"
        if missing:
            return ExpectationResult(phase, endpoint, "recovers_within", threshold, None, "not measured", False, missing)
        base = self.index.stats(self.base_secs, endpoint)
        if base.n == 0:
            return ExpectationResult(phase, endpoint, "recovers_within", threshold, None, "no baseline", False,
                                     "recovers_within: the baseline phase has no requests to compare with")
        bounds = Bounds.from_baseline(base)
        ended = _faults_ended(self.scenario, self.timing, phase)
        rec = recovery_time(self.index, ended, end, bounds, endpoint)
        if rec.seconds is None:
            why = (f"recovers_within: not back within the baseline's bounds ({bounds.describe()}) for {STREAK} "
                   f"consecutive seconds by the end of the phase, {end - ended:.0f}s after the faults ended")
            return ExpectationResult(phase, endpoint, "recovers_within", threshold, None, "not recovered", False, why)
        passed = rec.seconds <= limit + 1e-9
        display = f"{fmt(rec.seconds, 's')} (second {rec.recovered_at}, faults ended at {ended:g}s)"
        why = "" if passed else (f"recovers_within: back within the baseline's bounds ({bounds.describe()}) only "
                                 f"after {fmt(rec.seconds, 's')}, over {threshold} by {fmt(rec.seconds - limit, 's')}")
        return ExpectationResult(phase, endpoint, "recovers_within", threshold, rec.seconds, display, passed, why)


def judge(scenario: Any, phases_timing: Any, series: Series, baseline_phase: str | None = None,
          settle: float = DEFAULT_SETTLE) -> list[ExpectationResult]:
    """Every expectation of every phase present in `phases_timing`, in file order.

    phases_timing: {phase name: (start, end)} in seconds on the metrics axis
    (or the journal's phases list). Phases missing from it (an aborted run)
    are not judged. `baseline_phase` defaults to the first phase; `settle`
    seconds after each phase start and fault change are left out of
    statistical expectations (windows.py).
    """
    timing = normalize_timing(phases_timing)
    index = SecondIndex(series)
    judge_ = _PhaseJudge(scenario, timing, index, settle, baseline_phase or scenario.phases[0].name)
    results: list[ExpectationResult] = []
    for phase in scenario.phases:
        if phase.expect is not None and phase.name in timing:
            results += judge_.judge_phase(phase)
    return results


__all__ = ["DEFAULT_SETTLE", "judge", "normalize_timing"]
