"""Words for the impact capability's refusal codes (reports, spending, leftovers, photos)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .messages import fill, message_for, personal_data_messages

IMPACT_MESSAGES = {
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
}

MISSING_PARTS = {
    "units_delivered": _l("units delivered"),
    "beneficiaries_reached": _l("people reached"),
    "dates": _l("delivery dates"),
    "story": _l("story"),
}

TEXT_FIELDS = {
    "story": _l("Story"),
    "caption": _l("Photo description"),
    "description": _l("What it paid for"),
}

WON_DETAILS = ("held", "available")


def impact_message(error: Exception) -> str:
    code = getattr(error, "code", "")
    text = IMPACT_MESSAGES.get(code)
    if text is None:
        return message_for(error)
    details = dict(getattr(error, "details", {}) or {})
    if "missing" in details:
        details["missing"] = ", ".join(str(MISSING_PARTS.get(part, part)) for part in details["missing"])
    return fill(text, details, WON_DETAILS)


def impact_personal_data_messages(findings) -> list[str]:
    return personal_data_messages(findings, TEXT_FIELDS)
