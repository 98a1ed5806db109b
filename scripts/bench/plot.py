"""A line plot as a self-contained SVG, so the report needs no plotting library.

line_plot() draws one line per series, points sorted by x. With logx (logy) the axis is
logarithmic and every value on it must be positive.
"""

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape

from common import BenchError

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
MARKERS = ["circle", "square", "triangle", "diamond"]
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"


def fmt(value):
    """A tick label: integers without decimals, otherwise up to 3 significant digits."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e6 or magnitude < 1e-3:
        return f"{value:.2g}".replace("e+0", "e").replace("e-0", "e-")
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", "\u2009")  # thin space as thousands separator
    return f"{value:.3g}"


def nice_step(span, target):
    raw = span / max(target, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def linear_ticks(low, high, target=6):
    if low == high:
        low, high = (low - 1, high + 1) if low == 0 else (low - abs(low) * 0.1, high + abs(high) * 0.1)
    step = nice_step(high - low, target)
    start = math.floor(low / step) * step
    end = math.ceil(high / step) * step
    ticks = []
    value = start
    while value <= end + step / 2:
        ticks.append(round(value, 12))
        value += step
    return start, end, ticks


def log_ticks(low, high):
    """Axis ends on the ticks just around the data: 1-2-5 ticks over few decades, powers of ten
    over many."""
    lo_exp = math.floor(math.log10(low) + 1e-9)
    hi_exp = math.ceil(math.log10(high) - 1e-9)
    if hi_exp == lo_exp:
        hi_exp += 1
    factors = (1, 2, 5) if hi_exp - lo_exp <= 3 else (1,)
    candidates = [f * 10**e for e in range(lo_exp, hi_exp + 1) for f in factors]
    candidates = [c for c in candidates if c <= 10**hi_exp]
    start = max(c for c in candidates if c <= low * 1.0001)
    end = min(c for c in candidates if c >= high / 1.0001)
    if start == end:  # a single value: one tick either side of it
        start = max([c for c in candidates if c < start] or [start / 10])
        end = min([c for c in candidates if c > end] or [end * 10])
        candidates = sorted(set(candidates) | {start, end})
    return start, end, [c for c in candidates if start <= c <= end]


class Axis:
    def __init__(self, values, log, pixel_low, pixel_high, include_zero):
        self.log = log
        if log:
            bad = [v for v in values if v <= 0]
            if bad:
                raise BenchError(f"plot: a log axis needs positive values, got {bad[0]}")
            self.low, self.high, self.ticks = log_ticks(min(values), max(values))
        else:
            low, high = min(values), max(values)
            if include_zero:
                low, high = min(low, 0), max(high, 0)
            self.low, self.high, self.ticks = linear_ticks(low, high)
        self.pixel_low, self.pixel_high = pixel_low, pixel_high

    def __call__(self, value):
        if self.log:
            frac = (math.log10(value) - math.log10(self.low)) / (
                math.log10(self.high) - math.log10(self.low)
            )
        else:
            frac = (value - self.low) / (self.high - self.low)
        return self.pixel_low + frac * (self.pixel_high - self.pixel_low)


def marker(kind, x, y, color):
    r = 4
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{color}"/>'
    if kind == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" fill="{color}"/>'
    if kind == "triangle":
        pts = f"{x:.1f},{y - r - 1:.1f} {x - r - 1:.1f},{y + r:.1f} {x + r + 1:.1f},{y + r:.1f}"
        return f'<polygon points="{pts}" fill="{color}"/>'
    pts = f"{x:.1f},{y - r - 1:.1f} {x + r + 1:.1f},{y:.1f} {x:.1f},{y + r + 1:.1f} {x - r - 1:.1f},{y:.1f}"
    return f'<polygon points="{pts}" fill="{color}"/>'


def text_width(text, size):
    """Rough width of sans-serif text (for layout only)."""
    return len(text) * size * 0.58


@dataclass
class Options:
    title: str
    xlabel: str
    ylabel: str
    legend_title: str = ""
    logx: bool = False
    logy: bool = False
    width: int = 760
    height: int = 460


def line_plot(series, opts):
    """SVG text of the series, a list of (name, [(x, y), ...]), drawn with the Options given."""
    series = [(name, sorted(points)) for name, points in series if points]
    if not series:
        raise BenchError("plot: nothing to plot")
    width, height = opts.width, opts.height
    title_size, label_size, tick_size, legend_size = 17, 13, 12, 12
    xs = [x for _, pts in series for x, _ in pts]
    ys = [y for _, pts in series for _, y in pts]

    # Margins: room for the title, the y tick labels and both axis labels.
    top = 48
    bottom = 58
    left = 70
    right = 24
    # Legend on the right when there are several series.
    show_legend = len(series) > 1 or opts.legend_title
    legend_w = 0
    if show_legend:
        legend_w = max(text_width(name, legend_size) for name, _ in series) + 44
        right += legend_w
    plot_l, plot_r = left, width - right
    plot_t, plot_b = top, height - bottom

    ax = Axis(xs, opts.logx, plot_l, plot_r, include_zero=False)
    ay = Axis(ys, opts.logy, plot_b, plot_t, include_zero=not opts.logy)
    y_tick_w = max(text_width(fmt(t), tick_size) for t in ay.ticks)
    if left < y_tick_w + 40:  # widen the left margin for long tick labels, then recompute
        left = int(y_tick_w + 40)
        plot_l = left
        ax = Axis(xs, opts.logx, plot_l, plot_r, include_zero=False)

    out = []
    add = out.append
    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" role="img">'
    )
    add(f"<title>{escape(opts.title)}</title>")
    add(f'<rect width="{width}" height="{height}" fill="#ffffff"/>')
    add(
        f'<text x="{(plot_l + plot_r) / 2:.1f}" y="{top - 20}" text-anchor="middle" '
        f'font-size="{title_size}" font-weight="bold" fill="#222">{escape(opts.title)}</text>'
    )

    # Grid and ticks.
    add('<g stroke="#e3e3e3" stroke-width="1">')
    for t in ay.ticks:
        add(f'<line x1="{plot_l}" y1="{ay(t):.1f}" x2="{plot_r}" y2="{ay(t):.1f}"/>')
    for t in ax.ticks:
        add(f'<line x1="{ax(t):.1f}" y1="{plot_t}" x2="{ax(t):.1f}" y2="{plot_b}"/>')
    add("</g>")
    add(f'<g font-size="{tick_size}" fill="#333">')
    for t in ay.ticks:
        add(
            f'<text x="{plot_l - 8}" y="{ay(t) + 4:.1f}" text-anchor="end">{escape(fmt(t))}</text>'
        )
    for t in ax.ticks:
        add(
            f'<text x="{ax(t):.1f}" y="{plot_b + 18}" text-anchor="middle">{escape(fmt(t))}</text>'
        )
    add("</g>")
    add('<g stroke="#555" stroke-width="1">')
    for t in ay.ticks:
        add(f'<line x1="{plot_l - 4}" y1="{ay(t):.1f}" x2="{plot_l}" y2="{ay(t):.1f}"/>')
    for t in ax.ticks:
        add(f'<line x1="{ax(t):.1f}" y1="{plot_b}" x2="{ax(t):.1f}" y2="{plot_b + 4}"/>')
    add("</g>")
    add(
        f'<rect x="{plot_l}" y="{plot_t}" width="{plot_r - plot_l}" height="{plot_b - plot_t}" '
        'fill="none" stroke="#555" stroke-width="1"/>'
    )

    # Axis labels.
    xlabel, ylabel = opts.xlabel, opts.ylabel
    add(
        f'<text x="{(plot_l + plot_r) / 2:.1f}" y="{height - 16}" text-anchor="middle" '
        f'font-size="{label_size}" fill="#222">{escape(xlabel)}</text>'
    )
    cy = (plot_t + plot_b) / 2
    add(
        f'<text x="18" y="{cy:.1f}" text-anchor="middle" font-size="{label_size}" fill="#222" '
        f'transform="rotate(-90 18 {cy:.1f})">{escape(ylabel)}</text>'
    )

    # Lines and markers.
    for i, (name, pts) in enumerate(series):
        color = COLORS[i % len(COLORS)]
        kind = MARKERS[i % len(MARKERS)]
        path = " ".join(f"{ax(x):.1f},{ay(y):.1f}" for x, y in pts)
        add(f'<g><title>{escape(name)}</title>')
        if len(pts) > 1:
            add(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2.2" '
                'stroke-linejoin="round" stroke-linecap="round"/>'
            )
        for x, y in pts:
            add(marker(kind, ax(x), ay(y), color))
        add("</g>")

    # Legend.
    if show_legend:
        lx = plot_r + 16
        ly = plot_t + 6
        box_h = 22 * len(series) + 10
        add(
            f'<rect x="{lx - 6}" y="{ly - 4}" width="{legend_w - 10:.1f}" height="{box_h}" '
            'fill="#fff" stroke="#ccc" rx="3"/>'
        )
        if opts.legend_title:
            add(
                f'<text x="{lx}" y="{ly - 10}" font-size="{legend_size}" fill="#555">'
                f"{escape(opts.legend_title)}</text>"
            )
        for i, (name, _) in enumerate(series):
            color = COLORS[i % len(COLORS)]
            y = ly + 14 + 22 * i
            add(
                f'<line x1="{lx}" y1="{y - 4}" x2="{lx + 22}" y2="{y - 4}" stroke="{color}" '
                'stroke-width="2.2"/>'
            )
            add(marker(MARKERS[i % len(MARKERS)], lx + 11, y - 4, color))
            add(
                f'<text x="{lx + 30}" y="{y}" font-size="{legend_size}" fill="#222">'
                f"{escape(name)}</text>"
            )
    add("</svg>")
    return "\n".join(out) + "\n"
