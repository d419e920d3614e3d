"""The public page "how matching works" (/matching): the matching policy for donors, Korean first and
English second, added to the public blueprint.

The words are ``docs/matching.md``, the same policy the engine's docstring states, so the page and the
engine cannot drift apart; the page renders its Korean and English sections (not the benchmark, which
is for engineers). Where the document is not shipped, a short summary in the reader's language stands in.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import nh3
from flask import render_template
from markdown_it import MarkdownIt
from markupsafe import Markup

from .public import bp

POLICY = Path(__file__).resolve().parents[2] / "docs" / "matching.md"
# Trusted text from the repository, still sanitised: tables are part of the policy (the reasons).
_md = MarkdownIt("commonmark", {"html": False}).enable("table")
_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "code", "h3", "h4", "a", "table", "thead", "tbody", "tr",
         "th", "td", "blockquote"}


def _section(text: str, heading: str) -> str:
    """The body of a ``## heading`` section, up to the next ``## `` heading or rule."""
    match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |^---\s*$|\Z)", text, re.M | re.S)
    return match.group(1).strip() if match else ""


def _render(markdown: str) -> Markup:
    html = _md.render(markdown)
    return Markup(nh3.clean(html, tags=_TAGS, attributes={"a": {"href"}, "th": {"scope"}},
                            url_schemes={"http", "https", "mailto"}))


@lru_cache(maxsize=4)
def _policy(path: Path, mtime: float) -> tuple[Markup, Markup] | None:
    text = path.read_text(encoding="utf-8")
    korean, english = _section(text, "한국어"), _section(text, "English")
    if not korean or not english:
        return None
    return _render(korean), _render(english)


def policy_sections() -> tuple[Markup, Markup] | None:
    try:
        return _policy(POLICY, POLICY.stat().st_mtime)
    except OSError:
        return None


@bp.get("/matching")
def matching():
    return render_template("public/matching.html", sections=policy_sections())
