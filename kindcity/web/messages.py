"""Words for the stable error codes that services raise, in the user's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..domain.needs import NeedRuleError

MESSAGES = {
    "email_invalid": _l("Please enter a valid e-mail address."),
    "email_taken": _l("An account with this e-mail address already exists."),
    "password_too_short": _l("The password must be at least %(minimum)s characters long."),
    "password_is_email": _l("The password must not be your e-mail address."),
    "login_failed": _l("The e-mail address or password is not correct."),
    "login_rate_limited": _l("Too many failed attempts. Please wait %(minutes)s minutes and try again."),
    "current_password_wrong": _l("Your current password is not correct."),
    "organisation_kind_invalid": _l("Please choose the kind of organisation."),
    "business_number_invalid": _l("This business registration number is not valid (check the 10 digits)."),
    "business_number_taken": _l("An organisation with this business registration number is already registered."),
    "business_number_required": _l("Businesses and good shops need a business registration number."),
    "role_invalid": _l("Unknown role."),
    "centre_required": _l("Staff members must belong to a welfare centre."),
    "centre_unknown": _l("Unknown welfare centre."),
    "cannot_demote_self": _l("You cannot remove your own administrator rights."),
    "title_summary_required": _l("A title and a summary are required."),
    "deadline_in_past": _l("The deadline must be today or later."),
    "beneficiary_count_invalid": _l("The number of beneficiaries must be at least 1."),
    "reference_unknown": _l("Please choose a category, dong and beneficiary group from the lists."),
    "unit_pricing_incomplete": _l("For unit pricing, give the unit name, the cost per unit and the number of units."),
    "target_not_units_product": _l("The target must equal cost per unit x units (%(expected)s won)."),
    "target_required": _l("Please give the target amount, or unit pricing."),
    "target_too_small": _l("The target must be at least %(minimum)s won."),
    "transition_not_allowed": _l("This step is not possible in the need's current state."),
    "self_approval": _l("A need must be approved by a colleague, not by the person who wrote it."),
    "reason_required": _l("Please give a reason for the cancellation."),
    "deadline_passed": _l("The deadline has already passed."),
    "not_yet_due": _l("The deadline has not passed yet."),
    "not_found": _l("Not found."),
    "forbidden": _l("You do not have access to this."),
}

PERSONAL_DATA_KINDS = {
    "rrn": _l("resident registration number"),
    "phone": _l("phone number"),
    "email": _l("e-mail address"),
    "bank_account": _l("bank account number"),
    "address": _l("detailed address"),
}

FIELD_LABELS = {
    "title": _l("Title"),
    "summary": _l("Summary"),
    "description": _l("Description"),
    "message": _l("Public message"),
    "story": _l("Story"),
}


def message_for(error: Exception) -> str:
    code = getattr(error, "code", "")
    details = dict(getattr(error, "details", {}) or {})
    text = MESSAGES.get(code)
    if text is None:
        return str(_l("Something went wrong. Please try again."))
    if isinstance(error, NeedRuleError):
        details = {}
    try:
        return str(text) % details if details else str(text)
    except (KeyError, TypeError, ValueError):
        return str(text)


def personal_data_messages(findings) -> list[str]:
    return [
        str(_l("%(field)s: possible %(kind)s \"%(masked)s\". Remove it before publishing.",
               field=FIELD_LABELS.get(f.field, f.field), kind=PERSONAL_DATA_KINDS.get(f.finding.kind, f.finding.kind),
               masked=f.finding.masked))
        for f in findings
    ]
