"""axe-core on the pages people use: no serious or critical accessibility violation, in Korean and English."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from kindcity.domain.needs import NeedStatus
from kindcity.domain.time import seoul_today

from .conftest import log_in

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")
_axe = Axe()


@pytest.fixture(scope="module")
def seeded(live_server):
    """A few open needs in different states of funding, plus work on the staff dashboard."""
    author = live_server.make_user("staff", centre_code="centre-nongseong1")
    reviewer = live_server.make_user("staff", centre_code="district-welfare")
    today = seoul_today()
    needs = [
        live_server.make_need(author=author, title="홀몸 어르신 겨울 난방비", dong="nongseong1", category="housing",
                              group="elderly-alone", target=2_400_000, confirmed=1_800_000,
                              deadline=today + timedelta(days=5),
                              description="## 무엇이 필요한가요\n\n겨울철 **난방유**를 지원합니다.\n\n- 가구당 한 드럼"),
        live_server.make_need(author=author, title="학교 밖 청소년 진로 체험", dong="nongseong1",
                              category="education", group="out-of-school-youth", unit_cost=35_000, units=20,
                              reserved=140_000, confirmed=350_000, deadline=today + timedelta(days=20)),
        live_server.make_need(author=author, title="한부모 가정 아이 돌봄", dong="yang", category="care",
                              group="single-parent", target=900_000, deadline=today),
        live_server.make_need(author=author, title="장애인 가정 밑반찬 지원", dong="chipyeong", category="food",
                              group="disabled", target=1_200_000, confirmed=1_200_000 // 4,
                              deadline=today + timedelta(days=45)),
    ]
    live_server.make_need(author=author, title="심사 중인 병원 동행 지원", status=NeedStatus.AWAITING_APPROVAL)
    live_server.make_need(author=reviewer, title="구청 초안 긴급 생계비", status=NeedStatus.DRAFT,
                          category="emergency", group="low-income")
    return {"needs": needs, "staff": reviewer}


def violation_report(url: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} serious/critical axe violation(s) on {url}:"]
    for v in violations:
        targets = [" ".join(map(str, node.get("target", []))) for node in v.get("nodes", [])[:3]]
        lines.append(f"- {v['id']} [{v['impact']}] {v.get('help', '')}: {'; '.join(targets)}"
                     + (f" (+{len(v['nodes']) - 3} more)" if len(v.get("nodes", [])) > 3 else ""))
    return "\n".join(lines)


def assert_accessible(page) -> None:
    results = _axe.run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING]
    if blocking:
        pytest.fail(violation_report(page.url, blocking), pytrace=False)


PUBLIC_PAGES = {
    "home-ko": "/",
    "home-en": "/?lang=en",
    "needs": "/needs",
    "needs-filtered": "/needs?dong=nongseong1&sort=nearly_funded",
    "login": "/account/login",
    "register": "/account/register",
    "password-reset": "/account/reset",
    "privacy": "/privacy",
    "terms-en": "/terms?lang=en",
}


@pytest.mark.parametrize("path", PUBLIC_PAGES.values(), ids=PUBLIC_PAGES.keys())
def test_public_pages_have_no_serious_axe_violations(live_server, seeded, page, path):
    page.goto(path)
    expect(page.locator("main h1")).to_be_visible()
    if "lang=en" in path:
        expect(page.locator("html")).to_have_attribute("lang", "en")
    else:
        expect(page.locator("html")).to_have_attribute("lang", "ko")
    assert_accessible(page)


def test_login_form_with_an_error_has_no_serious_axe_violations(live_server, page):
    page.goto("/account/login")
    page.locator("#email").fill("nobody@kindcity.example")
    page.locator("#password").fill("not-the-password")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


@pytest.mark.parametrize("index", [0, 1])
def test_need_pages_have_no_serious_axe_violations(live_server, seeded, page, index):
    need = seeded["needs"][index]
    page.goto(f"/needs/{need.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(need.title)
    assert_accessible(page)


def test_staff_pages_have_no_serious_axe_violations(live_server, seeded, page):
    t = live_server.t
    log_in(page, seeded["staff"])
    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("link", name="심사 중인 병원 동행 지원")).to_be_visible()
    assert_accessible(page)  # the dashboard, with its welcome message

    # A staff need page, with its actions and history table.
    page.get_by_role("link", name="심사 중인 병원 동행 지원").click()
    expect(page.get_by_role("button", name=t("Approve and publish"))).to_be_visible()
    assert_accessible(page)

    page.goto("/staff/")
    page.get_by_role("link", name=t("Post a new need")).click()
    expect(page).to_have_url(re.compile(r"/staff/needs/new$"))
    assert_accessible(page)

    # The same form showing validation errors (aria-invalid, error messages) must stay accessible.
    page.get_by_role("button", name=t("Save draft")).click()
    expect(page.locator(".field.has-error").first).to_be_visible()
    assert_accessible(page)


def test_donor_matching_pages_have_no_serious_axe_violations(live_server, page):
    """The pooled pledge and match offer forms (payment method, how often), the same form with an error,
    and a recurring instalment's page with its series table, in Korean."""
    from kindcity.domain.recurrence import due_date
    from kindcity.extensions import db
    from kindcity.models import User
    from kindcity.services import Actor
    from kindcity.services import matching as matching_service
    from kindcity.services import recurring

    donor = live_server.make_user("donor")
    today = seoul_today()
    with live_server.app.app_context():
        first = recurring.create_series(Actor(db.session.get(User, donor.id)), matching_service.PooledRequest(
            amount=500_000, criteria=matching_service.CriteriaInput(categories=("medical-transport",)),
            cap_percent=50, method="card"), "monthly", today)
        [second] = recurring.create_due_instalments(due_date(today, "monthly", 2))
        db.session.commit()
        first_id = first.id
    log_in(page, donor)

    page.goto("/me/pooled/new")
    expect(page.locator("#repeat")).to_be_visible()
    assert_accessible(page)
    page.locator("#amount").fill("100,000")
    page.locator("#repeat").select_option("monthly")
    page.locator("#ends_on").fill((today + timedelta(days=3)).isoformat())  # before the second instalment
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#ends_on")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    page.goto("/me/offers/new")
    expect(page.locator("#method")).to_be_visible()
    assert_accessible(page)

    page.goto(f"/me/pooled/{second.pledge_id}")
    expect(page.locator("#series-h")).to_be_visible()
    expect(page.locator("#card-h")).to_be_visible()
    assert_accessible(page)
    page.goto(f"/me/pooled/{first_id}")
    assert_accessible(page)
    page.goto("/me/")
    assert_accessible(page)
