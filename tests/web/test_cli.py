import json
from datetime import timedelta

from sqlalchemy import func, select

from kindcity.domain.needs import NeedStatus
from kindcity.domain.time import seoul_today
from kindcity.models import Need, Referral, User
from tests import factories as f


def test_check_personal_data_reports_json_lines(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["check-personal-data"], input="문의: 010-1234-5678, 메일 hong@example.com")
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    assert [line["kind"] for line in lines] == ["phone", "email"]
    assert lines[0]["offset"] == 4 and "1234" not in lines[0]["masked"]
    clean = runner.invoke(args=["check-personal-data"], input="2026년 11월 29일, 1,500,000원, 40회 왕복")
    assert clean.exit_code == 0 and clean.output == ""


def test_check_personal_data_reads_the_text_as_rendered(app):
    result = app.test_cli_runner().invoke(args=["check-personal-data"], input="문의: 010-**1234**-5678")
    assert result.exit_code == 1
    [line] = [json.loads(line) for line in result.output.strip().splitlines()]
    assert line["kind"] == "phone" and line["as_shown"] is True and "1234" not in line["masked"]


def test_demo_data_is_idempotent(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    assert "admin@kindcity.example" in first.output and "kindcity-demo-1234" in first.output
    counts = (session.scalar(select(func.count(Need.id))), session.scalar(select(func.count(User.id))))
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0 and "0 needs created" in second.output
    assert (session.scalar(select(func.count(Need.id))), session.scalar(select(func.count(User.id)))) == counts
    statuses = set(session.scalars(select(Need.status)).all())
    assert {"open", "awaiting_approval", "draft", "expired"} <= statuses
    referrals = session.scalars(select(Referral).order_by(Referral.id)).all()  # the centre's queue has work
    assert [(r.urgency, r.status) for r in referrals] == [("urgent", "in_review"), ("normal", "new")]
    # the district office keeps the bank account; nobody else was given it
    money_staff = session.scalars(select(User.email).where(User.money_staff.is_(True))).all()
    assert money_staff == ["staff.district@kindcity.example"]


def test_expire_needs_command(app, session):
    need = f.need(deadline=seoul_today() - timedelta(days=2))
    session.commit()
    result = app.test_cli_runner().invoke(args=["expire-needs"])
    assert result.exit_code == 0 and str(need.id) in result.output
    session.refresh(need)
    assert need.status == NeedStatus.EXPIRED
    assert "0 need(s) expired" in app.test_cli_runner().invoke(args=["expire-needs"]).output


def test_create_admin(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "--email", "boss@kindcity.example", "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(User).where(User.email == "boss@kindcity.example")).role == "admin"
    again = runner.invoke(args=["create-admin", "--email", "boss@kindcity.example", "--password", "a-long-password"])
    assert again.exit_code != 0
    short = runner.invoke(args=["create-admin", "--email", "b2@kindcity.example", "--password", "short"])
    assert short.exit_code != 0 and "10" in short.output
