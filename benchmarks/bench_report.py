"""Render a 10-minute, 2,000 requests/s drill's journal; print time and file sizes.

Targets (issue 5): report.html under 2 MB, rendering under 3 s. The journal
is synthetic but shaped like a real one (tests/fixtures/journals/
make_fixtures.py): 4 endpoints, per-second HDR histograms per endpoint,
a bureau outage and a gateway brown-out with breakers and failover.

    python benchmarks/bench_report.py [--seconds 600] [--rps 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "journals"))

import make_fixtures as mf  # noqa: E402

from harness.report import render_all  # noqa: E402


def long_journal(seconds: int, rps: float) -> dict:
    """A drill of `seconds`: baseline, bureau down, recovery, gateway brown-out, recovery (fifths)."""
    fifth = seconds // 5
    base = mf.bureau_outage()
    slow = mf.gateway_outage()
    scen_b = {p["name"]: p for p in base["scenario"]["phases"]}

    def bureau_mix(endpoint, t):
        if endpoint == "GET /v1/users/{id}/quota":
            return [("QUOTA_DEGRADED", 0.8, 6.0, 0.4), ("CREDIT_UNAVAILABLE", 0.2, 900.0, 0.15)]
        if endpoint == "POST /v1/loans":
            return [("APPROVED_DEGRADED", 0.6, 9.0, 0.4), ("DEFERRED", 0.4, 950.0, 0.12)]
        return mf.normal_mix(endpoint, t)

    def gateway_mix(endpoint, t):
        if endpoint in ("POST /v1/loans", "POST /v1/loans/{id}/repayments"):
            return [(mf.SUCCESS_CODE[endpoint], 0.85, 150.0, 0.5), ("PENDING_RECONCILIATION", 0.12, 400.0, 0.3),
                    ("timeout", 0.03, 3000.0, 0.02)]
        return mf.normal_mix(endpoint, t)

    phases = [
        mf.PhaseSpec("baseline", fifth, scen_b["baseline"]["expect"], mf.normal_mix, []),
        mf.PhaseSpec("bureau-down", fifth, scen_b["bureau-down"]["expect"], bureau_mix, [
            mf.link_fault("lending->credit-bureau-a", "down", "down on lending->credit-bureau-a"),
            mf.link_fault("lending->credit-bureau-b", "down", "down on lending->credit-bureau-b")]),
        mf.PhaseSpec("recovery", fifth, {"recovers_within": "5s"}, mf.normal_mix, []),
        mf.PhaseSpec("gateway-slow", fifth, {"ungraceful": "== 0"}, gateway_mix, [
            mf.link_fault("lending->payment-gateway-primary", "latency",
                          "latency latency=800 jitter=200 on lending->payment-gateway-primary",
                          attributes={"latency": 800, "jitter": 200})]),
        mf.PhaseSpec("recovery-2", seconds - 4 * fifth, {"recovers_within": "5s"}, mf.normal_mix, []),
    ]

    def breakers(t):
        bureau = 2 if fifth + 2 <= t < 2 * fifth else 0
        gw = 2 if 3 * fifth + 3 <= t < 4 * fifth else 0
        return {"credit-bureau-a": bureau, "credit-bureau-b": bureau, "payment-gateway-primary": gw}

    sim = mf.simulate(phases, rps=rps, seed=7, breaker_for=breakers,
                      gateway_for=lambda t: "backup" if 3 * fifth + 3 <= t < 4 * fifth else "primary")
    expectations = base["expectations"] + slow["expectations"]
    events = mf.events_for(sim, [{"t": float(fifth + 30), "type": "note", "message": "bureau vendor paged",
                                  "data": {}}])
    return mf.journal("bench", "failed", 1, "synthetic", base["scenario"], sim, events, expectations,
                      slow["invariants"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--rps", type=float, default=2000)
    args = ap.parse_args()
    os.environ.pop("GITHUB_STEP_SUMMARY", None)

    mf.MAX_DRAWS = 1000  # every request of an endpoint-second drawn: histograms as full as real ones
    t = time.perf_counter()
    journal = long_journal(args.seconds, args.rps)
    made = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        text = json.dumps(journal, separators=(",", ":"))
        (out / "journal.json").write_text(text)
        t = time.perf_counter()
        loaded = json.loads((out / "journal.json").read_text())
        parse = time.perf_counter() - t
        t = time.perf_counter()
        paths = render_all(loaded, out)
        render = time.perf_counter() - t
        sizes = {name: p.stat().st_size for name, p in paths.items()}
    requests = sum(ep["n"] for s in journal["metrics"] for ep in s["endpoints"].values())
    html_mb = sizes["report"] / 1e6
    print(f"journal: {args.seconds} s x {len(mf.ENDPOINTS)} endpoints, {requests:,} requests, "
          f"{len(text) / 1e6:.1f} MB (built in {made:.1f} s)")
    print(f"parse journal.json: {parse:.2f} s")
    print(f"render_all:         {render:.2f} s   (target < 3 s)  {'OK' if render < 3 else 'OVER'}")
    print(f"report.html:        {html_mb:.2f} MB  (target < 2 MB) {'OK' if html_mb < 2 else 'OVER'}")
    print(f"summary.md: {sizes['summary'] / 1e3:.1f} kB, junit.xml: {sizes['junit'] / 1e3:.1f} kB")


if __name__ == "__main__":
    main()
