"""A believable district for `make run`: the article's programmes and the people around them.

Idempotent: every object is looked up by a natural key first, so running it twice adds nothing.
The story is Seo-gu's (its dongs, centres and people), so it loads only over that district's data
file; any other district starts from `kindcity seed` and its own staff. This module is the one
place in the code that names Seo-gu (tests/web/test_second_district.py checks that).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from ..domain.needs import NeedStatus
from ..extensions import db
from ..models import BeneficiaryGroup, Category, District, Dong, Need, Organisation, User
from . import SYSTEM, Actor
from . import needs as need_service
from .accounts import create_organisation, create_user, find_user_by_email, register_donor, set_money_staff
from .receipts import default_organisation
from .reference import seed_district

DEMO_PASSWORD = "kindcity-demo-1234"
DEMO_DISTRICT = "gwangju-seogu"


class DemoUnavailable(ValueError):
    """The demo story belongs to another district's data file."""


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    note: str


DEMO_LOGINS = (
    DemoLogin("admin", "admin@kindcity.example", "administrator"),
    DemoLogin("staff", "staff.hwajeong@kindcity.example", "화정1동 행정복지센터 (posts needs)"),
    DemoLogin("staff", "staff.district@kindcity.example", "서구청 복지정책과 (approves needs, handles the bank account)"),
    DemoLogin("donor", "church@kindcity.example", "서구 사랑나눔교회 (church)"),
    DemoLogin("donor", "elevator@kindcity.example", "빛고을엘리베이터(주) (business)"),
    DemoLogin("donor", "shop@kindcity.example", "상무 착한국밥 (good shop)"),
    DemoLogin("donor", "resident@kindcity.example", "김서연 (resident)"),
)

ORGS = {
    "church@kindcity.example": ("서구 사랑나눔교회", "church", None),
    "elevator@kindcity.example": ("빛고을엘리베이터(주)", "business", "409-81-23456"),
    "shop@kindcity.example": ("상무 착한국밥", "good_shop", "410-12-34563"),
}
NAMES = {
    "church@kindcity.example": "박은혜 목사", "elevator@kindcity.example": "이정훈 대표",
    "shop@kindcity.example": "최민아 사장", "resident@kindcity.example": "김서연",
}

# (title, summary, description, category, dong, group, count, target or (unit, cost, units), days, status)
NEEDS = [
    ("암 환자 서울 병원 이동 지원", "서울 대형병원에서 항암 치료를 받는 환자들의 왕복 교통비를 지원합니다.",
     "서구에 사는 암 환자 중 상당수가 서울의 대형병원에서 치료를 받습니다. KTX와 택시를 이용한 왕복 이동은 "
     "한 번에 15만 원이 들고, 치료는 몇 달 동안 이어집니다.\n\n**지원 내용**: 서울 병원 왕복 40회 교통비.",
     "medical-transport", "hwajeong1", "cancer-patients", 12, ("서울 병원 왕복", 150_000, 40), 45, "open"),
    ("학교 밖 청소년 수학여행", "학교를 떠난 청소년들도 친구들과 함께 2박 3일 수학여행을 떠날 수 있도록 돕습니다.",
     "학교 밖 청소년은 수학여행 같은 경험을 놓치기 쉽습니다. 청소년 상담복지센터와 함께 제주도 2박 3일 "
     "여행을 준비합니다. 교통, 숙박, 식비, 체험비를 포함합니다.",
     "education", "nongseong1", "out-of-school-youth", 25, ("1인", 480_000, 25), 60, "open"),
    ("홀몸 어르신 겨울 난방비", "혼자 사는 어르신 30가구의 겨울철 난방비를 보탭니다.",
     "올겨울 기름값이 올라 난방을 줄이는 어르신이 많습니다. 가구당 20만 원씩 난방유를 지원합니다.",
     "housing", "yang", "elderly-alone", 30, ("가구", 200_000, 30), 20, "open"),
    ("한부모 가정 아이 방과 후 돌봄", "한부모 가정 아동 10명의 한 학기 방과 후 돌봄 비용입니다.",
     "일하는 부모가 퇴근할 때까지 아이들이 안전하게 머물 수 있도록 지역아동센터 돌봄 비용을 지원합니다.",
     "care", "pungam", "single-parent", 10, 3_000_000, 30, "open"),
    ("장애인 가정 주거 환경 개선", "휠체어 이용 가구 5곳의 문턱 제거와 안전 손잡이 설치를 지원합니다.",
     "작은 공사로 집 안에서의 이동이 훨씬 안전해집니다. 가구당 공사비 80만 원입니다.",
     "housing", "sangmu1", "disabled", 5, ("가구", 800_000, 5), 90, "open"),
    ("저소득 가구 김장 나눔", "저소득 가구 50곳에 김장 김치를 나눕니다.",
     "착한 가게와 자원봉사자가 함께 김장을 담가 나눕니다. 재료비를 모읍니다.",
     "food", "geumho1", "low-income", 50, 2_500_000, 6, "open"),
    ("아동 겨울 외투 지원", "초등학생 40명에게 따뜻한 겨울 외투를 선물합니다.",
     "성장기 아이들에게 맞는 외투를 지역 상점에서 구매합니다.",
     "food", "chipyeong", "children", 40, ("외투 1벌", 70_000, 40), 25, "awaiting_approval"),
    ("소상공인 멘토링 나눔 교실", "멘토링 활동비를 돌봄이웃 지원으로 이어 가는 교실 운영비입니다.",
     "소상공인 멘토들이 받은 멘토링 활동비를 돌봄이웃에게 기부하는 모임의 운영을 돕습니다.",
     "mentoring", "gwangcheon", "low-income", 20, 1_200_000, 40, "draft"),
    ("어르신 가을 나들이", "홀몸 어르신 20명의 하루 나들이 비용이었습니다.",
     "기한 안에 모금되지 않아 마감되었습니다.", "culture", "seochang", "elderly-alone", 20, 1_000_000, -3,
     "expired"),
]


def _ensure_user(email: str, role: str, centre_code: str | None = None) -> User:
    user = find_user_by_email(email)
    if user is not None:
        return user
    name = NAMES.get(email) or {"admin@kindcity.example": "관리자",
                                "staff.hwajeong@kindcity.example": "정하늘 주무관",
                                "staff.district@kindcity.example": "오세진 주무관"}[email]
    if role == "donor":
        org = ORGS.get(email)
        if org:
            existing = db.session.scalar(select(Organisation).where(Organisation.name == org[0]))
            user = register_donor(email=email, password=DEMO_PASSWORD, display_name=name, address="demo",
                                  confirmed=True).user
            user.organisation = existing or create_organisation(*org)
            return user
        return register_donor(email=email, password=DEMO_PASSWORD, display_name=name, address="demo",
                              confirmed=True).user
    return create_user(SYSTEM, email=email, password=DEMO_PASSWORD, display_name=name, role=role,
                       centre_code=centre_code)


def load_demo_data(district_code: str, today: date) -> dict[str, int]:
    if district_code != DEMO_DISTRICT:
        raise DemoUnavailable(district_code)
    district = seed_district(district_code)
    admin = _ensure_user("admin@kindcity.example", "admin")
    author = _ensure_user("staff.hwajeong@kindcity.example", "staff", "centre-hwajeong1")
    approver = _ensure_user("staff.district@kindcity.example", "staff", "district-welfare")
    set_money_staff(Actor(admin, "demo"), approver, True)  # the district office keeps the bank account
    for email in ORGS:
        _ensure_user(email, "donor")
    _ensure_user("resident@kindcity.example", "donor")
    for org in db.session.scalars(select(Organisation)).all():
        if org.verified_at is None:
            from .accounts import verify_organisation
            verify_organisation(Actor(admin, "demo"), org, True)

    created = 0
    by_code = lambda model, code: db.session.scalar(select(model).where(model.code == code))  # noqa: E731
    for (title, summary, body, cat, dong, group, count, money, days, status) in NEEDS:
        if db.session.scalar(select(Need.id).where(Need.title == title)) is not None:
            continue
        unit = money if isinstance(money, tuple) else None
        deadline = today + timedelta(days=max(days, 1))
        data = need_service.NeedInput(
            title=title, summary=summary, description=body, category_id=by_code(Category, cat).id,
            dong_id=by_code(Dong, dong).id, group_id=by_code(BeneficiaryGroup, group).id,
            beneficiary_count=count, deadline=deadline, receiving_org_id=default_organisation().id,
            target=None if unit else money, unit_name=unit[0] if unit else None,
            unit_cost=unit[1] if unit else None, units=unit[2] if unit else None)
        writer = Actor(author, "demo")
        need = need_service.create_need(writer, data, today)
        if status != "draft":
            need_service.submit(writer, need, today)
        if status in ("open", "expired"):
            need_service.approve(Actor(approver, "demo"), need, today)
        if status == "expired":
            need.deadline = today + timedelta(days=days)
            need_service.expire_overdue(today)
        created += 1
    db.session.flush()
    created += load_demo_impact(district, today)
    _demo_referrals(author)
    return {"needs_created": created, "open": len(db.session.scalars(
        select(Need.id).where(Need.status == NeedStatus.OPEN)).all())}


# --- impact: a completed need with a published report (load_demo_impact) ------------------------

IMPACT_NEED_TITLE = "암 환자 서울 병원 이동 지원 (1차)"
IMPACT_STORY = (
    "지난 석 달 동안 서구에 사는 암 환자 11명이 서울의 대형병원에서 항암 치료를 받기 위해 "
    "**38번 왕복**했습니다. 계획한 40번 중 2번은 치료 일정이 바뀌어 필요하지 않았습니다.\n\n"
    "한 번 왕복에 드는 KTX와 택시 비용 15만 원을 서구 사랑나눔교회, 빛고을엘리베이터(주), "
    "상무 착한국밥과 이웃 주민이 함께 마련했습니다. 쓰고 남은 30만 원은 후원자들이 고른 대로 "
    "나눔 기금, 비슷한 수요, 환불로 돌아갔습니다.\n\n"
    "> 치료보다 오가는 길이 더 걱정이었는데, 이제는 치료에만 마음을 쓸 수 있습니다.")
# (donor e-mail, amount, display, on_cancel, days before today the money arrived)
IMPACT_GIFTS = (
    ("church@kindcity.example", 3_000_000, "organisation", "pool", 84),
    ("elevator@kindcity.example", 2_100_000, "organisation", "similar", 80),
    ("shop@kindcity.example", 600_000, "organisation", "pool", 76),
    ("resident@kindcity.example", 300_000, "name", "refund", 75),
)
# (trips, days before today, what it paid for)
IMPACT_SPENDING = ((10, 62, "서울 병원 왕복 교통비 10회 (KTX·택시)"), (10, 41, "서울 병원 왕복 교통비 10회 (KTX·택시)"),
                   (10, 20, "서울 병원 왕복 교통비 10회 (KTX·택시)"), (8, 6, "서울 병원 왕복 교통비 8회 (KTX·택시)"))


def _demo_photo_png() -> bytes:
    """A drawn picture of a train (nobody in it), so the demo needs no real photo with consent."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (960, 540), (214, 234, 248))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 400, 960, 540), fill=(120, 160, 90))
    draw.rectangle((0, 380, 960, 396), fill=(90, 90, 90))
    draw.rounded_rectangle((90, 250, 870, 380), radius=40, fill=(245, 245, 245), outline=(11, 93, 59), width=6)
    draw.polygon([(870, 250), (940, 330), (870, 380)], fill=(11, 93, 59))
    for left in range(140, 800, 110):
        draw.rounded_rectangle((left, 275, left + 80, 325), radius=8, fill=(60, 110, 160))
    draw.rectangle((90, 340, 870, 352), fill=(11, 93, 59))
    draw.ellipse((760, 60, 860, 160), fill=(255, 200, 60))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _demo_upload_folder():
    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    from ..paths import upload_folder
    return upload_folder(current_app)


def load_demo_impact(district: District, today: date) -> int:
    """A completed need with a published report: 38 of 40 Seoul round trips for cancer patients.

    Everything goes through the services (pledges, payments, delivery, spending, leftovers, report,
    a colleague's approval), so the journal reconciles. Idempotent: it does nothing once the need exists.
    """
    import hashlib
    from datetime import datetime, time

    from ..domain.time import SEOUL
    from ..models import ReportPhoto
    from . import impact as impact_service
    from . import photos as photo_files
    from . import pledges as pledge_service

    if db.session.scalar(select(Need.id).where(Need.title == IMPACT_NEED_TITLE)) is not None:
        return 0
    author = find_user_by_email("staff.hwajeong@kindcity.example")
    approver = find_user_by_email("staff.district@kindcity.example")
    by_code = lambda model, code: db.session.scalar(select(model).where(model.code == code))  # noqa: E731
    writer = Actor(author, "demo")
    need = need_service.create_need(writer, need_service.NeedInput(
        title=IMPACT_NEED_TITLE, summary="서울 대형병원에서 항암 치료를 받는 환자들의 왕복 교통비를 지원했습니다.",
        description="서울 병원 왕복 교통비 40회분을 모았습니다. 모금이 끝나 지원을 마쳤고, 성과 보고가 공개되어 있습니다.",
        category_id=by_code(Category, "medical-transport").id, dong_id=by_code(Dong, "hwajeong1").id,
        group_id=by_code(BeneficiaryGroup, "cancer-patients").id, beneficiary_count=11, deadline=today + timedelta(days=1),
        receiving_org_id=default_organisation().id, unit_name="서울 병원 왕복", unit_cost=150_000, units=40), today)
    need_service.submit(writer, need, today)
    need_service.approve(Actor(approver, "demo"), need, today)
    need.created_at = need.approved_at = datetime.combine(today - timedelta(days=90), time(9, 0), SEOUL)
    for email, amount, display, on_cancel, days_ago in IMPACT_GIFTS:
        donor = find_user_by_email(email)
        pledge = pledge_service.create_direct_pledge(Actor(donor, "demo"), pledge_service.PledgeRequest(
            need_id=need.id, amount=amount, units=None, display=display, message="", on_cancel=on_cancel),
            hold_for=timedelta(days=7))
        arrived = datetime.combine(today - timedelta(days=days_ago), time(10, 0), SEOUL)
        pledge_service.record_payment(Actor(approver, "demo"), pledge.id, amount, source="demo",
                                      external_id=f"demo-impact:{pledge.reference}", received_at=arrived)
    db.session.flush()
    db.session.refresh(need)
    impact_service.start_delivery(writer, need, report_due=today + timedelta(days=14), today=today)
    for trips, days_ago, what in IMPACT_SPENDING:
        impact_service.record_disbursement(writer, need, amount=trips * 150_000, spent_on=today - timedelta(days=days_ago),
                                           description=what, today=today)
    impact_service.return_leftovers(writer, need)
    impact_service.save_report(writer, need, impact_service.ReportInput(
        units_delivered=38, beneficiaries_reached=11, delivered_from=today - timedelta(days=70),
        delivered_to=today - timedelta(days=6), story=IMPACT_STORY), today)
    folder = _demo_upload_folder()
    if folder is not None:
        processed = photo_files.process_photo(_demo_photo_png(), "train.png")
        # Named by content, so loading the demo again (or in tests) never piles up copies.
        name = f"{hashlib.sha256(processed.data).hexdigest()[:32]}.{processed.extension}"
        if not (folder / name).exists():
            photo_files.store(folder, name, processed.data)
        report = impact_service.report_for(need.id)
        db.session.add(ReportPhoto(report_id=report.id, filename=name, content_type=processed.content_type,
                                   width=processed.width, height=processed.height, size_bytes=len(processed.data),
                                   caption="서울로 향하는 KTX 열차 그림 (사람은 나오지 않습니다)", consent=True,
                                   uploaded_by_id=author.id))
        db.session.flush()
    impact_service.submit_report(writer, need, today)
    impact_service.approve_report(Actor(approver, "demo"), need, today)
    return 1


DEMO_REFERRALS = (  # invented, as a resident might write; no real person
    ("hwajeong1", "urgent", "화정1동 주공아파트 옆 골목 단독주택에 혼자 사시는 할아버지가 사흘째 보이지 않습니다. "
                            "밤에 불도 안 켜져 있고 보일러 소리도 나지 않아요.", "옆집 주민 (저녁에 연락 가능)"),
    ("hwajeong1", "normal", "화정1동 경로당에 나오시던 할머니가 요즘 식사를 거르신다고 들었습니다. 자녀와 연락이 "
                            "끊긴 것 같아요.", None),
)


def _demo_referrals(staff: User) -> None:
    """Two referrals for the Hwajeong 1-dong centre's queue (idempotent: only when there are none)."""
    from ..models import Referral
    from . import referrals as referral_service

    if db.session.scalar(select(Referral.id).limit(1)) is not None:
        return
    for dong, urgency, situation, contact in DEMO_REFERRALS:
        referral_service.submit("demo", referral_service.ReferralRequest(
            dong=dong, urgency=urgency, situation=situation, contact=contact, consent=True))
    first = db.session.scalar(select(Referral.id).order_by(Referral.id).limit(1))
    referral_service.act(Actor(staff, "demo"), first, "take_up", note="오늘 오후 방문 예정입니다.")
