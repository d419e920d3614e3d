"""A request's one unit of work: call a service inside it, then return a response.

    with unit_of_work(_("Saved.")) as work:
        need_service.update_need(current_actor(), need, data, today)
    return redirect(url_for("staff.need", need_id=need.id), 303)

On leaving the block the work is committed and ``done`` is flashed; what waited for the commit (the
jobs it asked for, kindcity/unit_of_work.py) runs once the response is made, so the page a view
draws after its commit shows what the view did, not what its jobs did next.

If the block raises a :class:`~kindcity.domain.errors.DomainError` (a rule or service refusing),
everything it did is rolled back, the refusal is kept in ``work.error`` with its words in
``work.message`` (kindcity/web/messages.py), and flashed unless ``flash_refusal=False`` (a view that
puts the words beside a form field). ``also`` names other errors to roll back and keep rather than
raise (a payment provider not answering); ``work.discard()`` keeps nothing of a block that has
nothing to keep. Anything else rolls back and goes up to the error page. No view commits or rolls
back by hand (tests/web/test_unit_of_work.py).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import after_this_request, flash, request

from .. import unit_of_work as core
from ..domain.errors import DomainError
from .messages import message_for

discard = core.discard
_SCHEDULED = "kindcity.run_after_commit"  # in the request's environ: the run is scheduled


def _after_response() -> None:
    """Run what the request's commits deferred once its response is made (once per request)."""
    if not request.environ.get(_SCHEDULED):
        request.environ[_SCHEDULED] = True

        @after_this_request
        def _run(response):
            core.run_after_commit()
            return response


def commit() -> None:
    """Commit now, within a view's unit of work: a step that must count before the next one."""
    core.commit(_after_response)


@dataclass
class Work:
    """How the unit of work ended: ``error`` is the refusal (None: committed); ``value`` is for the
    block to keep what the service returned."""

    error: BaseException | None = None
    value: Any = None
    discarded: bool = False

    def discard(self) -> None:
        """Keep nothing of this unit's work (a duplicate delivery, say); the block goes on to its answer."""
        core.discard()
        self.discarded = True

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def message(self) -> str | None:
        return message_for(self.error) if isinstance(self.error, DomainError) else None


@contextmanager
def unit_of_work(done: str | None = None, *, flash_refusal: bool = True,
                 also: tuple[type[BaseException], ...] = (),
                 catch: tuple[type[BaseException], ...] | None = None) -> Iterator[Work]:
    """``catch`` replaces the errors kept rather than raised (default: DomainError and ``also``): a
    webhook keeps only the database being briefly unavailable, and lets anything else up."""
    work = Work()
    kept = catch if catch is not None else (DomainError, *also)
    try:
        with core.transaction(_after_response):
            yield work
    except kept as error:  # rolled back by the transaction
        work.error = error
        if flash_refusal and isinstance(error, DomainError):
            flash(message_for(error), "error")
        return
    if done and not work.discarded:
        flash(done, "success")


def init_app(app) -> None:
    """A request that ends in an error keeps nothing of its work."""

    @app.teardown_request
    def _discard_on_error(exc):
        if exc is not None:
            discard()
