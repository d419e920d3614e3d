"""Donors hear by mail when a need they gave to closes unmet (where each pledge's money goes; an unpaid
pledge must not be paid now), and when its impact is published. Sent after the commit, in Korean."""
from __future__ import annotations

import email
import email.policy
from datetime import timedelta

from kindcity.domain.needs import NeedStatus
from kindcity.domain.time import seoul_today, utcnow
from kindcity import jobs
from kindcity.extensions import db
from kindcity.models import Need
from kindcity.services import Actor
from kindcity.services import needs as need_service
from kindcity.services import pledges as pledge_service
from tests import factories as f

TODAY = seoul_today()


def _pledge(donor, need, amount, on_cancel, paid=True):
    pledge = pledge_service.create_direct_pledge(Actor(donor), pledge_service.PledgeRequest(
        need_id=need.id, amount=amount, units=None, display="anonymous", message="", on_cancel=on_cancel),
        hold_for=timedelta(days=7))
    if paid:
        pledge_service.record_payment(Actor(None), pledge.id, amount, source="manual", external_id=f"t:{pledge.id}",
                                      received_at=utcnow())
    return pledge


def _mails(app, before) -> dict[str, email.message.EmailMessage]:
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in f.outbox(app) - before]
    return {m["To"]: m for m in messages}


def test_a_cancelled_need_tells_each_donor_where_their_money_goes(app, client, session):
    staff = f.user("staff", centre_code="district-welfare")
    need = f.need(title="학교 밖 청소년 수학여행", author=staff, target=1_000_000)
    refunded, pooled, unpaid = f.user("donor", name="환불씨"), f.user("donor", name="박은혜 목사"), f.user("donor")
    changed_mind = f.user("donor")
    other_need = f.need(target=500_000)
    bystander = f.user("donor")
    session.commit()
    refund_pledge = _pledge(refunded, need, 100_000, "refund")
    pool_pledge = _pledge(pooled, need, 50_000, "pool")
    unpaid_pledge = _pledge(unpaid, need, 30_000, "refund", paid=False)
    withdrawn = _pledge(changed_mind, need, 20_000, "refund", paid=False)
    also_withdrawn = _pledge(unpaid, need, 40_000, "refund", paid=False)
    pledge_service.cancel_pledge(Actor(changed_mind), withdrawn.id)
    pledge_service.cancel_pledge(Actor(unpaid), also_withdrawn.id)
    _pledge(bystander, other_need, 10_000, "refund")
    session.commit()
    f.login(client, staff)
    before = f.outbox(app)
    assert client.post(f"/staff/needs/{need.id}/cancel", data={"reason": "다른 기관에서 지원 확정"}).status_code == 303
    mails = _mails(app, before)
    # not the other need's donor, nor one whose only pledge was cancelled before
    assert set(mails) == {refunded.email, pooled.email, unpaid.email}
    first = mails[refunded.email]
    assert first["Subject"] == "\"학교 밖 청소년 수학여행\" 모금이 진행되지 않습니다: 기부금 처리 안내"
    body = first.get_content()
    assert "환불씨 님, 안녕하세요." in body and "취소되었습니다" in body
    assert "취소 이유: 다른 기관에서 지원 확정" in body  # the reason staff gave
    assert "박은혜 목사님, 안녕하세요." in mails[pooled.email].get_content()  # not "목사 님"
    assert also_withdrawn.reference not in mails[unpaid.email].get_content()  # cancelled before: not listed
    assert f"{refund_pledge.reference}: 기부하신 100,000원은 선택하신 대로 돌려 드립니다." in body
    assert f"{pool_pledge.reference}: 기부하신 50,000원은 선택하신 대로 구 나눔 기금으로 옮겨 다른 복지 수요에 쓰입니다." \
        in mails[pooled.email].get_content()
    assert f"{unpaid_pledge.reference}(30,000원)은 아직 입금 전이라 취소되었습니다. 입금하지 마세요." \
        in mails[unpaid.email].get_content()
    assert "http://kindcity.test/me/" in body


def test_a_need_that_expires_unmet_tells_its_donors_from_the_command_and_from_the_scheduled_job(app, client, session):
    donors = [f.user("donor"), f.user("donor")]
    needs = [f.need(target=500_000), f.need(target=500_000)]
    session.commit()
    for donor, need in zip(donors, needs):
        _pledge(donor, need, 20_000, "pool")
        db.session.get(Need, need.id).deadline = TODAY - timedelta(days=1)
        session.commit()
        before = f.outbox(app)
        if need is needs[0]:
            result = app.test_cli_runner().invoke(args=["expire-needs"])
            assert result.exit_code == 0, result.output
        else:
            with app.test_request_context("/"):
                jobs.perform("upkeep.expire_needs", {})  # what the worker runs every 10 minutes
                jobs.run_committed()
        session.expire_all()
        assert db.session.get(Need, need.id).status == NeedStatus.EXPIRED
        closed = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                  for p in f.outbox(app) - before]
        # (the thank-you for the payment may go out in the same run: it is not about the need closing)
        [mail] = [m for m in closed if "진행되지 않습니다" in m["Subject"]]
        assert mail["To"] == donor.email and "마감일이 지나" in mail.get_content()


def test_publishing_the_impact_tells_the_donors_who_paid(app, session):
    from kindcity.services import impact as impact_service

    author = f.user("staff")
    need = f.need(title="암 환자 서울 병원 왕복", author=author, target=300_000)
    payer, promiser = f.user("donor", name="준씨"), f.user("donor")
    session.commit()
    _pledge(payer, need, 200_000, "refund")
    _pledge(promiser, need, 100_000, "refund")  # paid too: the need is funded
    session.commit()
    colleague = f.user("staff", centre_code="district-welfare")
    impact_service.start_delivery(Actor(author), need, report_due=TODAY + timedelta(days=30), today=TODAY)
    impact_service.record_disbursement(Actor(author), need, amount=300_000, spent_on=TODAY, description="KTX",
                                       today=TODAY)
    impact_service.save_report(Actor(author), need, impact_service.ReportInput(
        units_delivered=10, beneficiaries_reached=3, delivered_from=TODAY - timedelta(days=3), delivered_to=TODAY,
        story="세 분이 서울 병원 진료를 다녀오셨습니다."), TODAY)
    impact_service.submit_report(Actor(author), need, TODAY)
    impact_service.approve_report(Actor(colleague), need, TODAY)
    session.commit()
    before = f.outbox(app)
    with app.test_request_context("/"):
        jobs.run_committed()  # the notice job, one mail job per donor (and the payments' thank-yous)
    sent = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in f.outbox(app) - before]
    mails = {m["To"]: m for m in sent if m["Subject"].startswith("기부의 성과")}
    assert set(mails) == {payer.email, promiser.email}
    mail = mails[payer.email]
    assert mail["Subject"] == "기부의 성과: \"암 환자 서울 병원 왕복\""
    assert f"http://kindcity.test/needs/{need.id}/impact" in mail.get_content()


def test_a_rolled_back_cancel_tells_nobody(app, session):
    staff = f.user("staff", centre_code="district-welfare")
    need = f.need(author=staff, target=500_000)
    donor = f.user("donor")
    session.commit()
    _pledge(donor, need, 10_000, "refund")
    session.commit()
    with app.test_request_context("/"):
        jobs.run_committed()  # the payment's thank-you, before what this test is about
    need_service.cancel(Actor(staff), need, "취소 사유를 적습니다")
    session.rollback()  # the cancel did not happen after all
    assert not jobs.anything_to_run()  # the job it asked for went with the rollback
    before = f.outbox(app)
    with app.test_request_context("/"):
        assert jobs.run_committed() == 0
    assert f.outbox(app) == before


def test_publishing_the_impact_tells_pooled_and_match_donors_too(app, session):
    from kindcity.services import impact as impact_service
    from kindcity.services import matching as matching_service

    author = f.user("staff")
    need = f.need(title="학교 밖 청소년 수학여행", author=author, target=300_000)
    pooled_donor, sponsor, resident = f.user("donor"), f.user("donor"), f.user("donor")
    session.commit()
    offer = matching_service.create_match_offer(Actor(sponsor), matching_service.OfferRequest(
        amount=50_000, ratio_num=1, ratio_den=1, criteria=matching_service.CriteriaInput(), starts_on=TODAY,
        ends_on=TODAY + timedelta(days=30), display="anonymous"), TODAY)
    pledge_service.record_payment(Actor(None), offer.id, 50_000, source="manual", external_id="offer-pay",
                                  received_at=utcnow())
    pooled = matching_service.create_pooled_pledge(Actor(pooled_donor), matching_service.PooledRequest(
        amount=200_000, criteria=matching_service.CriteriaInput()), TODAY)
    pledge_service.record_payment(Actor(None), pooled.id, 200_000, source="manual", external_id="pool-pay",
                                  received_at=utcnow())
    _pledge(resident, need, 50_000, "refund")  # matched 1:1 by the offer: the need is funded
    session.commit()
    assert db.session.get(Need, need.id).status == NeedStatus.FUNDED
    colleague = f.user("staff", centre_code="district-welfare")
    impact_service.start_delivery(Actor(author), need, report_due=TODAY + timedelta(days=30), today=TODAY)
    impact_service.record_disbursement(Actor(author), need, amount=300_000, spent_on=TODAY, description="버스",
                                       today=TODAY)
    impact_service.save_report(Actor(author), need, impact_service.ReportInput(
        units_delivered=10, beneficiaries_reached=10, delivered_from=TODAY - timedelta(days=3), delivered_to=TODAY,
        story="열 명이 제주를 다녀왔습니다."), TODAY)
    impact_service.submit_report(Actor(author), need, TODAY)
    impact_service.approve_report(Actor(colleague), need, TODAY)
    session.commit()
    before = f.outbox(app)
    with app.test_request_context("/"):
        jobs.run_committed()
    sent = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in f.outbox(app) - before]
    told = {m["To"] for m in sent if m["Subject"].startswith("기부의 성과")}
    assert told == {pooled_donor.email, sponsor.email, resident.email}
