"""Where a transaction ends: commit it and run what waited for the commit, or roll it back.

Services flush but never commit (kindcity/services/__init__.py); the edge does, and only here. A
request (kindcity/web/unit_of_work.py adds the user's message to this) and a `kindcity` command
(:func:`command`, for kindcity/cli.py) both end their work with :func:`transaction`:

- the block's changes are committed, then :func:`run_after_commit` runs what was deferred until
  the commit: on SQLite the jobs its transactions asked for run here, in this process (on
  PostgreSQL they wait in the queue for a worker, and this costs nothing);
- if the block raises, everything it did is rolled back and the error goes on up.

Jobs commit their own work (kindcity/jobs/), each in its own transaction after the one that asked for it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .domain.errors import DomainError
from .extensions import db


@contextmanager
def transaction(after_commit: Callable[[], None] | None = None) -> Iterator[None]:
    """Commit the block's work, then ``after_commit`` (default: :func:`run_after_commit` at once); on an
    error roll back and re-raise."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    commit(after_commit)


@contextmanager
def command() -> Iterator[None]:
    """A `kindcity` command's unit of work: commit and run the jobs it asked for; on a refusal (a
    DomainError) roll back and stop with its words and a non-zero exit."""
    import click

    try:
        with transaction():
            yield
    except DomainError as error:
        raise click.ClickException(words_for(error)) from None


def words_for(error: DomainError) -> str:
    """The refusal's words from the one message table (kindcity/web/messages.py), in the site's language."""
    from flask import current_app

    from .web.messages import message_for

    with current_app.test_request_context():
        return message_for(error)


def commit(after_commit: Callable[[], None] | None = None) -> None:
    """Commit now, then run (or schedule, with ``after_commit``) what waited for the commit. Also for a
    step that must count before the next one, such as a login attempt before the password is checked."""
    db.session.commit()
    (after_commit or run_after_commit)()


def discard() -> None:
    """End the open transaction and keep nothing of it (a refusal, a read that failed, a duplicate)."""
    db.session.rollback()


def run_after_commit() -> None:
    """The in-process path (SQLite, kindcity/jobs/): the jobs the committed transactions asked for run
    now, in this process; outside a request each runs on the site's public address. On PostgreSQL they
    are in the queue and a worker runs them; with nothing asked for this costs nothing."""
    from .jobs import anything_to_run, run_committed

    if db.session.registry.has() and anything_to_run():
        db.session.rollback()  # nothing of the committed work is left open to carry along
        run_committed()
