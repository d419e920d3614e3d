"""SOLAPI through its real SDK against a fake SOLAPI server on 127.0.0.1: incoming texts signed as SOLAPI
signs its requests reach the webhook and become cases; answers go out through the SDK, once; forged,
stale and replayed signatures change nothing; a provider error is retried, a refusal is not."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from kindcity.domain.time import utcnow
from kindcity.models import SentText, TextCase, TextMessage
from kindcity.services import texts as service
from kindcity.sms import SmsUnavailable, sms_provider
from kindcity.sms.jobs import deliver
from tests import factories as f
from tests.sms.fake_solapi import API_KEY, incoming_headers

PHONE = "01024681357"


def payload(text: str, message_id: str, sender: str = "010-2468-1357") -> str:
    return json.dumps([{"messageId": message_id, "from": sender, "to": "0623607114", "text": text,
                        "dateReceived": utcnow().isoformat()}], ensure_ascii=False)


def post(client, body: str, headers: dict | None = None):
    return client.post("/webhooks/sms", data=body.encode(), headers=headers if headers is not None else incoming_headers())


def cases_of(session, phone=PHONE) -> list[TextCase]:
    return list(session.scalars(select(TextCase).where(TextCase.phone == phone)))


def test_an_incoming_text_becomes_a_case_and_the_first_answer_goes_out_through_the_sdk(client, session, solapi_on):
    response = post(client, payload("안녕하세요 어머니가 혼자 계셔서 걱정입니다", "MO-1"))
    assert response.status_code == 200 and response.get_json() == {"received": 1, "kept": 1}
    assert PHONE not in response.get_data(as_text=True)
    [case] = cases_of(session)
    assert [m.body for m in case.messages if m.direction == "in"] == ["안녕하세요 어머니가 혼자 계셔서 걱정입니다"]
    assert len(solapi_on.sent) == 1
    sent = solapi_on.sent[0]
    assert sent["to"] == PHONE and sent["from"] == "0623607114" and "119" in sent["text"]
    out = [m for m in case.messages if m.direction == "out"][0]
    assert sent["customFields"] == {"kindcity": f"text:{out.id}"}
    assert session.get(SentText, f"text:{out.id}").provider_id.startswith("M4V")


def test_staff_answer_goes_to_the_senders_number_from_the_registered_number(client, session, solapi_on):
    post(client, payload("쌀이 떨어졌어요", "MO-2"))
    [case] = cases_of(session)
    staff = f.user("staff", centre_code="district-welfare")
    f.login(client, staff)
    response = client.post(f"/staff/texts/{case.id}/reply", data={"reply-body": "내일 오전에 전화드리겠습니다."})
    assert response.status_code == 303
    assert [(m["to"], m["from"], m["text"]) for m in solapi_on.sent][-1] == (PHONE, "0623607114", "내일 오전에 전화드리겠습니다.")


@pytest.mark.parametrize("headers", [
    {},                                                                     # no signature at all
    incoming_headers(secret="not-the-secret-at-all-0123456789"),           # forged with another secret
    incoming_headers(api_key="NCSOTHERACCOUNT01"),                          # another account's key
    incoming_headers(date=datetime.now(timezone.utc) - timedelta(minutes=30)),  # captured long ago
    {"Authorization": "HMAC-SHA256 ApiKey=" + API_KEY + ", Date=x, salt=abcdefgh, signature=00"},
], ids=["missing", "forged", "other-key", "stale", "garbage"])
def test_a_webhook_without_a_good_signature_changes_nothing(client, session, solapi_on, headers):
    response = post(client, payload("가짜 문자입니다", "MO-forged"), headers)
    assert response.status_code == 400
    assert cases_of(session) == [] and solapi_on.sent == []


def test_a_replayed_webhook_is_refused_and_a_redelivered_text_is_stored_once(client, session, solapi_on):
    headers = incoming_headers()
    body = payload("한 번만 저장되어야 합니다", "MO-3")
    assert post(client, body, headers).status_code == 200
    assert post(client, body, headers).status_code == 400            # the same signed request again: a replay
    assert post(client, body, incoming_headers()).status_code == 200  # SOLAPI delivering again, freshly signed
    assert session.scalar(select(func.count(TextMessage.id)).where(TextMessage.provider_id == "MO-3")) == 1
    assert len(solapi_on.sent) == 1


def test_a_body_that_is_not_a_text_is_refused(client, session, solapi_on):
    assert post(client, "not json").status_code == 400
    assert post(client, json.dumps([{"messageId": "MO-4", "from": "+1 415 555 0100", "text": "hi"}])).status_code == 400
    assert cases_of(session, "") == []


def test_the_webhook_is_closed_on_the_demo_provider(client, session):
    assert post(client, payload("데모에서는 웹훅이 없습니다", "MO-5")).status_code == 404


def test_a_provider_error_fails_the_job_for_a_retry_and_the_retry_sends_once(app, session, solapi_on):
    case = service.receive(service_text("보내기 실패 후 재시도"), max_per_hour=20).case
    session.commit()
    message = session.scalars(select(TextMessage).where(TextMessage.case_id == case.id,
                                                        TextMessage.direction == "out")).one()
    session.info.pop("kindcity.jobs.committed", None)  # this test runs the job by hand
    solapi_on.fail_next.append(503)
    with pytest.raises(SmsUnavailable):
        deliver(message.id)
    session.rollback()
    assert session.get(SentText, f"text:{message.id}") is None and solapi_on.sent == []
    deliver(message.id)
    session.commit()
    deliver(message.id)   # a worker that died after the send runs the job again: nothing more goes out
    assert len(solapi_on.sent) == 1 and solapi_on.refused_auth == 0


def test_a_sending_number_not_registered_is_refused_and_not_retried(app, session, solapi_on, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_SMS_SENDER", "010-9999-0000")
    case = service.receive(service_text("미등록 발신번호"), max_per_hour=20).case
    session.commit()
    session.info.pop("kindcity.jobs.committed", None)
    message = session.scalars(select(TextMessage).where(TextMessage.case_id == case.id,
                                                        TextMessage.direction == "out")).one()
    assert deliver(message.id) is None
    assert session.get(SentText, f"text:{message.id}").provider_id == "refused"
    assert solapi_on.sent == []


def test_the_sdk_signs_every_call_afresh(app, solapi_on):
    from kindcity.sms import OutgoingText

    provider = sms_provider(app.config)
    for n in range(3):
        provider.send(OutgoingText(to=PHONE, body=f"서명 {n}", key=f"sign-{n}"))
    assert len(solapi_on.sent) == 3 and solapi_on.refused_auth == 0


def service_text(body: str):
    from kindcity.sms import IncomingText

    return IncomingText(provider_id=f"svc-{abs(hash(body))}", sender=PHONE, body=body, received_at=utcnow())


def test_production_refuses_the_fake_base_address_and_the_demo(app):
    from kindcity.config import ConfigError, check_sms_config
    from kindcity.sms import SmsUnavailableHere, sms_provider_name

    config = {"KINDCITY_ENV": "production", "KINDCITY_SOLAPI_API_KEY": API_KEY, "KINDCITY_SOLAPI_API_SECRET": "s",
              "KINDCITY_SMS_SENDER": "0623607114", "KINDCITY_SOLAPI_API_BASE": "http://127.0.0.1:1"}
    with pytest.raises(ConfigError):
        check_sms_config(config)
    with pytest.raises(ConfigError):
        check_sms_config({**config, "KINDCITY_SOLAPI_API_BASE": "", "KINDCITY_SMS_SENDER": "not a number"})
    check_sms_config({**config, "KINDCITY_SOLAPI_API_BASE": ""})
    with pytest.raises(SmsUnavailableHere):
        sms_provider_name({"KINDCITY_ENV": "production"})



def test_the_webhook_is_closed_in_production_without_solapi(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "KINDCITY_ENV", "production")
    assert post(client, payload("운영 환경, 문자 업체 없음", "MO-6")).status_code == 404


def test_donor_notices_go_as_alimtalk_with_sms_fallback_where_a_template_is_approved(app, session, solapi_on,
                                                                                      monkeypatch):
    from kindcity.models import DonorContact
    from kindcity.sms.jobs import donor_text

    monkeypatch.setitem(app.config, "KINDCITY_SOLAPI_KAKAO_PFID", "KA01PF-seogu")
    monkeypatch.setitem(app.config, "KINDCITY_SOLAPI_KAKAO_TEMPLATES", "pledge-instructions=TPL-PLEDGE, need-impact=")
    donor = f.user("donor")
    session.add(DonorContact(user_id=donor.id, channel="text", phone=PHONE, verified_at=utcnow(), code_attempts=0,
                             codes_in_window=0))
    session.flush()
    donor_text(donor.id, "pledge-instructions:1", "[서구 나눔] 약정 KC-ABCD", notice="pledge-instructions",
               variables={"reference": "KC-ABCD", "amount": "30,000"})
    donor_text(donor.id, "need-impact:9:1", "[서구 나눔] 결과가 공개되었습니다", notice="need-impact",
               variables={"title": "수학여행"})
    alimtalk, plain = solapi_on.sent
    assert alimtalk["kakaoOptions"]["pfId"] == "KA01PF-seogu" and alimtalk["kakaoOptions"]["templateId"] == "TPL-PLEDGE"
    assert alimtalk["kakaoOptions"]["disableSms"] is False   # no KakaoTalk: the text goes as SMS instead
    assert alimtalk["kakaoOptions"]["variables"] == {"#{reference}": "KC-ABCD", "#{amount}": "30,000"}
    assert alimtalk["text"] == "[서구 나눔] 약정 KC-ABCD" and alimtalk["to"] == PHONE
    assert "kakaoOptions" not in plain and plain["text"] == "[서구 나눔] 결과가 공개되었습니다"
