"""report.html and the suite's index.html: Jinja2 templates, inline CSS and SVG.

The page references nothing outside itself (no script, font, image or
stylesheet URL), so it opens offline, from a CI artifact or an e-mail.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2

from harness import __version__
from harness.report import charts
from harness.report import formatting as fmt
from harness.report.model import Run
from harness.report.svg import fmt_clock
from harness.report.trend_chart import sparkline, trend_chart


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(clock=lambda t: fmt_clock(float(t or 0)), measured=fmt.measured, judged_window=fmt.judged_window,
                       version=__version__)
    return env


@lru_cache(maxsize=1)
def _css() -> str:
    return resources.files("harness.report").joinpath("templates/report.css").read_text(encoding="utf-8")


def scenario_text(scenario: dict[str, Any]) -> str:
    """The scenario as YAML (how people write it); JSON if it will not dump."""
    from harness.schema.yaml_source import dump_yaml

    try:
        return dump_yaml(scenario)
    except Exception:
        return json.dumps(scenario, indent=2, default=str)


def render_report(run: Run, trend: list[dict[str, Any]] | None = None) -> str:
    """`trend`: the drill's last runs from the history (points of harness.history.trend), or None."""
    j = run.journal
    pictures = {
        "trend": trend_chart(trend or []),
        "timeline": charts.timeline(run) if (run.phases or run.faults) else "",
        "throughput": charts.throughput(run),
        "latency": charts.latency(run),
        "services": charts.services(run),
    }
    left = j.get("leftovers") or {}
    left_items = [f"{k}: {', '.join(map(str, v))}" for k, v in left.items() if isinstance(v, list) and v]
    return _env().get_template("report.html.j2").render(
        run=run, j=j, word=fmt.STATUS_WORD.get(run.status, run.status.upper()), counts=run.counts(),
        duration=fmt.duration(j.get("duration_s")),
        when=fmt.when(j.get("started_at"), j.get("ended_at")), env=j.get("environment") or {},
        scenario=j.get("scenario") or {}, scenario_text=scenario_text(j.get("scenario") or {}),
        charts=pictures, events=j.get("events") or [], leftovers="; ".join(left_items), css=_css(),
        trend=trend or [],
    )


def render_index(rows: list[dict[str, Any]], context: dict[str, str] | None = None) -> str:
    """Each row may carry `trend` (history points): drawn as a sparkline when there are earlier runs."""
    for row in rows:
        row["spark"] = sparkline(row.get("trend") or [])
    return _env().get_template("index.html.j2").render(rows=rows, css=_css(), status_word=fmt.STATUS_WORD,
                                                       context=context or {},
                                                       trends=any(row["spark"] for row in rows))
