"""Mail to donors about a need they gave to: it closed without being met (cancelled, or its deadline
passed) and where each pledge's money goes; or its impact report is published, with a link to it. In
Korean, the site's first language (the site keeps no language per donor). A job asked for by the
services in the transaction that changes the need (kindcity/services/notices.py); it reads the need
afresh, and each donor's message is keyed by the need and the donor, so it goes once."""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from ..domain.needs import NeedStatus
from ..i18n import addressee, format_won
from ..jobs import job
from ..services import notices
from ..web.links import site_url
from ..services.contact import notify
from ..services.reference import district_brand

DONOR_LOCALE = "ko"


@job(notices.JOB)
def send_donor_notices(kind: str, need_id: int) -> int:
    """Ask for one notice per donor of the need, by mail or text as each chose; returns how many."""
    sent = 0
    for notice in notices.notices_for(kind, need_id):
        with force_locale(DONOR_LOCALE):
            subject, body = (_closed if kind == notices.CLOSED else _impact)(notice)
            text = (_closed_text if kind == notices.CLOSED else _impact_text)(notice)
        notify(notice.user_id, notice.email, key=f"need-{kind}:{need_id}:{notice.user_id}", subject=subject,
               body=body, text=text, notice=f"need-{kind}", variables={"title": notice.need_title})
        sent += 1
    return sent


def _closed_text(notice: notices.DonorNotice) -> str:
    return _("[%(brand)s] \"%(title)s\" that you supported will not go ahead. What happens to your gift: %(url)s",
             brand=district_brand(), title=notice.need_title, url=site_url("donor.dashboard"))


def _impact_text(notice: notices.DonorNotice) -> str:
    return _("[%(brand)s] What your gift to \"%(title)s\" did is now published: %(url)s",
             brand=district_brand(), title=notice.need_title, url=site_url("public.need_impact", need_id=notice.need_id))


def _pledge_line(line: notices.PledgeLine) -> str:
    if not line.paid:
        return _("Pledge %(reference)s (%(amount)s) was not paid yet: it is cancelled. Please do not transfer "
                 "money for it.", reference=line.reference, amount=format_won(line.amount))
    values = {"reference": line.reference, "paid": format_won(line.paid)}
    if line.on_cancel == "pool":
        return _("Pledge %(reference)s: the %(paid)s you gave goes to the district's pooled fund for other needs, "
                 "as you chose.", **values)
    if line.on_cancel == "similar":
        return _("Pledge %(reference)s: staff will move the %(paid)s you gave to a similar need, as you chose.",
                 **values)
    return _("Pledge %(reference)s: the %(paid)s you gave is refunded to you, as you chose.", **values)


def _closed(notice: notices.DonorNotice) -> tuple[str, str]:
    if notice.need_status != NeedStatus.CANCELLED:
        why = _("Its deadline passed before it was fully funded.")
    elif notice.cancel_reason:
        why = _("It was cancelled. The reason: %(reason)s", reason=notice.cancel_reason)
    else:
        why = _("It was cancelled.")
    subject = _("\"%(title)s\" will not go ahead: what happens to your gift", title=notice.need_title)
    body = "\n\n".join([
        _("Hello %(name)s,", name=addressee(notice.name)),
        _("The need \"%(title)s\" that you supported will not go ahead. %(why)s", title=notice.need_title, why=why),
        *[_pledge_line(line) for line in notice.pledges],
        _("Every won is in your giving page: %(url)s", url=site_url("donor.dashboard")),
    ])
    return subject, body


def _impact(notice: notices.DonorNotice) -> tuple[str, str]:
    subject = _("What your gift did: \"%(title)s\"", title=notice.need_title)
    body = "\n\n".join([
        _("Hello %(name)s,", name=addressee(notice.name)),
        _("The help you gave to \"%(title)s\" has been delivered, and the district has published what it "
          "achieved, with every won spent:", title=notice.need_title),
        site_url("public.need_impact", need_id=notice.need_id),
        _("Thank you."),
    ])
    return subject, body
