"""A donor pays a pledge by card in a real browser, with the demo card provider (no Stripe keys are set)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_a_donor_pledges_by_card_on_the_demo_checkout_and_the_need_moves(live_server, page):
    t = live_server.t
    donor = live_server.make_user("donor")
    need = live_server.make_need(title="학교 밖 청소년 수학여행", target=200_000, category="education",
                                 group="out-of-school-youth")
    log_in(page, donor)

    page.goto(f"/needs/{need.id}")
    progress = page.locator(".progress").first
    won = lambda amount: t("%(amount)s won", amount=amount)  # noqa: E731  (the site's own won format)
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    expect(progress.locator(".amounts strong")).to_have_text(won("0"))
    page.get_by_role("link", name=t("Pledge to this need")).click()

    form = page.locator("main form")
    form.get_by_label(t("Amount in won (at least 1,000 won)")).fill("50,000")
    form.get_by_label(t("How will you pay?")).select_option(value="card")
    expect(form).to_contain_text(t("Card payment on this site is a demonstration: no money moves."))
    form.get_by_role("button", name=t("Pledge"), exact=True).click()

    # The demo provider's checkout page, clearly marked: no money moves here.
    expect(page).to_have_url(re.compile(r"/demo-checkout/demo_cs_\w+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Demonstration card checkout"))
    expect(page.locator("main")).to_contain_text(t("This is a demonstration: no card is charged and no money moves."))
    expect(page.locator("dl.facts")).to_contain_text(won("50,000"))
    page.locator("button[value=decline]").click()
    expect(page.locator(".flash-error")).to_contain_text(
        t("Demonstration: the card was declined. No money moved; you can try again."))
    page.locator("button[value=pay]").click()

    expect(page).to_have_url(re.compile(r"/me/pledges/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text(t("Thank you! Your card payment is confirmed."))
    expect(page.locator("dl.facts")).to_contain_text(t("Paid"))

    page.goto(f"/needs/{need.id}")
    progress = page.locator(".progress").first
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "25")
    expect(progress.locator(".amounts strong")).to_have_text(won("50,000"))
