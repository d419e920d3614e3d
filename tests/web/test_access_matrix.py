"""Role x route: every answer checked (200 / 302 to login / 403 / 404)."""
import pytest

from kindcity.domain.needs import NeedStatus
from kindcity.domain.referrals import ReferralStatus
from kindcity.domain.time import seoul_today, utcnow
from kindcity.models import StatementImport
from kindcity.services import Actor
from kindcity.services import needs as need_service
from kindcity.services import referrals as referral_service
from kindcity.services import texts as text_service
from kindcity.sms import IncomingText
from tests import factories as f

def _referral(dong="hwajeong1"):
    """A referral routed to centre-hwajeong1 (the "staff" role's centre), never to centre-pungam's."""
    return referral_service.submit("192.0.2.10", referral_service.ReferralRequest(
        dong=dong, urgency="urgent", situation="어르신 댁 난방이 끊긴 것 같습니다.", contact=None, consent=True))


def _text_case():
    """A text case passed to centre-hwajeong1 by the district office."""
    case = text_service.receive(IncomingText(provider_id="matrix-1", sender="01012340000", body="도움이 필요합니다",
                                             received_at=utcnow()), max_per_hour=20).case
    text_service.assign(Actor(f.user("staff", centre_code="district-welfare")), case.id, "hwajeong1")
    return case


ROLES = ["anonymous", "donor", "staff", "other_centre_staff", "admin"]

# route -> expected status per role (302 means: sent to the login page)
MATRIX = {
    "/": dict(anonymous=200, donor=200, staff=200, other_centre_staff=200, admin=200),
    "/needs": dict(anonymous=200, donor=200, staff=200, other_centre_staff=200, admin=200),
    "/needs/{open}": dict(anonymous=200, donor=200, staff=200, other_centre_staff=200, admin=200),
    "/needs/{draft}": dict(anonymous=404, donor=404, staff=404, other_centre_staff=404, admin=404),
    "/api/v1/needs/{draft}": dict(anonymous=404, donor=404, staff=404, other_centre_staff=404, admin=404),
    "/me/": dict(anonymous=302, donor=200, staff=403, other_centre_staff=403, admin=403),
    "/me/contact": dict(anonymous=302, donor=200, staff=403, other_centre_staff=403, admin=403),
    "/account/password": dict(anonymous=302, donor=200, staff=200, other_centre_staff=200, admin=200),
    "/staff/": dict(anonymous=302, donor=403, staff=200, other_centre_staff=200, admin=200),
    "/staff/needs/new": dict(anonymous=302, donor=403, staff=200, other_centre_staff=200, admin=200),
    "/staff/needs/{draft}": dict(anonymous=302, donor=403, staff=200, other_centre_staff=404, admin=200),
    "/staff/needs/{draft}/edit": dict(anonymous=302, donor=403, staff=200, other_centre_staff=404, admin=200),
    "/staff/audit": dict(anonymous=302, donor=403, staff=200, other_centre_staff=200, admin=200),
    "/staff/referrals": dict(anonymous=302, donor=403, staff=200, other_centre_staff=200, admin=200),
    "/staff/referrals?closed=1": dict(anonymous=302, donor=403, staff=200, other_centre_staff=200, admin=200),
    "/staff/referrals/{referral}": dict(anonymous=302, donor=403, staff=200, other_centre_staff=404, admin=200),
    "/staff/texts": dict(anonymous=302, donor=403, staff=200, other_centre_staff=200, admin=200),
    "/staff/texts?closed=1": dict(anonymous=302, donor=403, staff=200, other_centre_staff=200, admin=200),
    "/staff/texts/{text_case}": dict(anonymous=302, donor=403, staff=200, other_centre_staff=404, admin=200),
    "/staff/texts/counts": dict(anonymous=302, donor=403, staff=200, other_centre_staff=200, admin=200),
    "/staff/texts/counts.csv": dict(anonymous=302, donor=403, staff=200, other_centre_staff=200, admin=200),
    "/admin/users": dict(anonymous=302, donor=403, staff=403, other_centre_staff=403, admin=200),
    "/admin/organisations": dict(anonymous=302, donor=403, staff=403, other_centre_staff=403, admin=200),
    "/admin/categories": dict(anonymous=302, donor=403, staff=403, other_centre_staff=403, admin=200),
    "/admin/dongs": dict(anonymous=302, donor=403, staff=403, other_centre_staff=403, admin=200),
    "/admin/jobs": dict(anonymous=302, donor=403, staff=403, other_centre_staff=403, admin=200),
}


@pytest.mark.parametrize("role", ROLES)
def test_role_route_matrix(client, session, role):
    author = f.user("staff", centre_code="centre-hwajeong1")
    draft = f.need(author=author, status=NeedStatus.DRAFT)
    open_need = f.need(author=author)
    referral = _referral()
    text_case = _text_case()
    people = {
        "donor": f.user("donor"),
        "staff": f.user("staff", centre_code="centre-hwajeong1"),
        "other_centre_staff": f.user("staff", centre_code="centre-pungam"),
        "admin": f.user("admin"),
    }
    session.commit()
    if role != "anonymous":
        f.login(client, people[role])
    failures = []
    for route, expected in MATRIX.items():
        url = route.format(draft=draft.id, open=open_need.id, referral=referral.id, text_case=text_case.id)
        response = client.get(url)
        if response.status_code != expected[role]:
            failures.append((url, expected[role], response.status_code))
        if response.status_code == 302:
            assert "/account/login" in response.headers["Location"]
    assert failures == []


@pytest.mark.parametrize("role, expected", [("anonymous", 302), ("donor", 403), ("other_centre_staff", 404)])
def test_staff_actions_refused_to_others(client, session, role, expected):
    author = f.user("staff")
    need = f.need(author=author, status=NeedStatus.AWAITING_APPROVAL)
    people = {"donor": f.user("donor"), "other_centre_staff": f.user("staff", centre_code="centre-pungam")}
    session.commit()
    if role != "anonymous":
        f.login(client, people[role])
    response = client.post(f"/staff/needs/{need.id}/approve")
    assert response.status_code == expected
    session.refresh(need)
    assert need.status == NeedStatus.AWAITING_APPROVAL


REFERRAL_POSTS = [
    ("/staff/referrals/{id}/act", {"action": "take_up"}),
    ("/staff/referrals/{id}/act", {"action": "close", "close-outcome": "duplicate"}),
    ("/staff/referrals/{id}/notes", {"note": "메모"}),
]


@pytest.mark.parametrize("role, expected", [("anonymous", 302), ("donor", 403), ("other_centre_staff", 404)])
@pytest.mark.parametrize("path, data", REFERRAL_POSTS, ids=["take_up", "close", "note"])
def test_referral_steps_refused_to_others(client, session, role, expected, path, data):
    referral = _referral()
    people = {"donor": f.user("donor"), "other_centre_staff": f.user("staff", centre_code="centre-pungam")}
    session.commit()
    if role != "anonymous":
        f.login(client, people[role])
    response = client.post(path.format(id=referral.id), data=data)
    assert response.status_code == expected
    if expected == 302:
        assert "/account/login" in response.headers["Location"]
    session.refresh(referral)
    assert referral.status == ReferralStatus.NEW and referral.assignee_id is None and referral.notes == []


# --- the approval rule: who may approve a need that a colleague rewrote and another submitted ---------

FOUR_EYES_ROLES = ["anonymous", "donor", "author", "editor", "submitter", "colleague", "other_centre_staff"]
# role -> (answer to POST approve, status afterwards, the approve button shown on the need's staff page)
FOUR_EYES = {
    "anonymous": (302, NeedStatus.AWAITING_APPROVAL, None),
    "donor": (403, NeedStatus.AWAITING_APPROVAL, None),
    "author": (303, NeedStatus.AWAITING_APPROVAL, False),
    "editor": (303, NeedStatus.AWAITING_APPROVAL, False),
    "submitter": (303, NeedStatus.AWAITING_APPROVAL, False),
    "colleague": (303, NeedStatus.OPEN, True),
    "other_centre_staff": (404, NeedStatus.AWAITING_APPROVAL, None),
}


@pytest.mark.parametrize("role", FOUR_EYES_ROLES)
def test_approval_matrix(client, session, role):
    people = {
        "donor": f.user("donor"),
        "author": f.user("staff", centre_code="centre-hwajeong1"),
        "editor": f.user("staff", centre_code="centre-hwajeong1"),
        "submitter": f.user("staff", centre_code="centre-hwajeong1"),
        "colleague": f.user("staff", centre_code="centre-hwajeong1"),
        "other_centre_staff": f.user("staff", centre_code="centre-pungam"),
    }
    draft = f.need(author=people["author"], status=NeedStatus.DRAFT)
    session.commit()
    f.login(client, people["editor"])
    edit = {"title": "고쳐 쓴 제목", "summary": draft.summary, "description": "", "category_id": draft.category_id,
            "dong_id": draft.dong_id, "group_id": draft.group_id, "beneficiary_count": "10",
            "target": "1,000,000", "deadline": draft.deadline.isoformat(), "receiving_org_id": draft.receiving_org_id}
    assert client.post(f"/staff/needs/{draft.id}/edit", data=edit).status_code == 302
    client.post("/account/logout")
    need_service.submit(Actor(people["submitter"]), session.get(type(draft), draft.id), seoul_today())
    session.commit()
    # Nobody edits a need that is awaiting approval, not even its author.
    f.login(client, people["author"])
    assert client.get(f"/staff/needs/{draft.id}/edit").status_code == 303
    assert client.post(f"/staff/needs/{draft.id}/edit", data=edit | {"title": "몰래"}).status_code == 303
    client.post("/account/logout")

    answer, status_after, button = FOUR_EYES[role]
    if role != "anonymous":
        f.login(client, people[role])
    if button is not None:
        page = client.get(f"/staff/needs/{draft.id}").get_data(as_text=True)
        assert (f"/staff/needs/{draft.id}/approve" in page) is button
    response = client.post(f"/staff/needs/{draft.id}/approve")
    assert response.status_code == answer
    session.expire_all()
    need = session.get(type(draft), draft.id)
    assert (need.status, need.title, need.version) == (status_after, "고쳐 쓴 제목", 2)
    assert need.approved_by_id == (people["colleague"].id if role == "colleague" else None)


# --- the money permission: bank statements and deposits without a known reference ----------------------

MONEY_ROLES = ["anonymous", "donor", "staff", "other_centre_staff", "district_staff", "admin", "money_staff"]
_NO_MONEY = dict(anonymous=302, donor=403, staff=403, other_centre_staff=403, district_staff=403, admin=403,
                 money_staff=200)
MONEY_MATRIX = {
    "/staff/statements": _NO_MONEY,
    "/staff/statements/{statement}": _NO_MONEY,
    "/staff/statements/{statement}?outcome=unmatched": _NO_MONEY,
    # the pledge queue stays open to all staff, each seeing their own centre's pledges
    "/staff/pledges": dict(_NO_MONEY, staff=200, other_centre_staff=200, district_staff=200, admin=200),
}


@pytest.mark.parametrize("role", MONEY_ROLES)
def test_money_permission_matrix(client, session, role):
    people = {
        "donor": f.user("donor"),
        "staff": f.user("staff", centre_code="centre-hwajeong1"),
        "other_centre_staff": f.user("staff", centre_code="centre-pungam"),
        "district_staff": f.user("staff", centre_code="district-welfare"),
        "admin": f.user("admin"),
        "money_staff": f.user("staff", centre_code="district-welfare", money_staff=True),
    }
    statement = StatementImport(filename="s.csv", encoding="utf-8", uploaded_by_id=people["money_staff"].id,
                                rows=[{"line": 5, "booked_at": "2026-12-01T02:00:00+00:00", "amount": 30_000,
                                       "memo": "김철수", "reference": None, "fingerprint": "x", "pledge_id": None,
                                       "owed": None, "outcome": "unmatched"}])
    session.add(statement)
    session.commit()
    if role != "anonymous":
        f.login(client, people[role])
    failures = []
    for route, expected in MONEY_MATRIX.items():
        url = route.format(statement=statement.id)
        response = client.get(url)
        if response.status_code != expected[role]:
            failures.append((url, expected[role], response.status_code))
        if response.status_code == 302:
            assert "/account/login" in response.headers["Location"]
    assert failures == []
    if MONEY_MATRIX["/staff/pledges"][role] == 200:
        queue = client.get("/staff/pledges?lang=en").get_data(as_text=True)
        assert ("Deposits without a known reference code" in queue) is (role == "money_staff")
