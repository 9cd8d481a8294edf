"""Tiny dependency-free SVG charts for the Markdown postmortem, which must show its figures as
images beside the file without a browser or an image exporter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape

from mlobs_notebook.times import human

W, H, PAD = 720, 300, 48
COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e")


def _scale(values: Sequence[float | None], lo_px: float, hi_px: float) -> tuple[Callable[[float], float], float, float]:
    finite = [v for v in values if v is not None]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if hi == lo:
        hi = lo + 1.0
    return lambda v: lo_px + (v - lo) / (hi - lo) * (hi_px - lo_px), lo, hi


def _frame(title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{W}" height="{H}" fill="white"/>',
        f'<text x="{W / 2}" y="18" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#999"/>',
    ]


def line_chart(
    title: str,
    series: Sequence[tuple[str, Sequence[datetime], Sequence[float | None]]],
    markers: Sequence[tuple[datetime, str]] = (),
) -> str:
    """Each series on its own y scale (left axis for the first, right for the second), against
    time (aware datetimes; the series may be in different zones)."""
    days = sorted({d for _, xs, _ in series for d in xs} | {d for d, _ in markers})
    if not days:
        return "\n".join(_frame(title) + ["</svg>"])
    first = days[0]
    span = max(1.0, (days[-1] - first).total_seconds())
    x = lambda d: PAD + (d - first).total_seconds() / span * (W - 2 * PAD)  # noqa: E731
    out = _frame(title)
    for i, (name, xs, ys) in enumerate(series):
        y, lo, hi = _scale(ys, H - PAD, 30)
        color = COLORS[i % len(COLORS)]
        points = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in zip(xs, ys, strict=True) if v is not None)
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}"/>')
        side = PAD - 4 if i == 0 else W - PAD + 4
        anchor = "end" if i == 0 else "start"
        out.append(f'<text x="{side}" y="{H - PAD}" fill="{color}" text-anchor="{anchor}">{lo:.3g}</text>')
        out.append(f'<text x="{side}" y="34" fill="{color}" text-anchor="{anchor}">{hi:.3g}</text>')
        out.append(f'<text x="{PAD + 10 + 220 * i}" y="{H - 10}" fill="{color}">{escape(name)}</text>')
    for d, label in markers:
        out.append(f'<line x1="{x(d):.1f}" y1="30" x2="{x(d):.1f}" y2="{H - PAD}" stroke="#555" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{x(d) + 3:.1f}" y="44" fill="#555">{escape(label)}</text>')
    out.append(f'<text x="{PAD}" y="{H - PAD + 14}">{escape(human(first))}</text>')
    out.append(f'<text x="{W - PAD}" y="{H - PAD + 14}" text-anchor="end">{escape(human(days[-1]))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def bar_chart(title: str, labels: Sequence[str], groups: Sequence[tuple[str, Sequence[float]]]) -> str:
    """Side-by-side bars per label (e.g. baseline and current share per bin)."""
    out = _frame(title)
    n = max(1, len(labels))
    slot = (W - 2 * PAD) / n
    top = max([v for _, vs in groups for v in vs] + [1e-12])
    width = slot * 0.8 / max(1, len(groups))
    for g, (name, values) in enumerate(groups):
        color = COLORS[(g + 1) % len(COLORS)]
        for i, v in enumerate(values):
            h = v / top * (H - PAD - 40)
            out.append(
                f'<rect x="{PAD + i * slot + slot * 0.1 + g * width:.1f}" y="{H - PAD - h:.1f}" '
                f'width="{width:.1f}" height="{h:.1f}" fill="{color}" fill-opacity="0.75"/>'
            )
        out.append(f'<text x="{PAD + 10 + 160 * g}" y="{H - 10}" fill="{color}">{escape(name)}</text>')
    for i, label in enumerate(labels):
        out.append(
            f'<text x="{PAD + (i + 0.5) * slot:.1f}" y="{H - PAD + 14}" text-anchor="middle" font-size="9">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)
