"""Factories as plain callables. Passwords share one precomputed hash to keep tests fast."""
from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from kindcity.domain.needs import NeedStatus
from kindcity.domain.time import seoul_today, utcnow
from kindcity.extensions import db
from kindcity.models import BeneficiaryGroup, Category, Centre, Dong, Need, Organisation, User
from kindcity.services.accounts import hash_password
from kindcity.services.receipts import default_organisation

PASSWORD = "correct-horse-battery"
_HASH = hash_password(PASSWORD)
_seq = itertools.count(1)


def centre(code: str = "centre-hwajeong1") -> Centre:
    return db.session.scalar(select(Centre).where(Centre.code == code))


def user(role: str = "donor", *, centre_code: str | None = None, email: str | None = None,
         name: str | None = None, organisation: Organisation | None = None, money_staff: bool = False) -> User:
    n = next(_seq)
    if role == "staff" and centre_code is None:
        centre_code = "centre-hwajeong1"
    if role == "admin" and centre_code is None:
        centre_code = "district-welfare"
    person = User(email=email or f"{role}{n}@kindcity.example", password_hash=_HASH,
                  display_name=name or f"{role} {n}", role=role,
                  centre=centre(centre_code) if centre_code else None, organisation=organisation,
                  money_staff=money_staff, email_confirmed_at=utcnow())
    db.session.add(person)
    db.session.flush()
    return person


def ref(model, code: str):
    return db.session.scalar(select(model).where(model.code == code))


def need(*, author: User | None = None, status: str = NeedStatus.OPEN, title: str | None = None,
         target: int = 1_000_000, deadline: date | None = None, dong: str = "hwajeong1",
         category: str = "medical-transport", group: str = "cancer-patients", summary: str = "요약",
         description: str = "", unit_cost: int | None = None, units: int | None = None,
         reserved: int = 0, confirmed: int = 0) -> Need:
    author = author or user("staff")
    if unit_cost and units:
        target = unit_cost * units
    item = Need(
        title=title or f"테스트 수요 {next(_seq)}", summary=summary, description=description,
        category=ref(Category, category), dong=ref(Dong, dong), group=ref(BeneficiaryGroup, group),
        beneficiary_count=10, target=target, unit_name="회" if unit_cost else None, unit_cost=unit_cost,
        units=units, deadline=deadline or seoul_today() + timedelta(days=30),
        receiving_org=default_organisation(), centre_id=author.centre_id, author=author, status=status,
        reserved=reserved, confirmed=confirmed,
    )
    db.session.add(item)
    db.session.flush()
    return item


def login(client, person: User, password: str = PASSWORD):
    response = client.post("/account/login", data={"email": person.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def outbox(app) -> set[Path]:
    """The mail the app has written so far (the outbox folder, without SMTP)."""
    folder = Path(app.config["KINDCITY_OUTBOX"])
    return set(folder.glob("*.eml")) if folder.exists() else set()
