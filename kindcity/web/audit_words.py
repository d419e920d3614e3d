"""The audit log in the reader's words: what each action and each kind of record is called, and the
before/after values as lines a person reads (Hangul as Hangul, never ``\\ud640`` escapes)."""
from __future__ import annotations

import json
from typing import Any

from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "need.create": _l("Need created"), "need.update": _l("Need edited"), "need.submit": _l("Submitted for approval"),
    "need.approve": _l("Approved and published"), "need.return": _l("Sent back to draft"),
    "need.cancel": _l("Cancelled"), "need.expire": _l("Closed at the deadline"), "need.fund": _l("Fully funded"),
    "need.unfund": _l("No longer fully funded"), "need.start_delivery": _l("Delivery started"),
    "need.complete": _l("Completed"),
    "impact.start": _l("Impact report started"), "impact.update": _l("Impact report edited"),
    "impact.submit": _l("Impact report submitted for approval"), "impact.approve": _l("Impact report published"),
    "impact.return": _l("Impact report sent back"), "impact.disburse": _l("Spending recorded"),
    "impact.leftovers": _l("Money left over handled"), "impact.photo_add": _l("Photo added"),
    "impact.photo_remove": _l("Photo removed"),
    "pledge.create": _l("Pledge made"), "pledge.cancel": _l("Pledge cancelled"),
    "pledge.expire": _l("Reservation expired"), "pledge.move": _l("Money moved to another need"),
    "pledge.pool": _l("Money moved to the pooled fund"), "pledge.checkout": _l("Card payment page opened"),
    "pledge.end": _l("Pledge ended"), "pledge.flag": _l("Pledge flagged"),
    "pledge.hold_extended": _l("Reservation extended"), "pledge.kr_mismatch_cancelled":
        _l("Payment with the wrong amount cancelled"), "pledge.kr_window": _l("Payment window opened"),
    "pledge.method": _l("Payment method changed"), "pledge.pause": _l("Recurring pledge paused"),
    "pledge.unplaced": _l("Money without a need"), "pledge.unplaced.similar": _l("Donor chose a similar need"),
    "pledge.unplaced.pool": _l("Donor chose the district pool"), "pledge.unplaced.refund": _l("Donor chose a refund"),
    "fund.unplaced": _l("Pooled money without a need"),
    "offer.match": _l("Match offer used"), "matching.run": _l("Matching engine run"),
    "matching.approve": _l("Matching plan approved"), "matching.settings": _l("Matching settings changed"),
    "refund.record": _l("Refund recorded"), "refund.account": _l("Refund account given"),
    "refund.sent": _l("Refund sent"), "refund.complete": _l("Refund completed"), "refund.failed": _l("Refund failed"),
    "statement.commit": _l("Bank statement applied"), "statement.discard": _l("Bank statement discarded"),
    "statement.match": _l("Deposit matched by hand"),
    "series.create": _l("Recurring pledge started"), "series.instalment": _l("Instalment made"),
    "series.stop": _l("Recurring pledge stopped"), "series.billing_key": _l("Card for recurring gifts saved"),
    "user.register": _l("Account registered"), "user.create": _l("Account created"),
    "user.role": _l("Role changed"), "user.password_change": _l("Password changed"),
    "user.money_staff": _l("Bank-account permission changed"),
    "organisation.verify": _l("Organisation verification changed"),
    "receiving_org.save": _l("Receiving organisation saved"),
    "categories.save": _l("Category saved"), "dongs.save": _l("Dong saved"),
    "referral.receive": _l("Referral received"), "referral.take_up": _l("Referral taken up"),
    "referral.close": _l("Referral closed"), "referral.reopen": _l("Referral reopened"),
    "referral.purge": _l("Referral details erased after the retention period"),
    "text.receive": _l("Text message received"), "text.urgent": _l("Text message marked urgent"),
    "text.reply": _l("Text message answered"), "text.assign": _l("Text case passed to a welfare centre"),
    "text.refer": _l("Text case turned into a referral"), "text.not_for_site": _l("Text case sent elsewhere"),
    "text.close": _l("Text case closed"), "text.reopen": _l("Text case reopened"),
    "text.purge": _l("Text case erased after the retention period"),
    "contact.channel": _l("Contact preference changed"), "contact.code_asked": _l("Phone code sent"),
    "contact.phone_verified": _l("Phone number confirmed"), "contact.phone_removed": _l("Phone number removed"),
    "tax.address": _l("Receipt address changed"), "tax.nts_export": _l("Year-end file exported"),
    "tax.reporting_consent": _l("Year-end reporting asked for"),
    "tax.reporting_withdrawn": _l("Year-end reporting withdrawn"),
    "tax.rrn_erased": _l("Resident registration number erased"),
    "tax.rrn_key_rotated": _l("Encryption key rotated"),
    "reconcile.disagreement": _l("The money did not reconcile"), "job.retry": _l("Failed job retried"),
}

ENTITY_LABELS = {
    "need": _l("Need"), "pledge": _l("Pledge"), "referral": _l("Referral"), "text_case": _l("Text-message case"),
    "user": _l("Account"), "organisation": _l("Organisation"), "refund": _l("Refund"),
    "statement": _l("Bank statement"), "series": _l("Recurring pledge"), "receiving_org": _l("Receiving organisation"),
    "categories": _l("Category"), "dongs": _l("Dong"), "job": _l("Job"), "offer": _l("Match offer"),
    "fund": _l("Pooled fund"), "matching": _l("Matching"),
}


def action_label(action: str) -> str:
    """The action in the reader's words; an action this table does not know is shown by its code, once."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def entity_label(entity: str) -> str:
    label = ENTITY_LABELS.get(entity)
    return str(label) if label is not None else entity


# The fields entries record most, in words; a field not named here is shown by its key.
FIELD_LABELS = {
    "status": _l("Status"), "report": _l("Report"), "amount": _l("Amount"), "reason": _l("Reason"),
    "role": _l("Role"), "method": _l("Payment method"), "centre": _l("Welfare centre"), "target": _l("Target"),
    "name_ko": _l("Name in Korean"), "name_en": _l("Name in English"), "code": _l("Code"),
    "confirmed": _l("Paid"), "placed": _l("Placed"), "released": _l("Released"), "dong": _l("Dong"),
    "outcome": _l("Outcome"), "money_staff": _l("Handles the district's bank account"),
}
# Status codes as the site shows them elsewhere (templates/macros.html, status_label and pledge_status).
STATUS_LABELS = {
    "draft": _l("Draft"), "awaiting_approval": _l("Awaiting approval"), "open": _l("Open"), "funded": _l("Funded"),
    "delivering": _l("Being delivered"), "completed": _l("Completed"), "cancelled": _l("Cancelled"),
    "expired": _l("Closed (deadline passed)"), "published": _l("Published"),
    "awaiting_payment": _l("Awaiting transfer"), "partly_paid": _l("Partly paid"), "paid": _l("Paid"),
    "closed": _l("Closed (need ended)"),
}
MONEY_FIELDS = {"amount", "target", "confirmed", "placed", "released"}


def readable_value(value: Any, field: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, int):
        if field in MONEY_FIELDS:
            from ..i18n import format_won
            return format_won(value)
        return f"{value:,}"
    if isinstance(value, str):
        label = STATUS_LABELS.get(value) if field in ("status", "report") else None
        return str(label) if label is not None else value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def readable(values: dict[str, Any] | None) -> list[tuple[str, str]]:
    """``before`` or ``after`` as (field, value) lines, in the order they were written."""
    if not values:
        return []
    if not isinstance(values, dict):
        return [("", readable_value(values))]
    return [(str(FIELD_LABELS.get(str(key), key)), readable_value(value, str(key))) for key, value in values.items()]
