"""The user's words for every refusal, in one table keyed by the error's stable code.

Every :class:`~kindcity.domain.errors.DomainError` (rules, services, uploads, statements) has a
``code``; :func:`message_for` finds its words here and fills them with the error's ``details``
(amounts in won get thousands separators, days are written in the reader's language). The few
refusals that need more than a fill have a small function beside the table: a statement's row and
column, the parts missing from an impact report, the personal-data guard's findings.
tests/unit/test_messages.py checks that every code raised has words here, in Korean too.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from ..domain.needs import NeedRuleError
from ..domain.statements import StatementError
from ..i18n import format_day

MESSAGES = {
    # --- accounts, referrals, texts, contact, organisations, needs, pledges ---------------------
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
    # --- impact: reports, spending, leftovers, photos --------------------------------------------
    "report_transition_not_allowed": _l("This step is not possible in the report's current state."),
    "report_self_approval": _l("A report must be approved by a colleague, not by the person who submitted it."),
    "report_incomplete": _l("The report is not complete yet. Missing: %(missing)s."),
    "units_planned_invalid": _l("The planned number of units must be between 1 and 1,000,000."),
    "units_delivered_invalid": _l("Units delivered must be between 0 and 1,000,000."),
    "beneficiaries_invalid": _l("People reached must be between 0 and 1,000,000."),
    "dates_reversed": _l("The delivery cannot end before it starts."),
    "dates_in_future": _l("Delivery dates cannot be in the future."),
    "story_too_long": _l("The story is too long (at most %(maximum)s characters)."),
    "money_not_settled": _l("%(held)s won is still held on this need. Record what was spent and return the rest "
                            "to the donors before reporting."),
    "disbursement_not_positive": _l("The amount spent must be more than 0 won."),
    "disbursement_exceeds_held": _l("Only %(available)s won is still held on this need."),
    "disbursement_in_future": _l("The date of spending cannot be in the future."),
    "disbursement_too_early": _l("The date of spending cannot be before the need was posted (%(earliest)s)."),
    "leftover_unattributed": _l("Part of the money on this need came from no pledge; please ask an administrator."),
    "leftover_invalid": _l("The leftover amount is not valid."),
    "need_not_delivering": _l("This need is not being delivered."),
    "report_locked": _l("The report has been submitted; send it back to draft to change it."),
    "no_report": _l("Delivery has not started for this need."),
    "nothing_spent": _l("Record what was spent first: leftovers are returned after the spending, not before."),
    "no_leftover": _l("Nothing is left to return: every won placed on this need has been spent."),
    "report_due_in_past": _l("The report date must be today or later."),
    "description_required": _l("Please say what the money paid for."),
    "description_too_long": _l("Please keep the description under %(maximum)s characters."),
    "consent_required": _l("Please confirm that the people shown agreed to the photo being published."),
    "caption_required": _l("Please describe the photo for people who cannot see it."),
    "caption_too_long": _l("Please keep the description under %(maximum)s characters."),
    "photo_empty": _l("The file is empty. Please choose a photo."),
    "photo_too_large": _l("The photo is too large: at most %(maximum)s MB."),
    "photo_too_many_pixels": _l("The photo has too many pixels: at most %(maximum)s megapixels."),
    "photo_not_an_image": _l("This file is not an image. Please upload a JPEG, PNG or WebP photo."),
    "photo_type_mismatch": _l("This file is named like an image (.%(extension)s) but its content is not an image. "
                              "Please upload a real JPEG, PNG or WebP photo."),
    "photo_type_not_allowed": _l("This is a %(found)s image; only JPEG, PNG or WebP photos are accepted."),
    "photo_damaged": _l("The image could not be read; it may be damaged. Please save it again and retry."),
    # --- card checkout ---------------------------------------------------------------------------
    "not_card_pledge": _l("This pledge is paid by bank transfer, not by card."),
    "checkout_closed": _l("This pledge can no longer be paid by card."),
    "hold_expired": _l("The reservation for this pledge has ended. Please pledge again."),
    "payment_confirming": _l("Your card payment is being confirmed. This page will show it shortly."),
    # --- the Korean payment service (PortOne) and recurring card billing (정기결제) ----------------
    "not_kr_pledge": _l("This pledge is not paid through the Korean payment service."),
    "kr_method_unavailable": _l("This payment method is not available on this site. Please choose another."),
    "kr_checkout_closed": _l("This pledge can no longer be paid this way."),
    "virtual_account_issued": _l("A virtual account has already been issued for this pledge. Please deposit "
                                 "into it, as shown on the pledge page."),
    "refund_account_invalid": _l("Please choose a bank, and enter the account number (digits only) and the "
                                 "account holder's name."),
    "not_billing_series": _l("This pledge is not a recurring pledge paid by Korean card."),
    "billing_key_invalid": _l("The card could not be registered. Please try again."),
    "billing_key_exists": _l("A card is already registered for this recurring pledge."),
    # --- pooled giving, match offers, recurring pledges -------------------------------------------
    "criteria_unknown": _l("Please choose categories, dongs and groups from the lists."),
    "cap_invalid": _l("A cap per need is at least 1,000 won, or between 1 and 100 percent."),
    "cap_one_kind": _l("Give the cap per need in won or in percent, not both."),
    "ends_in_past": _l("The end date must be today or later."),
    "on_end_invalid": _l("Please choose what happens to money that is not placed."),
    "ratio_invalid": _l("The ratio must be between 1 won for every 100 won and 10 won for every won."),
    "period_invalid": _l("The last day must not be before the first day."),
    "pledge_ended": _l("This pledge has ended."),
    "run_not_pending": _l("This proposal is no longer waiting for approval."),
    "repeat_invalid": _l("Please choose once, every month or every quarter."),
    "series_ends_before_second": _l("With this last day there would be no second instalment (it is due on "
                                    "%(second)s). Choose a later last day, or give once."),
    "card_unavailable": _l("Card payment is not available on this site. Please choose bank transfer."),
    "kr_not_recurring": _l("A recurring pledge through the Korean payment service is paid by Korean card, which you "
                           "authorise once (정기결제), where this site offers it. Easy pay and virtual account are "
                           "for a single gift."),
    # --- bank statements (a row and column fill most of them: statement_error_message) ---------
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
    "statement_date_in_future": _l("Row %(row)s, column \"%(column)s\": %(value)s is after today. Please check the file."),
    "statement_date_too_early": _l("Row %(row)s, column \"%(column)s\": %(value)s is before 1 January 2000. Please check the "
                         "file."),
    "already_applied": _l("This statement has already been applied, so it cannot be discarded."),
    # --- a donor's statement period --------------------------------------------------------------
    "period_not_a_date": _l("Please give the days as dates, for example 2026-01-31."),
    "period_start_after_end": _l("The first day must not be after the last day."),
    "period_too_long": _l("A statement covers at most ten years. Please choose a shorter period."),
    "period_too_early": _l("A statement can start on 1 January 2000 at the earliest."),
    "period_too_late": _l("A statement can end on 31 December of this year at the latest."),
    # --- an amount of won as typed (kindcity/domain/money.py) -----------------------------------
    "not_one_number": _l("Please enter one amount only, for example 150,000."),
    "not_a_number": _l("Please enter a whole number of won, for example 150,000."),
    "fraction": _l("Please enter a whole number of won, for example 150,000."),
    "float": _l("Please enter a whole number of won, for example 150,000."),
    "negative": _l("The amount must not be negative."),
    "too_large": _l("The amount is too large."),
}

SOMETHING_WENT_WRONG = _l("Something went wrong. Please try again.")

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

IMPACT_FIELD_LABELS = {
    "story": _l("Story"),
    "caption": _l("Photo description"),
    "description": _l("What it paid for"),
}

COLUMN_LABELS = {
    "date": _l("transaction date"), "amount": _l("deposit amount"), "memo": _l("depositor or memo"),
    "balance": _l("balance"), "withdrawal": _l("withdrawal amount"), "transaction_id": _l("transaction number"),
}

MISSING_PARTS = {
    "units_delivered": _l("units delivered"),
    "beneficiaries_reached": _l("people reached"),
    "dates": _l("delivery dates"),
    "story": _l("story"),
}

WON_DETAILS = ("gap", "minimum", "expected", "available", "largest", "held")


def message_for(error: Exception) -> str:
    """The user's words for ``error``: its code's message, filled with its details."""
    if isinstance(error, StatementError):
        return statement_error_message(error)
    code = getattr(error, "code", "")
    text = MESSAGES.get(code)
    if text is None:
        return str(SOMETHING_WENT_WRONG)
    if isinstance(error, NeedRuleError):
        return str(text)  # the lifecycle's details (status, action, deadline) are for logs, not words
    details = dict(getattr(error, "details", {}) or {})
    if "missing" in details:
        details["missing"] = ", ".join(str(MISSING_PARTS.get(part, part)) for part in details["missing"])
    details = {key: format_day(value) if isinstance(value, date) else value for key, value in details.items()}
    return fill(text, details, WON_DETAILS)


def statement_error_message(error: StatementError) -> str:
    """A statement that cannot be read, with the row and column (in words) where it failed."""
    text = MESSAGES.get(error.code) or MESSAGES["encoding"]
    return str(text) % {"row": error.row, "column": str(COLUMN_LABELS.get(error.column, error.column or "")),
                        "value": (error.value or "")[:40]}


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


def impact_personal_data_messages(findings) -> list[str]:
    """The guard's findings in an impact report, a spending line or a photo description."""
    return personal_data_messages(findings, IMPACT_FIELD_LABELS)
