"""The écart per hotel over time as an inline SVG line chart (no script, no CDN: opens offline)."""

from __future__ import annotations

import datetime as dt
from html import escape

from lettrage.recon.money import format_cents

# Distinguishable on screen and in print; a hotel keeps its colour (hotels are sorted).
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22"]
WIDTH, HEIGHT = 860, 320
LEFT, RIGHT, TOP, BOTTOM = 90, 170, 20, 50


def _ticks(low: int, high: int, count: int = 5) -> list[int]:
    if low == high:
        return [low]
    step = (high - low) / (count - 1)
    return [round(low + i * step) for i in range(count)]


def ecart_chart(series: dict[str, list[tuple[dt.date, int]]], currencies: dict[str, str] | None = None,
                title: str = "Écart per hotel") -> str:
    """SVG of one line per hotel: x the business dates, y the écart (0 marked). Hotels keeping
    their books in different currencies share the axis in plain amounts, each named with its own."""
    currencies = currencies or {}
    mixed = len(set(currencies.get(h, "EUR") for h in series)) > 1
    currency = "" if mixed else next(iter(currencies.values()), "EUR")
    dates = sorted({d for points in series.values() for d, _ in points})
    values = [v for points in series.values() for _, v in points] + [0]
    if not dates:
        return f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}: no data" ' \
               f'width="{WIDTH}" height="60"><text x="10" y="30">No reconciled business date yet.</text></svg>'
    low, high = min(values), max(values)
    if low == high:
        low, high = low - 100, high + 100
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: dt.date) -> float:
        return LEFT + (plot_w * dates.index(day) / (len(dates) - 1) if len(dates) > 1 else plot_w / 2)

    def y(cents: int) -> float:
        return TOP + plot_h * (high - cents) / (high - low)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
             f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" '
             f'font-size="11">', f"<title>{escape(title)}</title>"]
    for tick in _ticks(low, high):
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="#e5e5e5"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                     f"{escape(format_cents(tick, currency).strip())}</text>")
    parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#333" '
                 f'stroke-dasharray="4 3"/>')
    label_every = max(1, len(dates) // 10)
    for i, day in enumerate(dates):
        if i % label_every == 0 or i == len(dates) - 1:
            parts.append(f'<text x="{x(day):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
                         f"{day:%d/%m}</text>")
    for n, (hotel, points) in enumerate(sorted(series.items())):
        colour = PALETTE[n % len(PALETTE)]
        points = sorted(points)
        coords = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in points)
        parts.append(f'<g class="hotel" data-hotel="{escape(hotel)}">')
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>')
        for d, v in points:
            parts.append(f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}" '
                         f'data-date="{d.isoformat()}" data-cents="{v}"><title>{escape(hotel)} {d.isoformat()}: '
                         f"{escape(format_cents(v, currencies.get(hotel, 'EUR')))}</title></circle>")
        ly = TOP + 16 * n + 8
        label = f"{hotel} ({currencies.get(hotel, 'EUR')})" if mixed else hotel
        parts.append(f'<rect x="{WIDTH - RIGHT + 16}" y="{ly - 8}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{WIDTH - RIGHT + 34}" y="{ly + 2}">{escape(label)}</text></g>')
    parts.append("</svg>")
    return "\n".join(parts)
