"""Chart geometry for server-drawn SVG: plain numbers that templates/impact/_charts.html turns into SVG.

No JavaScript and no inline styles (the CSP forbids both): geometry is SVG attributes, colours and text
sizes are classes in static/site.css. Every chart is also shown as a table, so the numbers never depend
on seeing the picture.

Legible on a phone. The SVG is scaled to the width of its box: about 304 to 324 CSS px on a phone, 724 px
beside its table on a desktop. Text sizes are in the SVG's own units, and they come from site.css
(``.chart-label, .chart-value``: 16, the month ticks ``.chart-columns .chart-label``: 14). A stylesheet
rule beats an SVG presentation attribute, so a ``font-size`` attribute could not change them: what this
module controls is the coordinate system. The charts are drawn in a viewBox narrow enough that those
sizes come out at 11 CSS px or more at 304 px (16 * 304 / 442 and 14 * 304 / 386), and laid out so that
no two texts overlap, using a deliberately generous estimate of text width (:func:`text_width`). On a
desktop the stylesheet caps a chart at 28rem, where the same text is about 18 px.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from ...domain.impact import bar_lengths

LABEL_SIZE = 16
"""The size static/site.css gives chart labels and values (.chart-label, .chart-value), in SVG units."""

TICK_SIZE = 14
"""The size static/site.css gives the month labels of a column chart (.chart-columns .chart-label)."""

PHONE_WIDTH = 304
"""The narrowest width (CSS px) a chart is drawn at on a phone: a 360 px screen minus the page's margins."""

MIN_TEXT_PX = 11
"""No chart text is smaller than this (CSS px) at :data:`PHONE_WIDTH`."""

# The widest viewBox whose text still comes out at MIN_TEXT_PX or more at PHONE_WIDTH (442 and 386 units).
BARS_WIDTH = LABEL_SIZE * PHONE_WIDTH // MIN_TEXT_PX
COLUMNS_WIDTH = TICK_SIZE * PHONE_WIDTH // MIN_TEXT_PX


def text_width(text: str, size: float) -> float:
    """An upper estimate of the drawn width of ``text``: 0.6 em for ASCII, a full em for anything else
    (Hangul, and signs such as ₩ and · whose width depends on the font)."""
    return sum(0.6 if ord(char) < 128 else 1.0 for char in unicodedata.normalize("NFC", text)) * size


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


def _widest(texts, size: float) -> int:
    return math.ceil(max((text_width(text, size) for text in texts), default=0))


def horizontal_bars(rows: list[tuple[str, int, str]], *, width: int = BARS_WIDTH, size: int = LABEL_SIZE,
                    margin: int = 6, gap: int = 8, value_room: int = 140, min_room: int = 120) -> Chart:
    """One bar per row (label, value, value text), longest for the largest value, its value after it.

    Labels stand beside their bars, right-aligned (the template anchors them at their end), when that
    leaves the bars ``min_room`` units; long labels (English category names) go on a line of their own
    above the bar instead, right-aligned to the chart's edge.
    """
    value_room = max(value_room, _widest((text for _, _, text in rows), size) + gap + margin)
    label_end = margin + _widest((label for label, _, _ in rows), size)
    beside = width - (label_end + gap) - value_room >= min_room
    if beside:
        left, row_height, thickness, bar_top = label_end + gap, size + 10, size, 0
    else:
        # The label just above its bar, and a wider gap before the next label, so that each label is
        # read with its own bar and value.
        left, row_height, thickness, bar_top = margin, 2 * size + 20, size - 2, size + 3
    room = width - left - value_room
    lengths = bar_lengths([value for _, value, _ in rows], room)
    shift = round(size * 0.35)  # from a line's middle to the baseline of text centred on it
    bars = []
    for index, ((label, value, text), length) in enumerate(zip(rows, lengths)):
        top = margin + index * row_height
        y = top + bar_top
        middle = y + thickness // 2 + shift
        if beside:
            label_x, label_y = label_end, middle
        else:
            label_x, label_y = width - margin, top + size - 2
        bars.append(Bar(label, value, text, left, y, length, thickness, label_x, label_y,
                        left + length + gap, middle))
    height = 2 * margin + max(1, len(rows)) * row_height
    return Chart("bars", width, height, bars, (left, 2, left, height - 2))


def columns(rows: list[tuple[str, int, str]], *, width: int = COLUMNS_WIDTH, size: int = TICK_SIZE,
            plot_height: int = 150, top_room: int = 12, gap: int = 4) -> Chart:
    """One column per row (month label, value, value text) with the month below.

    Every month is labelled up to a year of them, every other month up to two years, then fewer; where
    neighbouring labels would touch they alternate between two lines.
    """
    count = max(1, len(rows))
    widest = max(_widest((label for label, _, _ in rows), size), 1)
    side = widest // 2 + 2            # the first and last month's labels stay inside the chart
    step = (width - 2 * side) // count
    column_width = min(max(2, step - gap), 3 * size)  # a few months: columns, not walls
    spacing = widest + size // 2      # centre to centre, for two labels on one line not to touch
    every = 1 if count <= 12 else (2 if count <= 24 else 3)
    lines = 1 if every * step >= spacing else 2
    if lines == 2:
        every = max(every, math.ceil(spacing / (2 * step)))
    lengths = bar_lengths([value for _, value, _ in rows], plot_height)
    base = top_room + plot_height
    line = size + 4
    bars = []
    for index, ((label, value, text), length) in enumerate(zip(rows, lengths)):
        x = side + index * step + (step - column_width) // 2
        centre = x + column_width // 2
        shown = index % every == 0
        label_y = base + line + (index // every % lines) * line
        bars.append(Bar(label, value, text, x, base - length, column_width, length, centre, label_y,
                        centre, base - length - 8, show_label=shown))
    height = base + lines * line + 8
    return Chart("columns", width, height, bars, (4, base, width - 4, base))
