"""What a request or a command does once its transaction is committed: the work the services
remembered (kindcity/services/after_commit.py), read afresh, so a rolled-back change asks for nothing.

- pledges it ended or left owing a refund are settled with the card provider (open checkout pages
  closed, card refunds sent) and with PortOne (open virtual accounts closed, refunds sent);
- donors of a need that closed unmet, or whose impact was published, are told by mail.
"""
from __future__ import annotations

from ..services import after_commit


def run_after_commit() -> None:
    """Do what the committed transactions left; cheap when nothing was remembered. Needs a request
    context (a command opens one on the site's address) for the links in mail."""
    if not after_commit.any_remembered():
        return
    from ..services import pledges as pledge_service
    from .donor_mail import send_donor_notices
    from .webhooks import settle_card_pledges
    from .webhooks_portone import settle_kr_pledges

    pledge_ids = pledge_service.pledges_to_settle()
    settle_card_pledges(pledge_ids)
    settle_kr_pledges(pledge_ids)
    send_donor_notices()
