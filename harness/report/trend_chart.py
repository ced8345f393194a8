"""A drill's score over its last runs: a chart for report.html, a sparkline for the suite index.

The points come from the run history (harness/history/trend.py), handed in
by the caller as plain data, so this module (like all of harness/report)
never opens the store. Runs are spaced evenly, oldest left: runs come at
irregular times, and what a reader looks for is the run where the score
dropped and the verdict turned, each dot coloured by its verdict.
"""

from __future__ import annotations

from html import escape
from typing import Any, Sequence

from harness.report.svg import MARGIN_LEFT, MARGIN_RIGHT, WIDTH, Frame, Scale, path_d, text_width

__all__ = ["STATUS_COLOURS", "sparkline", "trend_chart"]

# the badges' colours (report.css), so a dot reads like the verdict it stands for
STATUS_COLOURS = {"passed": "#009E73", "failed": "#D55E00", "aborted": "#8a3ffc", "error": "#6b6b6b"}
SPARK_W, SPARK_H = 120, 30


def _colour(point: dict[str, Any]) -> str:
    return STATUS_COLOURS.get(str(point.get("status")), STATUS_COLOURS["error"])


def _line(xs: Sequence[float], points: Sequence[dict[str, Any]], y: Scale) -> str:
    """The score line through scored runs; a run without a score (a harness error) breaks it."""
    d, run = "", []
    for px, p in zip(xs, points):
        if p.get("score") is None:
            d, run = d + (path_d(run) if len(run) > 1 else ""), []
        else:
            run.append((px, y(float(p["score"]))))
    return d + (path_d(run) if len(run) > 1 else "")


def _dot(px: float, py: float, point: dict[str, Any], r: float) -> str:
    colour = _colour(point)
    paint = f'fill="{colour}"' if point.get("score") is not None else f'fill="#fff" stroke="{colour}" stroke-width="2"'
    ring = (f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{r + 3.5:.1f}" fill="none" stroke="#1d2430" stroke-width="1.5"/>'
            if point.get("current") else "")
    return (f'<g class="run">{ring}<circle cx="{px:.1f}" cy="{py:.1f}" r="{r}" {paint}/>'
            f'<title>{escape(str(point.get("label") or ""))}</title></g>')


def trend_chart(points: Sequence[dict[str, Any]]) -> str:
    """The score of each run on a 0-100 axis, a verdict-coloured dot per run, this run ringed;
    "" with fewer than two runs (nothing to compare yet)."""
    if len(points) < 2:
        return ""
    n = len(points)
    f = Frame(-0.5, n - 0.5, 110)
    x, y = f.x, Scale(0, 100, f.plot_bottom, f.top)
    f.value_axis(y, "score", [0, 25, 50, 75, 100])
    xs = [x(i) for i in range(n)]
    f.add(f'<path class="line" stroke="#0072B2" d="{_line(xs, points, y)}"/>')
    radius = 5 if n <= 60 else 3
    for px, p in zip(xs, points):
        f.add(_dot(px, y(float(p["score"])) if p.get("score") is not None else f.plot_bottom, p, radius))
    # run labels (start date and time), thinned to the pixels, always the newest (rightmost) one
    label_w = text_width("12-31 23:59") + 16
    every = max(1, int(-(-(label_w * n) // (WIDTH - MARGIN_LEFT - MARGIN_RIGHT))))
    base = f.plot_bottom
    f.add(f'<line class="axis" x1="{MARGIN_LEFT}" y1="{base}" x2="{WIDTH - MARGIN_RIGHT}" y2="{base}"/>')
    for i in range(n - 1, -1, -every):
        text = str(points[i].get("when") or "")[5:16]
        half = text_width(text) / 2 + 2  # the newest run sits near the right edge: keep its label inside
        tx = min(max(xs[i], half), WIDTH - half)
        f.add(f'<line class="tick" x1="{xs[i]:.1f}" y1="{base}" x2="{xs[i]:.1f}" y2="{base + 4}"/>'
              f'<text class="tl" x="{tx:.1f}" y="{base + 18}" text-anchor="middle">{escape(text)}</text>')
    f.add(f'<text class="at" x="{(MARGIN_LEFT + WIDTH - MARGIN_RIGHT) / 2}" y="{base + 34}" text-anchor="middle">'
          f'runs of this drill, oldest first (start, UTC)</text>')
    seen = {str(p.get("status")) for p in points}
    items = [(word, STATUS_COLOURS[word], "dot") for word in STATUS_COLOURS if word in seen and word != "error"]
    if "error" in seen or any(p.get("score") is None for p in points):
        items.append(("no score", STATUS_COLOURS["error"], "ring"))
    if any(p.get("current") for p in points):
        items.append(("this run", "#1d2430", "ring"))
    f.legend(items)
    return f.render(f"score over the last {n} runs", "chart trend")


def sparkline(points: Sequence[dict[str, Any]]) -> str:
    """The same in 150 x 34 px for a row of the suite index (no text: each dot's title says it all)."""
    if len(points) < 2:
        return ""
    pad = 8  # room for this run's ring
    step = (SPARK_W - 2 * pad) / (len(points) - 1)
    xs = [pad + i * step for i in range(len(points))]
    y = Scale(0, 100, SPARK_H - pad, pad)
    parts = [f'<line x1="0" y1="{y(0):.1f}" x2="{SPARK_W}" y2="{y(0):.1f}" stroke="#e6e9ee"/>',
             f'<path class="line" stroke="#0072B2" stroke-width="1.2" d="{_line(xs, points, y)}"/>']
    for px, p in zip(xs, points):
        parts.append(_dot(px, y(float(p["score"])) if p.get("score") is not None else y(0), p, 2.5))
    return (f'<svg class="spark" viewBox="0 0 {SPARK_W} {SPARK_H}" width="{SPARK_W}" height="{SPARK_H}" role="img" '
            f'aria-label="score over the last {len(points)} runs" xmlns="http://www.w3.org/2000/svg">'
            + "".join(parts) + "</svg>")
