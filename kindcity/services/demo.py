"""A believable district for `make run`: the article's programmes and the people around them.

Idempotent: every object is looked up by a natural key first, so running it twice adds nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from ..domain.needs import NeedStatus
from ..extensions import db
from ..models import BeneficiaryGroup, Category, Dong, Need, Organisation, User
from . import SYSTEM, Actor
from . import needs as need_service
from .accounts import create_organisation, create_user, find_user_by_email, register_donor
from .reference import seed_district

DEMO_PASSWORD = "kindcity-demo-1234"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    note: str


DEMO_LOGINS = (
    DemoLogin("admin", "admin@kindcity.example", "administrator"),
    DemoLogin("staff", "staff.hwajeong@kindcity.example", "화정1동 행정복지센터 (posts needs)"),
    DemoLogin("staff", "staff.district@kindcity.example", "서구청 복지정책과 (approves needs)"),
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
     "education", "nongseong1", "out-of-school-youth", 25, ("1인 여행 경비", 480_000, 25), 60, "open"),
    ("홀몸 어르신 겨울 난방비", "혼자 사는 어르신 30가구의 겨울철 난방비를 보탭니다.",
     "올겨울 기름값이 올라 난방을 줄이는 어르신이 많습니다. 가구당 20만 원씩 난방유를 지원합니다.",
     "housing", "yang", "elderly-alone", 30, ("가구당 난방비", 200_000, 30), 20, "open"),
    ("한부모 가정 아이 방과 후 돌봄", "한부모 가정 아동 10명의 한 학기 방과 후 돌봄 비용입니다.",
     "일하는 부모가 퇴근할 때까지 아이들이 안전하게 머물 수 있도록 지역아동센터 돌봄 비용을 지원합니다.",
     "care", "pungam", "single-parent", 10, 3_000_000, 30, "open"),
    ("장애인 가정 주거 환경 개선", "휠체어 이용 가구 5곳의 문턱 제거와 안전 손잡이 설치를 지원합니다.",
     "작은 공사로 집 안에서의 이동이 훨씬 안전해집니다. 가구당 공사비 80만 원입니다.",
     "housing", "sangmu1", "disabled", 5, ("가구당 공사비", 800_000, 5), 90, "open"),
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
            user = register_donor(email=email, password=DEMO_PASSWORD, display_name=name, address="demo")
            user.organisation = existing or create_organisation(*org)
            return user
        return register_donor(email=email, password=DEMO_PASSWORD, display_name=name, address="demo")
    return create_user(SYSTEM, email=email, password=DEMO_PASSWORD, display_name=name, role=role,
                       centre_code=centre_code)


def load_demo_data(district_code: str, today: date) -> dict[str, int]:
    district = seed_district(district_code)
    admin = _ensure_user("admin@kindcity.example", "admin")
    author = _ensure_user("staff.hwajeong@kindcity.example", "staff", "centre-hwajeong1")
    approver = _ensure_user("staff.district@kindcity.example", "staff", "district-welfare")
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
            beneficiary_count=count, deadline=deadline, receiving_org=district.receiving_org_ko,
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
    return {"needs_created": created, "open": len(db.session.scalars(
        select(Need.id).where(Need.status == NeedStatus.OPEN)).all())}
