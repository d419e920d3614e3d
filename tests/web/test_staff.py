import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from kindcity.domain.needs import NeedStatus
from kindcity.domain.time import seoul_today
from kindcity.models import AuditEntry, BeneficiaryGroup, Category, Dong, Need, Organisation
from kindcity.services import Actor
from kindcity.services import needs as need_service
from kindcity.services.receipts import default_organisation
from tests import factories as f


def _form(**changes):
    data = {"title": "학교 밖 청소년 수학여행", "summary": "2박 3일 제주 여행", "description": "교통, 숙박, 식비",
            "category_id": f.ref(Category, "education").id, "dong_id": f.ref(Dong, "nongseong1").id,
            "group_id": f.ref(BeneficiaryGroup, "out-of-school-youth").id, "beneficiary_count": "25",
            "target": "", "unit_name": "1인 경비", "unit_cost": "480,000원", "units": "25",
            "deadline": (seoul_today() + timedelta(days=40)).isoformat(), "receiving_org_id": default_organisation().id}
    data.update(changes)
    return data


def test_post_submit_and_colleague_approves(app, client, session):
    author, colleague = f.user("staff"), f.user("staff", centre_code="district-welfare")
    session.commit()
    f.login(client, author)
    response = client.post("/staff/needs/new", data=_form())
    assert response.status_code == 302
    need = session.scalar(select(Need).where(Need.title == "학교 밖 청소년 수학여행"))
    assert need.target == 12_000_000 and need.status == NeedStatus.DRAFT
    client.post(f"/staff/needs/{need.id}/submit")
    own = client.post(f"/staff/needs/{need.id}/approve", follow_redirects=True, query_string={"lang": "en"})
    assert "approved by a colleague" in own.get_data(as_text=True)
    session.refresh(need)
    assert need.status == NeedStatus.AWAITING_APPROVAL
    assert client.get(f"/needs/{need.id}").status_code == 404

    other = app.test_client()
    f.login(other, colleague)
    other.post(f"/staff/needs/{need.id}/approve")
    session.refresh(need)
    assert need.status == NeedStatus.OPEN
    assert client.get(f"/needs/{need.id}").status_code == 200
    audit = other.get("/staff/audit").get_data(as_text=True)
    assert "need.approve" in audit


def test_form_errors_are_specific(client, session):
    f.login(client, f.user("staff"))
    session.commit()
    page = client.post("/staff/needs/new?lang=en", data=_form(unit_cost="12.5")).get_data(as_text=True)
    assert "whole number of won" in page
    page = client.post("/staff/needs/new?lang=en", data=_form(
        deadline=(seoul_today() - timedelta(days=1)).isoformat())).get_data(as_text=True)
    assert "today or later" in page
    page = client.post("/staff/needs/new?lang=en", data=_form(target="5,000,000")).get_data(as_text=True)
    assert "cost per unit x units" in page
    assert session.scalar(select(Need).where(Need.title == "학교 밖 청소년 수학여행")) is None


def test_personal_data_is_named_before_submission(client, session):
    author = f.user("staff")
    need = f.need(author=author, status=NeedStatus.DRAFT,
                  description="어르신 댁은 화정동 123-4번지, 연락처는 010-9876-5432 입니다.")
    session.commit()
    f.login(client, author)
    page = client.post(f"/staff/needs/{need.id}/submit?lang=en", follow_redirects=True).get_data(as_text=True)
    assert "phone number" in page and "detailed address" in page and "Description" in page
    flashes = page.split('<div class="flashes"')[1].split("</div>")[0]
    assert "phone number" in flashes and "9876-5432" not in flashes  # the message masks what it found
    session.refresh(need)
    assert need.status == NeedStatus.DRAFT


def test_cancel_needs_a_reason(client, session):
    author = f.user("staff")
    need = f.need(author=author)
    session.commit()
    f.login(client, author)
    page = client.post(f"/staff/needs/{need.id}/cancel?lang=en", data={"reason": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "give a reason" in page
    client.post(f"/staff/needs/{need.id}/cancel", data={"reason": "다른 기관에서 지원 확정"})
    session.refresh(need)
    assert need.status == NeedStatus.CANCELLED
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == need.id,
                                                    AuditEntry.action == "need.cancel"))
    assert entry.after["reason"] == "다른 기관에서 지원 확정" and entry.before["status"] == "open"


def test_admin_creates_staff_and_verifies_organisation(client, session):
    admin = f.user("admin")
    org = Organisation(name="서구 사랑나눔교회", kind="church")
    session.add(org)
    session.commit()
    f.login(client, admin)
    response = client.post("/admin/users", data={
        "display_name": "새 주무관", "email": "new.staff@kindcity.example", "password": "a-long-password",
        "role": "staff", "centre_id": f.centre("centre-pungam").id})
    assert response.status_code == 302
    page = client.get("/admin/users").get_data(as_text=True)
    assert "new.staff@kindcity.example" in page
    client.post(f"/admin/organisations/{org.id}/verify")
    session.refresh(org)
    assert org.is_verified


def test_admin_cannot_create_staff_without_centre(client, session):
    f.login(client, f.user("admin"))
    session.commit()
    page = client.post("/admin/users?lang=en", data={
        "display_name": "x", "email": "x.staff@kindcity.example", "password": "a-long-password",
        "role": "staff", "centre_id": 0}).get_data(as_text=True)
    assert "must belong to a welfare centre" in page


# Typed so that the text itself holds no number the guard knows, but the page shows one (issue 12, item 3).
SHOWN_ONLY = [
    ("&#48;10-1234-5678", "phone number"),
    ("9001&#48;1-1234567", "resident registration number"),
    ("kim&#64;example.com", "e-mail address"),
    ("010-**1234**-5678", "phone number"),
]


def _flashes(page: str) -> str:
    return page.split('<div class="flashes"')[1].split("</div>")[0]


@pytest.mark.parametrize(("typed", "kind"), SHOWN_ONLY)
def test_personal_data_the_page_would_show_warns_on_save_and_blocks_submission(client, session, typed, kind):
    author = f.user("staff")
    session.commit()
    f.login(client, author)
    saved = client.post("/staff/needs/new?lang=en", data=_form(description=f"어르신 연락처: {typed}"),
                        follow_redirects=True)
    need = session.scalar(select(Need).where(Need.title == "학교 밖 청소년 수학여행"))
    assert need is not None and need.status == NeedStatus.DRAFT  # the draft is saved all the same
    flashes = html.unescape(_flashes(saved.get_data(as_text=True)))
    assert "flash-warning" in flashes and "cannot be submitted yet" in flashes
    assert f"Description: possible {kind}" in flashes and "as the page would show it" in flashes
    assert "1234-5678" not in flashes and "1234567" not in flashes and "kim@" not in flashes  # masked

    refused = client.post(f"/staff/needs/{need.id}/submit?lang=en", follow_redirects=True)
    assert f"Description: possible {kind}" in html.unescape(_flashes(refused.get_data(as_text=True)))
    session.refresh(need)
    assert need.status == NeedStatus.DRAFT


def test_editing_a_draft_warns_about_every_public_field(client, session):
    author = f.user("staff")
    need = f.need(author=author, status=NeedStatus.DRAFT)
    session.commit()
    f.login(client, author)
    saved = client.post(f"/staff/needs/{need.id}/edit?lang=en", follow_redirects=True,
                        data=_form(title="도움 010-**1234**-5678", unit_name="화정로 123",
                                   summary="문의 kim&#64;example.com"))
    flashes = html.unescape(_flashes(saved.get_data(as_text=True)))
    assert "Changes saved." in flashes
    assert "Title: possible phone number" in flashes
    assert "Unit: possible detailed address" in flashes
    assert "Summary: possible e-mail address" in flashes
    session.refresh(need)
    assert need.title == "도움 010-**1234**-5678"


def test_a_clean_draft_has_no_warning(client, session):
    author = f.user("staff")
    session.commit()
    f.login(client, author)
    saved = client.post("/staff/needs/new?lang=en", data=_form(description="**교통**, 숙박 &amp; 식비 480,000원"),
                        follow_redirects=True)
    assert "flash-warning" not in saved.get_data(as_text=True)


def test_a_cancel_reason_is_public_text_and_is_checked(client, session):
    author = f.user("staff")
    need = f.need(author=author)
    session.commit()
    f.login(client, author)
    refused = client.post(f"/staff/needs/{need.id}/cancel?lang=en", follow_redirects=True,
                          data={"reason": "어르신(&#48;10-2345-6789)께서 다른 지원을 받게 되셨습니다"})
    flashes = html.unescape(_flashes(refused.get_data(as_text=True)))
    assert "Nothing was cancelled" in flashes and "Reason for cancelling: possible phone number" in flashes
    session.refresh(need)
    assert need.status == NeedStatus.OPEN and need.cancel_reason is None
    client.post(f"/staff/needs/{need.id}/cancel", data={"reason": "어르신께서 다른 지원을 받게 되셨습니다"})
    session.refresh(need)
    assert need.status == NeedStatus.CANCELLED


def test_dashboard_offers_for_approval_only_what_you_did_not_write_or_submit(client, session):
    author, editor, checker = f.user("staff"), f.user("staff"), f.user("staff")
    need = f.need(author=author, status=NeedStatus.DRAFT, title="다른 사람이 고친 수요")
    f.need(author=author, status=NeedStatus.AWAITING_APPROVAL, title="요청자 기록 전의 수요")  # no submitter known
    session.commit()
    f.login(client, editor)
    edit = _form(title="다른 사람이 고친 수요", target="1,000,000", unit_name="", unit_cost="", units="")
    assert client.post(f"/staff/needs/{need.id}/edit", data=edit).status_code == 302
    need_service.submit(Actor(author), need, seoul_today())
    session.commit()

    def section(person, heading):
        client.post("/account/logout")
        f.login(client, person)
        page = client.get("/staff/", query_string={"lang": "en"}).get_data(as_text=True)
        start = page.index(heading)
        return page[start:page.index("</section>", start)]

    assert "다른 사람이 고친 수요" not in section(editor, "Waiting for your approval")
    assert "다른 사람이 고친 수요" in section(editor, "Submitted by me, waiting for a colleague")
    assert "다른 사람이 고친 수요" not in section(author, "Waiting for your approval")
    assert "다른 사람이 고친 수요" in section(checker, "Waiting for your approval")
    assert "요청자 기록 전의 수요" in section(checker, "Waiting for your approval")
    assert "요청자 기록 전의 수요" not in section(author, "Waiting for your approval")


def test_the_dashboard_lists_needs_to_deliver_and_reports_overdue(client, session):
    from kindcity.services import Actor
    from kindcity.services import impact as impact_service

    staff = f.user("staff", centre_code="district-welfare")
    funded = f.need(author=staff, title="채워진 병원 이동", status=NeedStatus.FUNDED, target=100_000, confirmed=100_000)
    late = f.need(author=staff, title="보고가 늦은 수학여행", status=NeedStatus.FUNDED, target=100_000, confirmed=100_000)
    impact_service.start_delivery(Actor(staff), late, report_due=seoul_today() - timedelta(days=40),
                                  today=seoul_today() - timedelta(days=60))
    f.need(author=staff, title="아직 모금 중", target=100_000)
    session.commit()
    f.login(client, staff)
    page = client.get("/staff/?lang=en").get_data(as_text=True)
    to_deliver = page.split('id="list-funded"')[1].split("</section>")[0]
    overdue = page.split('id="list-overdue"')[1].split("</section>")[0]
    assert "Funded: start delivery (1)" in to_deliver and funded.title in to_deliver
    assert f'/staff/needs/{funded.id}/impact' in to_deliver and "아직 모금 중" not in to_deliver
    assert "Impact report overdue (1)" in overdue and late.title in overdue
    korean = client.get("/staff/?lang=ko").get_data(as_text=True)
    assert "목표를 채운 모금: 전달을 시작하세요 (1)" in korean and "성과 보고 기한이 지남 (1)" in korean
