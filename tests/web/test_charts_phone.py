"""The /impact charts are legible on a phone: drawn at 304 CSS px wide (a 360 px screen), every text is at
least 11 px and no two texts overlap or leave the chart.

The SVG is parsed as the template renders it. A text's size is the one the browser uses: a static/site.css
rule that matches its class wins over a ``font-size`` attribute (SVG presentation attributes lose to any
stylesheet rule), so both are read. Widths are estimated generously: 0.6 em a Latin character, 1 em a
Hangul syllable (and any other non-ASCII sign).
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from itertools import combinations, pairwise
from pathlib import Path

import pytest
from flask import render_template_string

from kindcity.web.public.charts import columns, horizontal_bars

ROOT = Path(__file__).resolve().parents[2]
PHONE = 304
MIN_PX = 11
SVG = "{http://www.w3.org/2000/svg}"
MACRO = '{% from "impact/_charts.html" import chart %}{{ chart("c", "title", "description", c, ["a", "b"], []) }}'


# --- reading the SVG ---------------------------------------------------------------------------------

def _css_font_sizes() -> list[tuple[tuple[str, ...], int, float]]:
    """(classes the rule needs: ancestor's then the text's, specificity, size) for site.css's chart rules."""
    css = re.sub(r"/\*.*?\*/", "", (ROOT / "static" / "site.css").read_text(encoding="utf-8"), flags=re.DOTALL)
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        size = re.search(r"font-size\s*:\s*([\d.]+)px", body)
        if not size:
            continue
        for selector in selectors.split(","):
            parts = selector.split()
            if parts and all(re.fullmatch(r"\.[\w-]+", part) for part in parts) and "chart" in selector:
                rules.append((tuple(part[1:] for part in parts), len(parts), float(size.group(1))))
    return rules


def _font_size(text: ET.Element, svg: ET.Element, rules) -> float:
    own, outer = set((text.get("class") or "").split()), set((svg.get("class") or "").split())
    matching = [(specificity, size) for classes, specificity, size in rules
                if classes[-1] in own and all(c in outer for c in classes[:-1])]
    if matching:
        return max(matching)[1]
    assert text.get("font-size"), f"{text.text!r} takes the page's font size: give it one"
    return float(text.get("font-size"))


def text_width(text: str, size: float) -> float:
    return sum(0.6 if ord(char) < 128 else 1.0 for char in text) * size


def _boxes(svg_markup: str, rules) -> tuple[float, float, list[dict]]:
    svg = ET.fromstring(svg_markup)
    _, _, width, height = (float(n) for n in svg.get("viewBox").split())
    boxes = []
    for text in svg.iter(f"{SVG}text"):
        content = "".join(text.itertext())
        size = _font_size(text, svg, rules)
        x, y, w = float(text.get("x")), float(text.get("y")), text_width(content, size)
        left = {"end": x - w, "middle": x - w / 2}.get(text.get("text-anchor"), x)
        boxes.append({"text": content, "size": size, "left": left, "right": left + w,
                      "top": y - 0.88 * size, "bottom": y + 0.22 * size})
    return width, height, boxes


def _overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def assert_legible_on_a_phone(svg_markup: str, rules) -> None:
    width, height, boxes = _boxes(svg_markup, rules)
    assert boxes
    for box in boxes:
        rendered = box["size"] * PHONE / width
        assert rendered >= MIN_PX, f"{box['text']!r} is {rendered:.1f} px at {PHONE} px"
        assert box["left"] >= 0 and box["right"] <= width, f"{box['text']!r} leaves the chart sideways"
        assert box["top"] >= 0 and box["bottom"] <= height, f"{box['text']!r} leaves the chart"
    for a, b in combinations(boxes, 2):
        assert not _overlap(a, b), f"{a['text']!r} and {b['text']!r} overlap"


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, re.DOTALL)


# --- data --------------------------------------------------------------------------------------------

DISTRICT = json.loads((ROOT / "kindcity" / "data" / "districts" / "gwangju-seogu.json").read_text(encoding="utf-8"))
AMOUNTS = [5_700_000, 123_456_789, 0, 350_000, 12_000, 98_765_432, 1, 45_000_000, 0, 7, 800_000, 0,
           3_000_000, 0, 0, 5, 600, 2_000_000]


def _won(amount: int, lang: str) -> str:
    return f"{amount:,}원" if lang == "ko" else f"₩{amount:,}"


def _rows(kind: str, lang: str, amounts=AMOUNTS) -> list[tuple[str, int, str]]:
    return [(item[f"name_{lang}"], amount, _won(amount, lang)) for item, amount in zip(DISTRICT[kind], amounts)]


def _months(count: int) -> list[tuple[str, int, str]]:
    return [(f"{24 + index // 12}.{index % 12 + 1:02d}", (index * 7919) % 100 * 1000, "") for index in range(count)]


CHARTS = {
    **{f"{kind} {lang}": (lambda kind=kind, lang=lang: horizontal_bars(_rows(kind, lang)))
       for kind in ("categories", "dongs") for lang in ("ko", "en")},
    "dongs en, a billion won": lambda: horizontal_bars(_rows("dongs", "en", [1_234_567_890] * 18)),
    "one row": lambda: horizontal_bars([("양동", 1, "1원")]),
    "nothing placed": lambda: horizontal_bars([("아동", 0, "0원")]),
    **{f"{count} months": (lambda count=count: columns(_months(count))) for count in (1, 3, 12, 13, 24, 36, 60)},
}


# --- tests -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CHARTS))
def test_each_chart_is_legible_at_phone_width(app, name):
    rules = _css_font_sizes()
    with app.test_request_context("/"):
        markup = render_template_string(MACRO, c=CHARTS[name]())
    [svg] = _svgs(markup)
    assert_legible_on_a_phone(svg, rules)


def test_the_month_axis_names_enough_months(app):
    """Thinning the labels out never leaves a long stretch unnamed: every month up to a year, then at
    least every third month up to three years, every sixth up to five."""
    for count, most in ((12, 1), (24, 3), (36, 3), (60, 6)):
        shown = [index for index, bar in enumerate(columns(_months(count)).bars) if bar.show_label]
        assert shown[0] == 0 and max(b - a for a, b in pairwise(shown)) <= most


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_dashboard_charts_are_legible_at_phone_width(client, lang):
    """The page itself, with every category and dong (and the months since the site began)."""
    rules = _css_font_sizes()
    response = client.get(f"/impact?lang={lang}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    svgs = _svgs(page)
    assert len(svgs) == 3
    for svg in svgs:
        assert_legible_on_a_phone(svg, rules)
    # Still accessible: each chart has its title, description and a table with the same numbers.
    assert page.count("<title id=") == 3 and page.count("<desc id=") == 3 and page.count("<caption>") == 3


def test_the_stylesheet_sizes_are_the_ones_the_charts_are_laid_out_for():
    """charts.py lays text out for site.css's sizes; if the stylesheet changes them, change LABEL_SIZE and
    TICK_SIZE too (and check this file's tests)."""
    from kindcity.web.public import charts

    sizes = {classes: size for classes, _, size in _css_font_sizes()}
    assert sizes.get(("chart-label",)) == charts.LABEL_SIZE and sizes.get(("chart-value",)) == charts.LABEL_SIZE
    assert sizes.get(("chart-columns", "chart-label"), charts.LABEL_SIZE) == charts.TICK_SIZE
