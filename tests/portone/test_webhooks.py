"""PortOne's webhook door: signatures (forged, stale, replayed), duplicates, disorder, PortOne failing."""
from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from kindcity.domain.pledges import PledgeStatus
from kindcity.extensions import db
from kindcity.models import Payment, ProviderEvent
from kindcity.services.reconcile import reconcile
from tests import factories as f

from kindcity import jobs

from .conftest import deliver, handled, kr_pledge, sign


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def paid_pledge_event(client, portone_on, amount=60_000):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, amount)
    portone_on.open_window(kp.payment_id, amount=amount)
    return kp, portone_on.pay(kp.payment_id)


def test_a_forged_signature_is_refused_and_changes_nothing(app, portone_on, client, session):
    kp, message = paid_pledge_event(client, portone_on)
    other_secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="

    assert deliver(client, message, secret=other_secret).status_code == 400
    assert deliver(client, message, signature="v1,bm90IGEgc2lnbmF0dXJl").status_code == 400
    body = json.dumps(message["event"], separators=(",", ":"))
    tampered = body.replace(kp.payment_id, "kc-SOMEONEELSE")
    t = int(time.time())
    signed_original = sign(message["id"], t, body)
    assert deliver(client, message, payload=tampered, timestamp=t, signature=signed_original).status_code == 400
    assert count(Payment) == 0 and count(ProviderEvent) == 0


def test_a_replayed_delivery_with_an_old_timestamp_is_refused(app, portone_on, client, session):
    kp, message = paid_pledge_event(client, portone_on)
    old = int(time.time()) - 600  # PortOne's SDK allows five minutes

    response = deliver(client, message, timestamp=old)

    assert response.status_code == 400 and count(Payment) == 0


def test_a_delivery_without_the_headers_is_refused(app, portone_on, client, session):
    kp, message = paid_pledge_event(client, portone_on)
    response = client.post("/webhooks/portone", data=json.dumps(message["event"]),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and count(Payment) == 0


def test_the_same_delivery_twice_is_processed_once(app, portone_on, client, session):
    kp, message = paid_pledge_event(client, portone_on)

    first = deliver(client, message)
    assert first.status_code == 200 and first.get_json()["outcome"] == "queued"  # PortOne has its answer at once
    assert db.session.scalar(select(ProviderEvent.outcome)) == "payment_recorded"  # the job ran after the commit
    second = deliver(client, message)

    assert second.status_code == 200 and second.get_json()["outcome"] == "duplicate"
    assert count(Payment) == 1 and count(ProviderEvent) == 1
    assert kp.row().paid == 60_000


def test_deliveries_out_of_order_converge(app, portone_on, client, session):
    need = f.need(target=300_000)
    kp = kr_pledge(client, need, 80_000, method="virtual_account")
    portone_on.open_window(kp.payment_id, amount=80_000, method="virtual_account")
    from .fake_portone import expiry
    issued = portone_on.issue_virtual_account(kp.payment_id, expires_at=expiry())
    paid = portone_on.deposit(kp.payment_id)

    # The deposit's webhook comes first; the older 'issued' one after it.
    assert handled(client, paid) == "payment_recorded"
    assert handled(client, issued) == "payment_already_recorded"

    pledge = kp.row()
    assert (pledge.status, pledge.paid, pledge.held) == (PledgeStatus.PAID, 80_000, 0)
    assert count(Payment) == 1 and reconcile() == []


def test_portone_answering_500_fails_the_job_and_its_retry_processes_the_recorded_delivery(app, portone_on, client,
                                                                                           session):
    kp, message = paid_pledge_event(client, portone_on)
    portone_on.fail_next = 500

    first = deliver(client, message)

    assert first.status_code == 200 and first.get_json()["outcome"] == "queued"  # PortOne has its answer at once
    event = db.session.scalars(select(ProviderEvent)).one()
    assert event.processed_at is None and count(Payment) == 0  # recorded; its job failed, to be retried
    redelivered = deliver(client, message)  # PortOne's own retry asks for nothing more
    assert redelivered.status_code == 200 and redelivered.get_json()["outcome"] == "duplicate"
    assert count(Payment) == 0
    with app.test_request_context("/"):  # the queue retries the failed job with backoff: here, at once
        jobs.perform("portone.event", {"event_row": event.id})
    db.session.refresh(event)
    assert event.processed_at is not None and event.pledge_id == kp.pledge_id and count(Payment) == 1
    assert event.outcome == "payment_recorded" and kp.row().paid == 60_000
    with app.test_request_context("/"):  # a second run of the same job is a no-op
        jobs.perform("portone.event", {"event_row": event.id})
    assert count(Payment) == 1


def test_events_it_does_not_handle_are_answered_and_ignored(app, portone_on, client, session):
    kp, message = paid_pledge_event(client, portone_on)
    message["event"]["type"] = "BillingKey.Issued"
    response = deliver(client, message)
    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored"
    assert count(ProviderEvent) == 0


def test_the_door_is_closed_without_portone(app, client, session):
    response = client.post("/webhooks/portone", data=b"{}", headers={"webhook-id": "x"})
    assert response.status_code == 404 and count(ProviderEvent) == 0
