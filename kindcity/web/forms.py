"""Fields and forms every audience shares. Labels and errors go through the translation layer."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    Field,
)
from wtforms.widgets import TextInput

from ..domain.money import MoneyError, group_digits, to_won
from .messages import message_for


class WonField(Field):
    """A whole-won amount typed the way people type it: 1500000, 1,500,000 or 1,500,000원."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return group_digits(self.data) if isinstance(self.data, int) else ""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        try:
            self.data = to_won(valuelist[0])
        except MoneyError as error:
            self.data = None
            raise ValueError(message_for(error)) from None


class ConfirmForm(FlaskForm):
    """An empty form: a button that carries the CSRF token."""
