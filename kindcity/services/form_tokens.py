"""One record per form, however often it is sent (kindcity.models.form_tokens).

A view claims the form's token in the transaction that makes the record and, once made, notes the
record on it. A repeat of a form already sent gets the earlier record's id instead, to show it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import FormToken
from . import ServiceError


class FormTokenRefused(ServiceError):
    """The token belongs to another person's or another kind of form, or to one that made nothing."""

    code = "form_token_refused"


@dataclass
class Claim:
    """``earlier``: the id of the record a previous send of this form made (show it, make nothing)."""

    row: FormToken | None
    earlier: int | None = None

    def made(self, object_id: int) -> None:
        if self.row is not None:
            self.row.object_id = object_id


def _earlier(token: str, kind: str, user_id: int) -> int | None:
    row = db.session.get(FormToken, token, populate_existing=True)
    if row is None:
        return None
    if row.kind != kind or row.user_id != user_id or row.object_id is None:
        raise FormTokenRefused()
    return row.object_id


def claim(token: str | None, kind: str, user_id: int) -> Claim:
    """Claim ``token`` for the record this transaction makes, or name the record it already made.

    Without a token (a page from before tokens, a script) nothing is claimed and the form acts as
    it always did. On PostgreSQL a concurrent claim of the same token waits for the first
    transaction: if it commits, this one fails on the key and reads the record it made; if it rolls
    back, this one goes ahead.
    """
    if not token:
        return Claim(None)
    earlier = _earlier(token, kind, user_id)
    if earlier is not None:
        return Claim(None, earlier)
    row = FormToken(token=token, kind=kind, user_id=user_id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        earlier = _earlier(token, kind, user_id)
        if earlier is None:  # cannot happen once the other transaction committed; never make a second record
            raise FormTokenRefused() from None
        return Claim(None, earlier)
    return Claim(row)
