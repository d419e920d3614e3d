"""One record per form, however often it is sent: the hidden token of the forms that create money
records, and the step every such view takes before making the record (services/form_tokens.py)."""
from __future__ import annotations

import re
from typing import Callable
from uuid import uuid4

from flask import abort, flash, redirect
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import HiddenField

from ..services import form_tokens
from ..services.form_tokens import Claim, FormTokenRefused


class FormTokenField(HiddenField):
    """A token made when the form is shown. Anything that does not look like one is no token."""

    PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("default", lambda: uuid4().hex)
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        value = valuelist[0].strip() if valuelist else ""
        self.data = value if self.PATTERN.fullmatch(value) else None

    def _value(self) -> str:
        if not self.data:  # a form sent without a token is shown again with one
            self.data = uuid4().hex
        return self.data


class FormTokenMixin:
    """For forms that create money records (pledges, pooled pledges, match offers); ``hidden_tag()``
    renders the token with the CSRF token."""

    form_token = FormTokenField()


def claim_form(form: FormTokenMixin, kind: str, show: Callable[[int], str]) -> tuple[Claim, Response | None]:
    """Claim the form's token in this request's transaction. When the form was sent before, the
    second value is the answer: a redirect to what the first send made (``show(id)`` is its address)."""
    try:
        claim = form_tokens.claim(form.form_token.data, kind, current_user.id)
    except FormTokenRefused:
        abort(400)
    if claim.earlier is None:
        return claim, None
    flash(_("This form was already sent, so nothing new was made. Here is what it made."), "info")
    return claim, redirect(show(claim.earlier), 303)
