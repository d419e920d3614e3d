"""Words for the stable error codes that services raise, in the user's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..domain.needs import NeedRuleError

MESSAGES = {
    "email_invalid": _l("Please enter a valid e-mail address."),
    "email_taken": _l("An account with this e-mail address already exists."),
    "email_unconfirmed": _l("Please confirm your e-mail address first: we have sent a new link to %(email)s. "
                            "Open it, then log in."),
    "confirm_link_expired": _l("This link has expired. Log in with your e-mail address and password, and we will "
                               "send you a new one."),
    "confirm_link_invalid": _l("This link does not work. Please check that the whole link was copied, or log in "
                               "and we will send you a new one."),
    "confirm_link_used": _l("Your e-mail address is already confirmed. Please log in."),
    "password_too_short": _l("The password must be at least %(minimum)s characters long."),
    "password_is_email": _l("The password must not be your e-mail address."),
    "login_failed": _l("The e-mail address or password is not correct."),
    "login_rate_limited": _l("Too many failed attempts. Please wait %(minutes)s minutes and try again."),
    "current_password_wrong": _l("Your current password is not correct."),
    "referral_situation_too_short": _l("Please tell us a little more: at least %(minimum)s characters."),
    "referral_situation_too_long": _l("Please keep it to %(maximum)s characters; staff will ask for more."),
    "referral_urgency_invalid": _l("Please choose how urgent it is."),
    "referral_contact_too_long": _l("Please keep your contact details to %(maximum)s characters."),
    "referral_consent_required": _l("Please agree to how we use this information, or we cannot take it."),
    "referral_dong_unknown": _l("Please choose the dong where the person lives."),
    "referral_rate_limited": _l("Too many referrals were sent from here. Please wait %(minutes)s minutes, or call "
                                "your dong welfare centre."),
    "referral_no_centre": _l("No welfare centre is set up to receive referrals yet. Please call the district "
                             "office."),
    "referral_transition_not_allowed": _l("This referral cannot be changed that way in its present state."),
    "referral_outcome_required": _l("Please choose the outcome before closing the referral."),
    "referral_action_unknown": _l("This action is not known."),
    "referral_purged": _l("This referral's details have been erased after the retention period."),
    "referral_note_empty": _l("Please write the note."),
    "referral_note_too_long": _l("Please keep the note to %(maximum)s characters."),
    "text_phone_invalid": _l("This is not a Korean phone number."),
    "text_step_not_allowed": _l("This case cannot be changed that way in its present state."),
    "text_action_unknown": _l("This action is not known."),
    "text_case_purged": _l("This case's number and texts have been erased after the retention period."),
    "text_reply_empty": _l("Please write the answer."),
    "text_reply_too_long": _l("Please keep the answer to 1,000 characters (one long text)."),
    "text_where_required": _l("Please say where the resident should go: the office and its phone number."),
    "text_where_too_long": _l("Please keep it to 300 characters."),
    "text_dong_unknown": _l("Please choose the dong."),
    "contact_phone_not_mobile": _l("Please give a mobile number (010-…): only mobiles get texts."),
    "contact_codes_rate_limited": _l("Too many codes were asked for. Please wait an hour and try again."),
    "contact_channel_unknown": _l("Please choose how we contact you."),
    "contact_phone_not_verified": _l("Please verify your mobile number first: we text you a code."),
    "contact_code_none": _l("Please ask for a code first."),
    "contact_code_locked": _l("Too many wrong tries. Please ask for a new code."),
    "contact_code_expired": _l("The code has expired. Please ask for a new one."),
    "contact_code_wrong": _l("The code is not right. Please check the text and try again."),
    "reset_rate_limited": _l("Too many reset links were asked for. Please wait %(minutes)s minutes and try again."),
    "reset_link_expired": _l("This link has expired. Please ask for a new one."),
    "reset_link_invalid": _l("This link does not work any more: it was already used, or the password was changed "
                             "since it was sent. Please ask for a new one."),
    "organisation_kind_invalid": _l("Please choose the kind of organisation."),
    "business_number_invalid": _l("This business registration number is not valid (check the 10 digits)."),
    "business_number_taken": _l("An organisation with this business registration number is already registered."),
    "business_number_required": _l("Businesses and good shops need a business registration number."),
    "role_invalid": _l("Unknown role."),
    "centre_required": _l("Staff members must belong to a welfare centre."),
    "centre_unknown": _l("Unknown welfare centre."),
    "cannot_demote_self": _l("You cannot remove your own administrator rights."),
    "money_staff_needs_staff": _l("Only staff and administrators can handle the district's bank account."),
    "title_summary_required": _l("A title and a summary are required."),
    "deadline_in_past": _l("The deadline must be today or later."),
    "beneficiary_count_invalid": _l("The number of beneficiaries must be at least 1."),
    "reference_unknown": _l("Please choose a category, dong and beneficiary group from the lists."),
    "reporting_consent_required": _l("Please agree to the collection of your resident registration number, or "
                                     "leave this form: your receipts stay statements of giving."),
    "reporting_unavailable": _l("This site cannot report gifts to the National Tax Service yet."),
    "rrn_shape": _l("A resident registration number has 13 digits, like 900101-1234567."),
    "rrn_birth_date": _l("This is not a valid resident registration number (check the date of birth)."),
    "receiving_org_unknown": _l("Please choose the receiving organisation from the list."),
    "organisation_incomplete": _l("Please give the organisation's name, address and representative."),
    "registration_number_invalid": _l("The registration number has ten digits, written like 123-45-67890."),
    "gift_type_unknown": _l("Please choose the legal type of gifts from the list."),
    "default_must_be_active": _l("The organisation for pooled money must stay active."),
    "default_needed": _l("Another organisation must become the one for pooled money first."),
    "seal_too_large": _l("The seal image is too large (at most 512 KB)."),
    "seal_not_png": _l("The seal must be a PNG image."),
    "organisation_code_taken": _l("An organisation with this code already exists."),
    "organisation_unknown": _l("This organisation does not exist."),
    "unit_pricing_incomplete": _l("For unit pricing, give the unit name, the cost per unit and the number of units."),
    "target_not_units_product": _l("The target must equal cost per unit x units (%(expected)s won)."),
    "target_required": _l("Please give the target amount, or unit pricing."),
    "target_too_small": _l("The target must be at least %(minimum)s won."),
    "target_too_large": _l("The target must be at most %(largest)s won: please check the cost per unit and the "
                           "number of units."),
    "transition_not_allowed": _l("This step is not possible in the need's current state."),
    "self_approval": _l("A need must be approved by a colleague, not by the person who wrote it."),
    "editor_approval": _l("You edited this need, so a colleague who did not must approve it."),
    "submitter_approval": _l("You submitted this need for approval, so another colleague must approve it."),
    "need_not_editable": _l("Only a draft can be edited. Send this need back to draft first; it must then be "
                            "submitted and approved again."),
    "reason_required": _l("Please give a reason for the cancellation."),
    "deadline_passed": _l("The deadline has already passed."),
    "not_yet_due": _l("The deadline has not passed yet."),
    "not_found": _l("Not found."),
    "need_not_open": _l("This need is not taking pledges any more."),
    "not_enough_left": _l("Not enough is left on this need: at most %(gap)s won can still be pledged."),
    "amount_required": _l("Please enter an amount."),
    "amount_too_small": _l("The smallest pledge is %(minimum)s won."),
    "units_not_priced": _l("This need is not priced in units; please enter an amount."),
    "units_invalid": _l("The number of units must be at least 1."),
    "no_organisation": _l("You do not give for an organisation, so it cannot be shown."),
    "method_invalid": _l("Please choose a payment method."),
    "pledge_not_cancellable": _l("This pledge can no longer be cancelled."),
    "pledge_has_payments": _l("Money has already arrived for this pledge; please contact the welfare office."),
    "pledge_transition_not_allowed": _l("This step is not possible in the pledge's current state."),
    "payment_not_positive": _l("The amount received must be more than 0 won."),
    "source_invalid": _l("Unknown payment source."),
    "not_enough_unplaced": _l("Only %(available)s won of this pledge is free to move."),
    "bank_reference_required": _l("Please give the bank reference of the refund."),
    "forbidden": _l("You do not have access to this."),
    "date_in_future": _l("The date cannot be later than today (%(latest)s)."),
    "date_too_early": _l("The date cannot be earlier than %(earliest)s, when the pledge was made."),
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
    "unit_name": _l("Unit"),
    "receiving_org": _l("Receiving organisation"),
    "cancel_reason": _l("Reason for cancelling"),
}


STATEMENT_ERRORS = {
    "encoding": _l("The file is neither UTF-8 nor CP949/EUC-KR text. Please export the statement as CSV again."),
    "header_not_found": _l("No header row with a date and a deposit amount column was found in the first 15 rows."),
    "column_missing": _l("Row %(row)s: the column \"%(column)s\" is missing (needed: date, deposit amount, depositor or memo)."),
    "bad_date": _l("Row %(row)s, column \"%(column)s\": \"%(value)s\" is not a date."),
    "bad_amount": _l("Row %(row)s, column \"%(column)s\": \"%(value)s\" is not a whole number of won."),
    "row_too_short": _l("Row %(row)s has too few cells: the column \"%(column)s\" is empty."),
    "too_many_rows": _l("The file has too many rows (at most 50,000); please split it."),
    "unknown_reference": _l("No pledge has the reference code \"%(value)s\"."),
    "cell_too_long": _l("Row %(row)s has a cell far longer than any bank statement's (over 131,072 characters). "
                        "Please export the statement from the bank again."),
    "unreadable_row": _l("Row %(row)s cannot be read as CSV. Please export the statement from the bank again."),
    "date_in_future": _l("Row %(row)s, column \"%(column)s\": %(value)s is after today. Please check the file."),
    "date_too_early": _l("Row %(row)s, column \"%(column)s\": %(value)s is before 1 January 2000. Please check the "
                         "file."),
    "already_applied": _l("This statement has already been applied, so it cannot be discarded."),
}

COLUMN_LABELS = {
    "date": _l("transaction date"), "amount": _l("deposit amount"), "memo": _l("depositor or memo"),
    "balance": _l("balance"), "withdrawal": _l("withdrawal amount"), "transaction_id": _l("transaction number"),
}


def statement_error_message(error) -> str:
    text = STATEMENT_ERRORS.get(error.code, STATEMENT_ERRORS["encoding"])
    return str(text) % {"row": error.row, "column": str(COLUMN_LABELS.get(error.column, error.column or "")),
                        "value": (error.value or "")[:40]}


WON_DETAILS = ("gap", "minimum", "expected", "available", "largest")


def message_for(error: Exception) -> str:
    code = getattr(error, "code", "")
    details = dict(getattr(error, "details", {}) or {})
    text = MESSAGES.get(code)
    if text is None:
        return str(_l("Something went wrong. Please try again."))
    if isinstance(error, NeedRuleError):
        details = {}
    return fill(text, details, WON_DETAILS)


def fill(text, details: dict, won_keys=WON_DETAILS) -> str:
    """A message with its details filled in; amounts in won get thousands separators. A message
    whose placeholders the details do not fit is shown as it is rather than failing."""
    for key in won_keys:
        if isinstance(details.get(key), int):
            details[key] = f"{details[key]:,}"
    try:
        return str(text) % details if details else str(text)
    except (KeyError, TypeError, ValueError):
        return str(text)


def personal_data_messages(findings, labels=FIELD_LABELS) -> list[str]:
    """One message per finding of the personal-data guard, naming the field by ``labels``. A finding
    that only the rendered page shows (``&#48;10-...``, ``010-**1234**-5678``) says so, since the
    typed text does not show it plainly."""
    lines = []
    for f in findings:
        template = (_l("%(field)s: possible %(kind)s \"%(masked)s\" as the page would show it. "
                       "Remove it before publishing.") if f.as_shown else
                    _l("%(field)s: possible %(kind)s \"%(masked)s\". Remove it before publishing."))
        lines.append(str(template % {"field": labels.get(f.field, f.field),
                                     "kind": PERSONAL_DATA_KINDS.get(f.finding.kind, f.finding.kind),
                                     "masked": f.finding.masked}))
    return lines
