"""One unit of work ends every request's and command's transaction (kindcity/web/unit_of_work.py,
kindcity/unit_of_work.py): it commits, or rolls back and says why, and then runs what waited for the
commit. No view or command commits or rolls back by hand."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Response, get_flashed_messages
from sqlalchemy import select

from kindcity import jobs
from kindcity.domain.errors import DomainError
from kindcity.models import User
from kindcity.web.unit_of_work import unit_of_work
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
BY_HAND = re.compile(r"\.(commit|rollback)\(")


def test_no_view_or_command_commits_or_rolls_back_by_hand():
    sources = [*sorted((ROOT / "kindcity" / "web").rglob("*.py")), ROOT / "kindcity" / "cli.py"]
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in sources if path.name != "unit_of_work.py"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if BY_HAND.search(line)]
    assert found == [], "end the work in kindcity/web/unit_of_work.py (or kindcity/unit_of_work.py for commands)"


def test_the_grep_sees_a_commit_by_hand():
    assert BY_HAND.search("    db.session.commit()  # after drawing the page")
    assert BY_HAND.search("db.session.rollback()") and not BY_HAND.search("commit()  # the unit's own")


def test_a_refusal_rolls_back_and_is_flashed_in_words(app, session):
    with app.test_request_context("/?lang=en"):
        with unit_of_work("Saved.") as work:
            session.add(f.user(email="kept-or-not@example.com"))
            session.flush()
            raise DomainError("not_enough_left", gap=5_000)
        assert not work.ok and work.error.code == "not_enough_left"
        assert session.scalar(select(User).where(User.email == "kept-or-not@example.com")) is None
        assert get_flashed_messages(with_categories=True) == [
            ("error", "Not enough is left on this need: at most 5,000 won can still be pledged.")]


def test_a_refusal_beside_a_field_is_kept_not_flashed(app, session):
    with app.test_request_context("/?lang=en"):
        with unit_of_work(flash_refusal=False) as work:
            raise DomainError("amount_required")
        assert work.message == "Please enter an amount." and get_flashed_messages() == []


def test_other_errors_roll_back_and_go_up(app, session):
    with app.test_request_context("/"):
        with pytest.raises(KeyError):
            with unit_of_work():
                session.add(f.user(email="never@example.com"))
                session.flush()
                raise KeyError("a bug")
        assert session.scalar(select(User).where(User.email == "never@example.com")) is None


def test_work_commits_and_its_jobs_run_once_the_response_is_made(app, session, monkeypatch):
    ran = []
    monkeypatch.setattr(jobs, "queued", lambda: False)  # the in-process path (SQLite's), on either database
    monkeypatch.setattr(jobs, "perform", lambda name, args: ran.append(name))
    with app.test_request_context("/?lang=en"):
        with unit_of_work("Saved.") as work:
            session.add(f.user(email="kept@example.com"))
            jobs.defer("jobs.noop")
        assert work.ok and get_flashed_messages() == ["Saved."]
        assert ran == [] and jobs.anything_to_run()  # the page is drawn first
        app.process_response(Response())
        assert ran == ["jobs.noop"]
    assert session.scalar(select(User).where(User.email == "kept@example.com")) is not None
