"""The one error type of the domain: a refusal the user can act on.

Every rule that refuses raises a :class:`DomainError` (or a typed subclass, where callers catch one
kind of refusal by type): ``code`` is a stable string that tests and the message table key on, and
``details`` is a dict of plain values that fill the message (an amount, a limit, a day). The words
live in one table, ``kindcity/web/messages.py``; nothing here knows a language.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every refusal. ``code`` is stable; ``details`` fill the user's message.

    One constructor shape for all: ``SomeError(code=None, **details)``; a subclass names its default
    ``code`` as a class attribute. Details read as attributes too (``error.minimum``)."""

    code = "domain_error"
    details: dict[str, Any] = {}

    def __init__(self, code: str | None = None, **details: Any):
        self.code = code or type(self).code
        self.details = details
        super().__init__(self.code, details)

    def __str__(self) -> str:
        return f"{self.code} {self.details!r}" if self.details else self.code

    def __getattr__(self, name: str) -> Any:
        details = self.__dict__.get("details") or {}
        if name in details:
            return details[name]
        raise AttributeError(name)
