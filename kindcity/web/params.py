"""What the address carries: ids in paths and page numbers in query strings, bounded before they
reach the database.

A path id beyond the database's INTEGER column (2^31 - 1 on PostgreSQL) made the query itself fail
(``NumericValueOutOfRange``), and a page number far enough out overflowed the OFFSET; both were a
500 that anyone could cause by typing. Here such an id does not match its route (a 404, as for any
id that does not exist), and a page number is brought into the pages there can be.
"""
from __future__ import annotations

from collections.abc import Mapping

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL; SQLite's are wider, so this bound serves both
MAX_PAGE = 10_000   # with at most 100 a page, an offset far inside any database's range


def numbers_up_to(limit: int) -> str:
    """A regular expression for the numbers 1 to ``limit`` (at least 10), written without leading zeros."""
    digits = str(limit)
    parts = [rf"[1-9]\d{{0,{len(digits) - 2}}}"]  # every number with fewer digits than the limit
    for i, digit in enumerate(digits):  # as many digits: the limit's first i digits, then a smaller one
        lowest = 1 if i == 0 else 0
        if int(digit) > lowest:
            parts.append(rf"{digits[:i]}[{lowest}-{int(digit) - 1}]\d{{{len(digits) - i - 1}}}")
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


class IdConverter(IntegerConverter):
    """``<id:need_id>``: a database id, 1 to :data:`MAX_ID`. Anything else is not an address of the site.

    The bound is in the pattern, not only in ``to_python``: Werkzeug checks the method before it
    converts, so an id refused late on a path that has a GET and a POST rule would be a 405."""

    regex = numbers_up_to(MAX_ID)

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=MAX_ID)


def page_number(args: Mapping[str, str], name: str = "page") -> int:
    """The page asked for, 1 to :data:`MAX_PAGE`: missing or unreadable is the first page, beyond the
    last possible one is that one."""
    try:
        asked = int(str(args.get(name, "1")).strip())
    except ValueError:
        return 1
    return min(max(asked, 1), MAX_PAGE)


def id_arg(args: Mapping[str, str], name: str) -> int | None:
    """An id given in the query string (a keyset cursor): None when missing, unreadable or outside
    1 to :data:`MAX_ID`, so no query is sent that the database would refuse."""
    try:
        asked = int(str(args.get(name, "")).strip())
    except ValueError:
        return None
    return asked if 1 <= asked <= MAX_ID else None


def init_app(app) -> None:
    app.url_map.converters["id"] = IdConverter


def public_need_or_404(need_id: int):
    """The need a public address names, or 404: an unknown id and a need not (yet) public alike."""
    from flask import abort

    from ..services import NotFound
    from ..services import needs as need_service

    try:
        return need_service.get_public_need(need_id)
    except NotFound:
        abort(404)
