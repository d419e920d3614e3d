"""The public page "how matching works" (/matching): the matching policy for donors, in the reader's
language, added to the public blueprint.

The words are the engine's own ``README.md`` (``kindcity/domain/matching/README.md``), the same policy
its docstrings state, kept beside its code so that the page and the engine cannot drift apart. The document holds a Korean and an English section (and a benchmark, which is
for engineers and never shown here); the page shows only the section in the visitor's language (Korean
unless they chose English), with a link to the same page in the other language. Where the document or
that section is not shipped, a short summary in the reader's language stands in.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from flask import render_template
from markupsafe import Markup

from ...i18n import current_locale
from ...paths import package_path
from ...text import markdown_parser, sanitise
from . import bp

POLICY = package_path("domain/matching/README.md")
# The ``## `` heading of each language's section in the document.
SECTION_HEADINGS = {"ko": "한국어", "en": "English"}
# Trusted text from the repository, still sanitised: tables are part of the policy (the reasons).
_md = markdown_parser(tables=True)
_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "code", "h2", "h3", "a", "table", "thead", "tbody", "tr",
         "th", "td", "blockquote"}


def _section(text: str, heading: str) -> str:
    """The body of a ``## heading`` section, up to the next ``## `` heading or rule."""
    match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |^---\s*$|\Z)", text, re.M | re.S)
    return match.group(1).strip() if match else ""


def _render(markdown: str) -> Markup:
    """HTML of a section. Its ``###`` headings become ``<h2>``: the page's ``<h1>`` is the only heading above."""
    tokens = _md.parse(markdown)
    for token in tokens:
        if token.type in ("heading_open", "heading_close") and token.tag in ("h3", "h4"):
            token.tag = "h2" if token.tag == "h3" else "h3"
    html = _md.renderer.render(tokens, _md.options, {})
    return sanitise(html, tags=_TAGS, attributes={"a": {"href"}, "th": {"scope"}})


@lru_cache(maxsize=8)
def _policy(path: Path, mtime: float, locale: str) -> Markup | None:
    body = _section(path.read_text(encoding="utf-8"), SECTION_HEADINGS[locale])
    return _render(body) if body else None


def policy_section(locale: str) -> Markup | None:
    """The policy in ``locale`` ("ko" or "en"), as HTML; ``None`` when the document does not have it."""
    if locale not in SECTION_HEADINGS:
        locale = "ko"
    try:
        return _policy(POLICY, POLICY.stat().st_mtime, locale)
    except OSError:
        return None


@bp.get("/matching")
def matching():
    return render_template("public/matching.html", section=policy_section(current_locale()))
