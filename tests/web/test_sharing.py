"""A need's link previews: OpenGraph and Twitter-card tags on a need's page and its impact page, with
words made of figures and reference names (never what staff wrote about the people helped), and the
progress image drawn by the server (1200x630 PNG, validators, public needs only)."""
from __future__ import annotations

import html
import io
import re

from PIL import Image

from kindcity.domain.needs import NeedStatus
from kindcity.web.caching import clear_page_cache
from tests import factories as f


def _meta(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in
            re.findall(r'<meta (?:property|name)="((?:og|twitter):[a-z:_]+)" content="([^"]*)">', page)}


def test_a_need_page_has_a_preview_in_korean_and_english(client, session):
    need = f.need(title="홀몸 어르신 겨울 난방비", target=1_000_000, confirmed=250_000,
                  summary="김영희 할머니(82세)의 난방비", description="주소: 화정동 123")
    session.commit()
    clear_page_cache()
    korean = _meta(client.get(f"/needs/{need.id}?lang=ko").get_data(as_text=True))
    assert korean["og:title"] == "홀몸 어르신 겨울 난방비"
    assert korean["og:description"] == "화정1동 · 의료·병원 이동. 목표 1,000,000원 중 250,000원 모금 (25%)."
    assert korean["og:url"].endswith(f"/needs/{need.id}") and korean["og:url"].startswith("http")
    assert korean["og:image"].endswith(f"/needs/{need.id}/card.png")
    assert korean["twitter:card"] == "summary_large_image"
    assert korean["og:site_name"]
    for value in korean.values():
        assert "김영희" not in value and "123" not in value
    clear_page_cache()
    english = _meta(client.get(f"/needs/{need.id}?lang=en").get_data(as_text=True))
    assert english["og:description"] == ("Hwajeong 1-dong · Medical care and hospital transport. "
                                         "₩250,000 of ₩1,000,000 raised (25%).")
    assert english["og:locale"] == "en_US" and korean["og:locale"] == "ko_KR"


def test_an_impact_page_has_a_preview(client, session):
    need = f.need(title="암 환자 교통비", target=600_000, confirmed=600_000, status=NeedStatus.COMPLETED)
    session.commit()
    clear_page_cache()
    tags = _meta(client.get(f"/needs/{need.id}/impact?lang=en").get_data(as_text=True))
    assert "암 환자 교통비" in tags["og:title"] and tags["og:url"].endswith(f"/needs/{need.id}/impact")
    assert "Target reached" in tags["og:description"] and tags["twitter:card"] == "summary_large_image"
    korean = _meta(client.get(f"/needs/{need.id}/impact?lang=ko").get_data(as_text=True))
    assert "목표 달성" in korean["og:description"]


def test_the_progress_image_is_a_1200_by_630_png_with_validators(client, session):
    need = f.need(title="학교 밖 청소년 수학여행", target=1_000_000, confirmed=600_000)
    session.commit()
    clear_page_cache()
    response = client.get(f"/needs/{need.id}/card.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.size == (1200, 630)
    # the bar is filled 60% of its width in the brand's green, the rest is the track
    assert image.getpixel((60 + 1080 * 59 // 100, 478))[:3] == (11, 93, 59)
    assert image.getpixel((60 + 1080 * 61 // 100, 478))[:3] == (227, 231, 234)
    etag = response.headers["ETag"]
    assert client.get(f"/needs/{need.id}/card.png", headers={"If-None-Match": etag}).status_code == 304


def test_the_image_is_only_for_public_needs(client, session):
    draft = f.need(status=NeedStatus.DRAFT)
    waiting = f.need(status=NeedStatus.AWAITING_APPROVAL)
    session.commit()
    for need in (draft, waiting):
        assert client.get(f"/needs/{need.id}/card.png").status_code == 404
    assert client.get("/needs/999999/card.png").status_code == 404


def test_the_share_button_is_a_real_button_hidden_until_javascript_runs(client, session):
    need = f.need(title="공유할 모금")
    session.commit()
    clear_page_cache()
    page = client.get(f"/needs/{need.id}?lang=en").get_data(as_text=True)
    assert re.search(r'<button type="button" class="secondary share-button" hidden>Share this need</button>', page)
    assert '<script type="module" src="/static/js/share.js' in page and "<script>" not in page
    korean = client.get(f"/needs/{need.id}?lang=ko").get_data(as_text=True)
    assert "이 모금 공유하기" in korean and "링크를 복사했습니다" in html.unescape(korean)


def test_a_need_that_reached_its_target_has_a_full_bar(client, session):
    # its leftovers went back to donors: 570,000 of 600,000 kept, but the target was reached
    need = f.need(title="다 모인 모금", target=600_000, confirmed=570_000, status=NeedStatus.COMPLETED)
    session.commit()
    clear_page_cache()
    image = Image.open(io.BytesIO(client.get(f"/needs/{need.id}/card.png").data))
    assert image.getpixel((60 + 1080 * 99 // 100, 478))[:3] == (11, 93, 59)
