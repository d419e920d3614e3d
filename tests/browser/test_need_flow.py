"""A need's whole public life in a real browser: posted, submitted, approved by a colleague, found."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from kindcity.domain.needs import NeedStatus
from kindcity.domain.time import seoul_today

from .conftest import log_in, no_horizontal_scroll

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/kindcity-home-390.png"
TITLE = "암 환자 서울 병원 왕복 교통비"
DONG, CATEGORY, GROUP = "풍암동", "의료·병원 이동", "암 환자"
DONG_CODE, CATEGORY_CODE = "pungam", "medical-transport"


def dashboard_section(page, heading: str):
    """The staff dashboard section whose heading starts with ``heading`` (it ends with a count)."""
    return page.locator("main section").filter(
        has=page.get_by_role("heading", name=re.compile("^" + re.escape(heading) + r" \(\d+\)$")))


def test_staff_post_colleague_approves_visitor_finds_it_on_a_phone(live_server, new_context):
    t = live_server.t
    author = live_server.make_user("staff")                                  # a dong centre
    approver = live_server.make_user("staff", centre_code="district-welfare")  # the district office

    # Staff A posts the need through the real form and submits it.
    page_a = new_context().new_page()
    log_in(page_a, author)
    expect(page_a).to_have_url(re.compile(r"/staff/$"))
    page_a.get_by_role("link", name=t("Post a new need")).click()
    expect(page_a).to_have_url(re.compile(r"/staff/needs/new$"))
    form = page_a.locator("main form")
    form.get_by_label(t("Title"), exact=True).fill(TITLE)
    form.get_by_label(t("Summary (one sentence)")).fill("항암 치료를 받으러 서울의 병원에 다니는 분들의 교통비입니다.")
    form.get_by_label(t("Description (Markdown; no names, phone numbers or addresses)")).fill(
        "KTX 왕복 교통비를 지원합니다.\n\n- 치료 일정에 맞춰 센터가 예매합니다.")
    form.get_by_label(t("Category"), exact=True).select_option(label=CATEGORY)
    form.get_by_label(t("Dong"), exact=True).select_option(label=DONG)
    form.get_by_label(t("Beneficiary group"), exact=True).select_option(label=GROUP)
    form.get_by_label(t("Number of beneficiaries")).fill("8")
    form.get_by_label(t("Unit (e.g. round trip to Seoul)")).fill("서울 병원 왕복")
    form.get_by_label(t("Cost per unit in won")).fill("150,000")
    form.get_by_label(t("Number of units")).fill("40")
    form.get_by_label(t("Deadline"), exact=True).fill((seoul_today() + timedelta(days=30)).isoformat())
    form.get_by_role("button", name=t("Save draft")).click()

    expect(page_a).to_have_url(re.compile(r"/staff/needs/\d+$"))
    need_id = int(page_a.url.rsplit("/", 1)[1])
    expect(page_a.locator(".badge")).to_have_text(t("Draft"))
    expect(page_a.locator(".facts")).to_contain_text("6,000,000원")
    page_a.get_by_role("button", name=t("Submit for approval")).click()
    expect(page_a.locator(".badge")).to_have_text(t("Awaiting approval"))
    expect(page_a.get_by_role("button", name=t("Approve and publish"))).to_have_count(0)

    # Staff B, in a separate browser context, finds it in the approval list and approves it.
    page_b = new_context().new_page()
    log_in(page_b, approver)
    expect(page_b).to_have_url(re.compile(r"/staff/$"))
    dashboard_section(page_b, t("Waiting for your approval")).get_by_role("link", name=TITLE).click()
    expect(page_b).to_have_url(re.compile(rf"/staff/needs/{need_id}$"))
    page_b.get_by_role("button", name=t("Approve and publish")).click()
    expect(page_b.locator(".badge")).to_have_text(t("Open"))
    expect(page_b.locator(".flash-success")).to_contain_text(t("Approved. The need is now public."))

    # An anonymous visitor on a 390 px phone finds it with the filter form.
    phone = new_context(phone=True).new_page()
    phone.goto("/")
    expect(phone.get_by_role("heading", level=1)).to_have_text(t("What our district needs now"))
    expect(phone.get_by_role("link", name=TITLE).first).to_be_visible()
    no_horizontal_scroll(phone, 390)
    phone.screenshot(path=SCREENSHOT, full_page=True)

    phone.get_by_role("navigation").get_by_role("link", name=t("Needs"), exact=True).click()
    expect(phone).to_have_url(re.compile(r"/needs$"))
    no_horizontal_scroll(phone, 390)
    filters = phone.get_by_role("search")
    expect(filters.get_by_label(t("Dong"), exact=True)).to_be_hidden()  # folded away until asked for
    filters.get_by_text(t("More filters"), exact=True).click()
    filters.get_by_label(t("Dong"), exact=True).select_option(label=DONG)
    filters.get_by_label(t("Category"), exact=True).select_option(label=CATEGORY)
    filters.get_by_role("button", name=t("Search")).click()
    expect(phone).to_have_url(re.compile(rf"[?&]category={CATEGORY_CODE}(&|$)"))
    expect(phone).to_have_url(re.compile(rf"[?&]dong={DONG_CODE}(&|$)"))
    card = phone.locator("article.card").filter(has=phone.get_by_role("link", name=TITLE))
    expect(card).to_have_count(1)
    expect(card).to_contain_text(DONG)
    no_horizontal_scroll(phone, 390)

    card.get_by_role("link", name=TITLE).click()
    expect(phone).to_have_url(re.compile(rf"/needs/{need_id}$"))
    expect(phone.get_by_role("heading", level=1)).to_have_text(TITLE)
    facts = phone.locator("dl.facts")
    expect(facts).to_contain_text("6,000,000원")
    unit_pricing = facts.locator("div").filter(has=phone.locator("dt", has_text=t("Unit pricing")))
    expect(unit_pricing.locator("dd")).to_contain_text("서울 병원 왕복")
    expect(unit_pricing.locator("dd")).to_contain_text("150,000원")
    expect(unit_pricing.locator("dd")).to_contain_text("40")
    no_horizontal_scroll(phone, 390)


def test_the_author_cannot_approve_their_own_need_but_a_colleague_can(live_server, new_context):
    t = live_server.t
    author = live_server.make_user("staff", centre_code="centre-hwajeong2")
    colleague = live_server.make_user("staff", centre_code="centre-hwajeong2")
    need = live_server.make_need(author=author, status=NeedStatus.AWAITING_APPROVAL, dong="hwajeong2",
                                 title="화정2동 어르신 반찬 나눔")
    approve = t("Approve and publish")

    own = new_context().new_page()
    log_in(own, author)
    own.goto(f"/staff/needs/{need.id}")
    expect(own.locator(".badge")).to_have_text(t("Awaiting approval"))
    expect(own.get_by_text(t("A colleague must approve this need; you cannot approve your own."))).to_be_visible()
    expect(own.get_by_role("button", name=approve)).to_have_count(0)
    expect(own.locator("form[action$='/approve']")).to_have_count(0)
    # Nor is it offered on the author's dashboard as something to approve: it waits for a colleague.
    own.goto("/staff/")
    expect(dashboard_section(own, t("Waiting for your approval")).get_by_role("link", name=need.title)) \
        .to_have_count(0)
    expect(dashboard_section(own, t("Submitted by me, waiting for a colleague"))
           .get_by_role("link", name=need.title)).to_have_count(1)

    other = new_context().new_page()
    log_in(other, colleague)
    other.goto(f"/staff/needs/{need.id}")
    expect(other.get_by_role("button", name=approve)).to_be_visible()
    other.get_by_role("button", name=approve).click()
    expect(other.locator(".badge")).to_have_text(t("Open"))
    expect(other.get_by_text(t("Approved by %(name)s", name=colleague.name))).to_be_visible()


def test_a_colleague_who_rewrites_and_submits_cannot_also_approve(live_server, new_context):
    """The walk-around of the author-only rule: rewrite a colleague's draft, submit it, approve it."""
    t = live_server.t
    author = live_server.make_user("staff", centre_code="centre-hwajeong3")
    rewriter = live_server.make_user("staff", centre_code="centre-hwajeong3")
    checker = live_server.make_user("staff", centre_code="centre-hwajeong3")
    need = live_server.make_need(author=author, status=NeedStatus.DRAFT, dong="hwajeong3", title="화정3동 김장 나눔")
    approve = t("Approve and publish")

    page = new_context().new_page()
    log_in(page, rewriter)
    page.goto(f"/staff/needs/{need.id}")
    page.get_by_role("link", name=t("Edit"), exact=True).click()
    page.locator("main form").get_by_label(t("Title"), exact=True).fill("화정3동 김장 나눔 (고쳐 씀)")
    page.locator("main form").get_by_role("button", name=t("Save draft")).click()
    expect(page.locator(".flash-success")).to_contain_text(t("Changes saved."))
    page.get_by_role("button", name=t("Submit for approval")).click()
    expect(page.locator(".badge")).to_have_text(t("Awaiting approval"))
    expect(page.get_by_text(t("You edited this need, so a colleague who did not must approve it."))).to_be_visible()
    expect(page.get_by_role("button", name=approve)).to_have_count(0)
    expect(page.get_by_role("link", name=t("Edit"), exact=True)).to_have_count(0)  # awaiting: no edits
    page.goto("/staff/")
    expect(dashboard_section(page, t("Waiting for your approval")).get_by_role("link", name=re.compile("김장")))\
        .to_have_count(0)

    other = new_context().new_page()
    log_in(other, checker)
    other.goto(f"/staff/needs/{need.id}")
    other.get_by_role("button", name=approve).click()
    expect(other.locator(".badge")).to_have_text(t("Open"))
    expect(other.get_by_role("heading", level=1)).to_have_text("화정3동 김장 나눔 (고쳐 씀)")
