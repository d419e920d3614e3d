"""What donors hear when something happens to a need they gave to: it closed without being met
(cancelled by staff, or its deadline passed), or its impact report was published.

The services remember the need as it happens (:func:`remember`, kindcity/services/after_commit.py);
after the commit the mail (kindcity/web/donor_mail.py) reads them afresh here: after a rollback the list
may name needs that did not change after all, and they then say nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..domain.needs import NeedStatus
from ..extensions import db
from ..models import Need, Pledge, User
from . import after_commit

_NOTICES = "donor_notices"
CLOSED, IMPACT = "closed", "impact"


def remember(kind: str, need_id: int) -> None:
    after_commit.remember(_NOTICES, (kind, need_id))


def take() -> list[tuple[str, int]]:
    """The remembered needs, forgotten as they are handed over."""
    return after_commit.take(_NOTICES)


@dataclass(frozen=True)
class PledgeLine:
    reference: str
    amount: int
    paid: int
    on_cancel: str


@dataclass
class DonorNotice:
    kind: str
    email: str
    name: str
    need_id: int
    need_title: str
    need_status: str
    pledges: list[PledgeLine] = field(default_factory=list)


def notices_for(kind: str, need_id: int) -> list[DonorNotice]:
    """One notice per donor of the need's direct pledges: every pledge when it closed unmet (the unpaid
    ones must not be paid now), the paid ones when its impact was published. Nothing when the need is
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
    notices: dict[int, DonorNotice] = {}
    for row in db.session.execute(query):
        notice = notices.setdefault(row.id, DonorNotice(kind, row.email, row.display_name, need.id, need.title,
                                                        need.status))
        notice.pledges.append(PledgeLine(row.reference, row.amount, row.paid, row.on_cancel))
    return list(notices.values())
