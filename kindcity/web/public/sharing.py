"""Sharing a need: the preview a link pasted into KakaoTalk, a messenger or a social site shows
(OpenGraph and Twitter-card tags, templates/macros.html, ``share_meta``), and the progress image they
show, drawn here with Pillow: 1200x630, the need's title, a progress bar, raised and target in won,
and its dong and district. Words in previews are built from figures and reference names only, never
from text staff typed about the people helped."""
from __future__ import annotations

import io
from functools import lru_cache

from flask import Response
from flask_babel import gettext as _

from ...i18n import current_locale, format_won
from ...receipts import FONT
from ...services.reference import current_district
from ..caching import public_page
from ..links import site_url
from ..params import public_need_or_404
from . import bp
from .needs import DONE_STATUSES, progress

WIDTH, HEIGHT = 1200, 630
GREEN, DARK, MUTED, TRACK, PAPER = (11, 93, 59), (20, 33, 28), (84, 96, 92), (227, 231, 234), (250, 250, 247)


@lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT), size)


def _wrap(text: str, font, width: int, max_lines: int) -> list[str]:
    """Lines of at most ``width`` pixels, broken between words, or inside a word too long for a line
    (Korean titles may have few spaces); the last line ends in … when the text does not fit."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
            line = ""
        while font.getlength(word) > width:
            cut = len(word)
            while cut > 1 and font.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def draw_card(need) -> bytes:
    from PIL import Image, ImageDraw

    locale = current_locale()
    district = current_district()
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 90), fill=GREEN)
    brand = (district.brand_en if locale == "en" else district.brand_ko) if district else "kindcity"
    draw.text((60, 45), brand, font=_font(36), fill=PAPER, anchor="lm")
    where = f"{district.name(locale)} {need.dong.name(locale)}" if district else need.dong.name(locale)
    place = f"{where} · {need.category.name(locale)}"
    draw.text((60, 140), place, font=_font(32), fill=MUTED, anchor="lm")
    y = 190
    for line in _wrap(need.title, _font(58), WIDTH - 120, 3):
        draw.text((60, y), line, font=_font(58), fill=DARK)
        y += 74
    pct = progress(need)
    bar_top = 460
    draw.rounded_rectangle((60, bar_top, WIDTH - 60, bar_top + 36), radius=18, fill=TRACK)
    if pct:
        draw.rounded_rectangle((60, bar_top, 60 + (WIDTH - 120) * pct // 100, bar_top + 36), radius=18, fill=GREEN)
    if need.shown_status in DONE_STATUSES:  # leftovers may have gone back: no "5,700,000 of 6,000,000 (100%)"
        figures = _("Target reached") + " · " + _("%(raised)s raised", raised=format_won(need.confirmed))
    else:
        figures = _("%(raised)s of %(target)s (%(percent)s%%)", raised=format_won(need.confirmed),
                    target=format_won(need.target), percent=pct)
    draw.text((60, 540), figures, font=_font(40), fill=DARK, anchor="lm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@bp.get("/needs/<id:need_id>/card.png")
@public_page
def need_card_image(need_id: int):
    """The need's preview image. Public needs only; validators and the page store as for a page, so
    a need's image is drawn again only when the site's data changed."""
    return Response(draw_card(public_need_or_404(need_id)), mimetype="image/png")


@bp.app_template_global()
def share_description(need) -> str:
    """A preview's words: the place, the kind of need and how far it is, from figures only."""
    locale = current_locale()
    place = f"{need.dong.name(locale)} · {need.category.name(locale)}"
    if need.shown_status in DONE_STATUSES:
        return _("%(place)s. Target reached: %(raised)s raised.", place=place, raised=format_won(need.confirmed))
    return _("%(place)s. %(raised)s of %(target)s raised (%(percent)s%%).", place=place,
             raised=format_won(need.confirmed), target=format_won(need.target), percent=progress(need))


@bp.app_template_global()
def share_url(endpoint: str, **values) -> str:
    """The page's address as others will open it (KINDCITY_BASE_URL when set)."""
    return site_url(endpoint, **values)
