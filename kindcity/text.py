"""Safe Markdown: raw HTML is switched off in the parser, and the output is sanitised by nh3.

:func:`reader_text` is what a reader takes from the same text once it is on the page: the
personal-data guard checks it as well as what was typed (``&#48;10-1234-5678`` is typed without a
phone number but shown with one)."""
from __future__ import annotations

import html
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup


def markdown_parser(*, tables: bool = False) -> MarkdownIt:
    """The site's Markdown: CommonMark with raw HTML switched off and no images; tables where asked."""
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")
    return parser.enable("table") if tables else parser


_md = markdown_parser()

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "pre", "h2", "h3", "h4",
                "a", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def sanitise(html_text: str, *, tags: set[str] = ALLOWED_TAGS,
             attributes: dict[str, set[str]] = ALLOWED_ATTRIBUTES) -> Markup:
    """Rendered Markdown made safe by nh3: only ``tags`` and ``attributes``, links to web and mail only."""
    return Markup(nh3.clean(html_text, tags=tags, attributes=attributes,
                            url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener noreferrer"))


def render_markdown(text: str | None) -> Markup:
    return sanitise(_md.render(text or ""))


def reader_text(text: str | None) -> str:
    """The text a reader sees once ``text`` is rendered as the site renders it: Markdown rendered
    and sanitised exactly as on the page, markup stripped, character references decoded; then,
    one per line, the targets and titles of its links (a ``mailto:`` link shows an address on
    hover and in every copy of the page), percent-decoded."""
    rendered = str(render_markdown(text))
    links: list[str] = []

    def collect(tag: str, attribute: str, value: str) -> str:
        if attribute in ("href", "title"):
            links.append(unquote(value))
        return value

    nh3.clean(rendered, tags={"a"}, attributes=ALLOWED_ATTRIBUTES, attribute_filter=collect)
    visible = html.unescape(nh3.clean(rendered, tags=set()))
    return "\n".join([visible, *links])
