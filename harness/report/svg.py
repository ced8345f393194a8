"""Tiny inline-SVG chart primitives: scales, thinned ticks, axes, legends.

Our own ~300 lines instead of a plotting library because a report must be
one file that opens with no network, prints cleanly and renders a
10-minute drill in well under a second (docs/reports.md weighs matplotlib
and Vega-Lite). Every chart of a report uses the same `Frame` geometry so
their time axes line up pixel for pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import Callable, Iterable, Sequence

# Okabe & Ito (2008), safe for the common colour-vision deficiencies.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

WIDTH = 960
MARGIN_LEFT = 72
MARGIN_RIGHT = 20
CHAR_W = 6.2  # rough width of one 11px sans-serif character, for layout without a font engine


def text_width(text: str, size: float = 11) -> float:
    return len(text) * CHAR_W * size / 11


def clip_text(text: str, width: float, size: float = 11) -> str:
    """`text` cut to `width` pixels with an ellipsis (the full text goes in a <title> beside it)."""
    if text_width(text, size) <= width:
        return text
    keep = max(1, int(width / (CHAR_W * size / 11)) - 1)
    return text[:keep] + "…"


def fmt_num(v: float) -> str:
    """Short number for tick labels: 1.5k, 20, 0.25."""
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:g}M"
    if a >= 1e3:
        return f"{v / 1e3:g}k"
    if a >= 1:
        return f"{v:g}"
    return f"{v:.3g}"


def fmt_ms_tick(v: float) -> str:
    """Latency tick labels carry their unit: 30 ms, 300 ms, 3 s."""
    return f"{v / 1000:g} s" if v >= 1000 else f"{v:g} ms"


def fmt_clock(seconds: float) -> str:
    """Offsets from t0 as m:ss (or h:mm:ss), the way people read drill timelines."""
    sign = "-" if seconds < 0 else ""
    s = int(round(abs(seconds)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{sign}{h}:{m:02d}:{sec:02d}" if h else f"{sign}{m}:{sec:02d}"


def nice_step(span: float, max_ticks: int) -> float:
    """A 1/2/5 x 10^k step giving at most `max_ticks` intervals over `span`."""
    if span <= 0 or max_ticks < 1:
        return 1.0
    raw = span / max_ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def linear_ticks(lo: float, hi: float, max_ticks: int) -> list[float]:
    step = nice_step(hi - lo, max_ticks)
    first = math.ceil(lo / step - 1e-9) * step
    out, v = [], first
    while v <= hi + step * 1e-9:
        out.append(round(v, 10))
        v += step
    return out


_TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)


def time_ticks(lo: float, hi: float, max_ticks: int) -> list[float]:
    """Ticks on whole seconds/minutes so labels read 0:30, 1:00, ..."""
    span = hi - lo
    step = next((s for s in _TIME_STEPS if span / s <= max_ticks), _TIME_STEPS[-1])
    first = math.ceil(lo / step) * step
    return [float(t) for t in range(int(first), int(hi) + 1, step)]


def log_ticks(lo: float, hi: float, max_ticks: int) -> list[float]:
    """1/2/5 x 10^k ticks, thinned to decades when there is no room."""
    lo, hi = max(lo, 1e-9), max(hi, lo * 10)
    for mults in ((1, 2, 5), (1, 3), (1,)):
        ticks = [m * 10**k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
                 for m in mults if lo <= m * 10**k <= hi]
        if len(ticks) <= max_ticks:
            return ticks
    k0, k1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    every = math.ceil((k1 - k0 + 1) / max_ticks)
    return [10.0**k for k in range(k0, k1 + 1, every) if lo <= 10**k <= hi]


@dataclass
class Scale:
    """Maps a domain to pixels; log=True maps log10 of the value."""

    d0: float
    d1: float
    r0: float
    r1: float
    log: bool = False

    def __post_init__(self) -> None:
        if self.log:
            self.d0, self.d1 = max(self.d0, 1e-9), max(self.d1, self.d0 * 10)
        if self.d1 == self.d0:
            self.d1 = self.d0 + 1

    def __call__(self, v: float) -> float:
        if self.log:
            v = max(v, self.d0)
            f = (math.log10(v) - math.log10(self.d0)) / (math.log10(self.d1) - math.log10(self.d0))
        else:
            f = (v - self.d0) / (self.d1 - self.d0)
        return self.r0 + f * (self.r1 - self.r0)


@dataclass
class Frame:
    """One chart: a plot area under a title/legend row, over a time axis."""

    t0: float
    t1: float
    plot_height: int
    top: int = 30  # room for the legend row
    bottom: int = 38  # room for the time axis and its label
    parts: list[str] = field(default_factory=list)

    @property
    def height(self) -> int:
        return self.top + self.plot_height + self.bottom

    @property
    def x(self) -> Scale:
        return Scale(self.t0, self.t1, MARGIN_LEFT, WIDTH - MARGIN_RIGHT)

    @property
    def plot_bottom(self) -> int:
        return self.top + self.plot_height

    def add(self, svg: str) -> None:
        self.parts.append(svg)

    def render(self, label: str, css_class: str = "chart") -> str:
        return (
            f'<svg class="{css_class}" viewBox="0 0 {WIDTH} {self.height}" role="img" '
            f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
            + "".join(self.parts)
            + "</svg>"
        )

    # --- axes ---------------------------------------------------------------
    def time_axis(self, title: str = "time since the first phase started (m:ss)") -> None:
        x = self.x
        width_px = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
        y = self.plot_bottom
        self.add(f'<line class="axis" x1="{MARGIN_LEFT}" y1="{y}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y}"/>')
        for t in time_ticks(self.t0, self.t1, max(2, int(width_px // 64))):
            px = x(t)
            # Baseline 18 px under the axis: an 11 px label's box (about 10 px up, 3 down from its
            # baseline) then starts below the box of the lowest value label, which sits 4 px under
            # the axis (at 15 px the two touched with DejaVu Sans, Debian's only font by default).
            self.add(f'<line class="tick" x1="{px:.1f}" y1="{y}" x2="{px:.1f}" y2="{y + 4}"/>'
                     f'<text class="tl" x="{px:.1f}" y="{y + 18}" text-anchor="middle">{fmt_clock(t)}</text>')
        self.add(f'<text class="at" x="{(MARGIN_LEFT + WIDTH - MARGIN_RIGHT) / 2}" y="{y + 34}" '
                 f'text-anchor="middle">{escape(title)}</text>')

    def value_axis(self, y: Scale, title: str, ticks: Sequence[float], fmt: Callable[[float], str] = fmt_num) -> None:
        """Left axis with horizontal grid lines; `ticks` already thinned."""
        for v in ticks:
            py = y(v)
            self.add(f'<line class="grid" x1="{MARGIN_LEFT}" y1="{py:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{py:.1f}"/>'
                     f'<text class="tl" x="{MARGIN_LEFT - 6}" y="{py + 4:.1f}" text-anchor="end">{fmt(v)}</text>')
        cy = self.top + self.plot_height / 2
        self.add(f'<text class="at" transform="translate(14 {cy:.0f}) rotate(-90)" text-anchor="middle">'
                 f'{escape(title)}</text>')
        self.add(f'<line class="axis" x1="{MARGIN_LEFT}" y1="{self.top}" x2="{MARGIN_LEFT}" y2="{self.plot_bottom}"/>')

    def legend(self, items: Iterable[tuple[str, str, str]]) -> None:
        """Items (label, colour, 'box'|'line'|'dash'|'dot'|'ring'|a band's CSS class '...-band') in one row
        above the plot."""
        px = MARGIN_LEFT
        for label, colour, kind in items:
            if kind == "box":
                self.add(f'<rect x="{px}" y="8" width="12" height="12" fill="{colour}"/>')
            elif kind in ("dot", "ring"):
                paint = f'fill="{colour}"' if kind == "dot" else f'fill="none" stroke="{colour}" stroke-width="2"'
                self.add(f'<circle cx="{px + 6}" cy="14" r="5" {paint}/>')
            elif kind.endswith("-band"):
                self.add(f'<rect class="{kind}" x="{px}" y="8" width="12" height="12"/>')
            else:
                dash = ' stroke-dasharray="3 3"' if kind == "dash" else ""
                self.add(f'<line x1="{px}" y1="14" x2="{px + 14}" y2="14" stroke="{colour}" stroke-width="2.5"{dash}/>')
            self.add(f'<text class="lg" x="{px + 18}" y="18">{escape(label)}</text>')
            px += 18 + text_width(label) + 16

    # --- overlays -----------------------------------------------------------
    def bands(self, spans: Iterable[tuple[float, float, str]], css_class: str) -> None:
        """Translucent vertical bands over the plot (fault windows, a saturated load), with a tooltip."""
        x = self.x
        for start, end, title in spans:
            a, b = x(max(start, self.t0)), x(min(end, self.t1))
            if b <= a:
                continue
            self.add(f'<rect class="{css_class}" x="{a:.1f}" y="{self.top}" width="{b - a:.1f}" '
                     f'height="{self.plot_height}"><title>{escape(title)}</title></rect>')

    def markers(self, times: Iterable[tuple[float, str]], css_class: str) -> None:
        x = self.x
        for t, title in times:
            if self.t0 <= t <= self.t1:
                px = x(t)
                self.add(f'<line class="{css_class}" x1="{px:.1f}" y1="{self.top}" x2="{px:.1f}" '
                         f'y2="{self.plot_bottom}"><title>{escape(title)}</title></line>')


def path_d(points: Iterable[tuple[float, float]]) -> str:
    """An SVG path through points, one decimal place (keeps big charts small)."""
    out = []
    cmd = "M"
    for px, py in points:
        out.append(f"{cmd}{px:.1f} {py:.1f}")
        cmd = "L"
    return "".join(out)


def step_points(ts: Sequence[float], vs: Sequence[float], x: Scale, y: Scale) -> list[tuple[float, float]]:
    """Points of a per-second value held over its whole second [t, t+1)."""
    pts: list[tuple[float, float]] = []
    for t, v in zip(ts, vs):
        py = y(v)
        pts.append((x(t), py))
        pts.append((x(t + 1), py))
    return pts
