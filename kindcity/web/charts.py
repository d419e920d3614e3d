"""Chart geometry for server-drawn SVG: plain numbers that templates/impact/_charts.html turns into SVG.

No JavaScript and no inline styles (the CSP forbids both): sizes are SVG attributes, colours are
classes in static/site.css. Every chart is also shown as a table, so the numbers never depend on
seeing the picture.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..domain.impact import bar_lengths


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    value_text: str
    x: int
    y: int
    width: int
    height: int
    label_x: int
    label_y: int
    value_x: int
    value_y: int
    show_label: bool = True


@dataclass(frozen=True)
class Chart:
    kind: str                 # "bars" (horizontal) or "columns"
    width: int
    height: int
    bars: list[Bar]
    baseline: tuple[int, int, int, int]  # x1, y1, x2, y2 of the axis line


def horizontal_bars(rows: list[tuple[str, int, str]], *, width: int = 720, label_width: int = 310,
                    row_height: int = 36, thickness: int = 24, value_room: int = 140) -> Chart:
    """One bar per row (label, value, value text), longest for the largest value."""
    room = width - label_width - value_room
    lengths = bar_lengths([value for _, value, _ in rows], room)
    bars = []
    for index, ((label, value, text), length) in enumerate(zip(rows, lengths)):
        top = 8 + index * row_height
        middle = top + thickness // 2 + 5
        bars.append(Bar(label, value, text, label_width, top, length, thickness, label_width - 10, middle,
                        label_width + length + 8, middle))
    height = 16 + max(1, len(rows)) * row_height
    return Chart("bars", width, height, bars, (label_width, 4, label_width, height - 4))


def columns(rows: list[tuple[str, int, str]], *, width: int = 720, height: int = 280, top_room: int = 28,
            bottom_room: int = 40, gap: int = 6) -> Chart:
    """One column per row (month label, value, value text); labels thinned out when there are many."""
    count = max(1, len(rows))
    left = 10
    step = (width - 2 * left) // count
    column_width = max(4, step - gap)
    room = height - top_room - bottom_room
    lengths = bar_lengths([value for _, value, _ in rows], room)
    every = 1 if count <= 12 else (2 if count <= 24 else 3)
    base = height - bottom_room
    bars = []
    for index, ((label, value, text), length) in enumerate(zip(rows, lengths)):
        x = left + index * step + gap // 2
        centre = x + column_width // 2
        bars.append(Bar(label, value, text, x, base - length, column_width, length, centre, base + 22,
                        centre, base - length - 8, show_label=(index % every == 0)))
    return Chart("columns", width, height, bars, (left, base, width - left, base))
