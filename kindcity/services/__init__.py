"""Services: one function per business operation.

They take plain data and the acting user, flush but never commit (the request or CLI command
commits at the edge), never flash and never read ``request``. Refusals are typed exceptions.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..domain.errors import DomainError
from ..models import User


@dataclass(frozen=True)
class Actor:
    """Who is acting, and from which address, for the audit log."""

    user: User | None
    address: str | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None


SYSTEM = Actor(user=None, address="system")


class ServiceError(DomainError):
    """A refusal the user can act on that needs the database to decide (the rules' refusals are
    their own :class:`DomainError` subclasses). ``code`` is stable; the web layer turns it into words."""

    code = "service_error"


class NotFound(ServiceError):
    code = "not_found"


class Forbidden(ServiceError):
    code = "forbidden"
