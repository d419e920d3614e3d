"""What donors hear when something happens to a need they gave to: it closed without being met
(cancelled by staff, or its deadline passed), or its impact report was published.

The services ask for the mail as it happens (:func:`remember`: a job in the same transaction, so a
rolled-back change tells nobody); the job (kindcity/mail/donors.py) reads the need afresh here, and says
nothing if it is no longer in the state the notice is about.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..domain.needs import NeedStatus
from ..domain.pledges import PledgeStatus
from ..extensions import db
from ..models import Need, Pledge, User
from .. import jobs

JOB = "mail.donor_notices"
CLOSED, IMPACT = "closed", "impact"


def remember(kind: str, need_id: int) -> None:
    jobs.defer(JOB, kind=kind, need_id=need_id)


@dataclass(frozen=True)
class PledgeLine:
    reference: str
    amount: int
    paid: int
    on_cancel: str


@dataclass
class DonorNotice:
    kind: str
    user_id: int
    email: str
    name: str
    need_id: int
    need_title: str
    need_status: str
    pledges: list[PledgeLine] = field(default_factory=list)
    cancel_reason: str = ""  # the reason staff gave (public on the need's page too)


def notices_for(kind: str, need_id: int) -> list[DonorNotice]:
    """One notice per donor of the need's direct pledges: every pledge when it closed unmet (the unpaid
    ones must not be paid now), the paid ones when its impact was published, and then also every donor
    whose pooled pledge, match offer or money in the district's fund was placed on it. Nothing when the need is
    not (or no longer) in the state the notice is about."""
    need = db.session.get(Need, need_id)
    wanted = {CLOSED: (NeedStatus.CANCELLED, NeedStatus.EXPIRED), IMPACT: (NeedStatus.COMPLETED,)}[kind]
    if need is None or need.status not in wanted:
        return []
    query = (select(Pledge.reference, Pledge.amount, Pledge.paid, Pledge.on_cancel, User.id, User.email,
                    User.display_name)
             .join(User, User.id == Pledge.donor_id)
             .where(Pledge.need_id == need_id, Pledge.kind == "direct", User.active.is_(True))
             .order_by(User.id, Pledge.id))
    if kind == IMPACT:
        query = query.where(Pledge.paid > 0)
    else:  # a pledge the donor had cancelled before is over already: the mail does not bring it back up
        query = query.where(Pledge.status != PledgeStatus.CANCELLED)
    rows = list(db.session.execute(query))
    if kind == IMPACT:
        # Donors whose money reached the need another way hear too: a pooled pledge or a match offer
        # placed on it, or the district's fund passing their money on (placements name the pledge).
        from ..models import MatchAllocation
        rows += list(db.session.execute(
            select(Pledge.reference, Pledge.amount, Pledge.paid, Pledge.on_cancel, User.id, User.email,
                   User.display_name)
            .join(User, User.id == Pledge.donor_id)
            .where(Pledge.id.in_(select(MatchAllocation.pledge_id).where(MatchAllocation.need_id == need_id)),
                   User.active.is_(True))
            .order_by(User.id, Pledge.id)))
    notices: dict[int, DonorNotice] = {}
    for row in rows:
        notice = notices.setdefault(row.id, DonorNotice(kind, row.id, row.email, row.display_name, need.id, need.title,
                                                        need.status, cancel_reason=need.cancel_reason or ""))
        notice.pledges.append(PledgeLine(row.reference, row.amount, row.paid, row.on_cancel))
    return list(notices.values())
