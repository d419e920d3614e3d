"""Text messages (문자) with residents: the rules of the district's text line, without Flask or SQLAlchemy.

A resident texts the district's registered number; the text becomes a case (a thread per sender) in
the district office's text inbox. The sender's number is personal data: it is kept for the case, shown
in full only on the case's own page, masked everywhere else, and erased with the case's words after the
retention period, like a referral's.

Here: phone numbers (normalising, masking), the case lifecycle as a transition table with typed errors,
which words make a text urgent, the one automatic first answer per sender per Seoul day, the limit per
sender that keeps the first texts of an hour and only counts the rest, and the night-time rule for
advertising texts (none of the site's texts are advertising; the rule is here so that it is one place).
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from .errors import DomainError
from .time import SEOUL


class TextRuleError(DomainError):
    """Base of every refusal about texts. ``code`` is stable for tests and translation."""

    code = "text_rule"


# --- phone numbers -------------------------------------------------------------------------------

_MOBILE = re.compile(r"^01[016789]\d{7,8}$")
_ANY_KOREAN = re.compile(r"^0\d{8,10}$")


def normalise_phone(raw: str) -> str:
    """Digits only, in the domestic form (010…): '+82 10-1234-5678' and '010 1234 5678' are one number.
    Raises ``TextRuleError('text_phone_invalid')`` for anything that is not a Korean number."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    if digits.startswith("+82"):
        digits = "0" + digits[3:].lstrip("0")
    elif digits.startswith("82") and len(digits) >= 11:
        digits = "0" + digits[2:].lstrip("0")
    if not digits.isdigit() or not _ANY_KOREAN.match(digits):
        raise TextRuleError("text_phone_invalid")
    return digits


def is_mobile(number: str) -> bool:
    return bool(_MOBILE.match(number))


def mask_phone(number: str | None) -> str:
    """How a number shows in lists: the middle hidden, the last two digits kept so that staff can tell
    two senders apart on the phone ('010-****-**78'). An erased number shows as dashes."""
    if not number:
        return "—"
    head = number[:3] if number.startswith("01") else number[:2]
    return f"{head}-****-**{number[-2:]}"


# --- the case lifecycle --------------------------------------------------------------------------

class CaseStatus(StrEnum):
    NEW = "new"            # nobody has answered yet
    OPEN = "open"          # staff answered or took it to a centre; the resident may write again
    CLOSED = "closed"      # with an outcome


class CaseAction(StrEnum):
    REPLY = "reply"                    # a staff member answers by text
    ASSIGN = "assign"                  # passed to a dong's welfare centre
    REFER = "refer"                    # turned into a referral (사각지대 제보), the link kept
    NOT_FOR_SITE = "not_for_site"      # a pothole, a parking fine: the resident is told where to go
    CLOSE = "close"                    # answered; nothing more to do
    REOPEN = "reopen"


class CaseOutcome(StrEnum):
    ANSWERED = "answered"
    REFERRAL = "referral"
    NOT_FOR_SITE = "not_for_site"


S, A = CaseStatus, CaseAction

TRANSITIONS: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (S.NEW, A.REPLY): S.OPEN,
    (S.OPEN, A.REPLY): S.OPEN,
    (S.NEW, A.ASSIGN): S.OPEN,
    (S.OPEN, A.ASSIGN): S.OPEN,
    (S.NEW, A.REFER): S.CLOSED,
    (S.OPEN, A.REFER): S.CLOSED,
    (S.NEW, A.NOT_FOR_SITE): S.CLOSED,
    (S.OPEN, A.NOT_FOR_SITE): S.CLOSED,
    (S.NEW, A.CLOSE): S.CLOSED,
    (S.OPEN, A.CLOSE): S.CLOSED,
    (S.CLOSED, A.REOPEN): S.OPEN,
}

OUTCOME_OF = {A.REFER: CaseOutcome.REFERRAL, A.NOT_FOR_SITE: CaseOutcome.NOT_FOR_SITE, A.CLOSE: CaseOutcome.ANSWERED}
OPEN_STATUSES = frozenset({S.NEW, S.OPEN})


class CaseStepNotAllowed(TextRuleError):
    """``details``: ``status`` and ``action``."""

    code = "text_step_not_allowed"

    def __str__(self) -> str:
        return f"cannot {self.action} a text case that is {self.status}"


class CasePurged(TextRuleError):
    code = "text_case_purged"


def check_step(status: CaseStatus | str, action: str, *, purged: bool) -> CaseStatus:
    """The status after ``action``, or a typed refusal (unknown action, not now, case erased)."""
    try:
        action = CaseAction(action)
    except ValueError:
        raise TextRuleError("text_action_unknown") from None
    if purged:
        raise CasePurged()
    try:
        return TRANSITIONS[(CaseStatus(status), action)]
    except KeyError:
        raise CaseStepNotAllowed(status=CaseStatus(status), action=action) from None


def allowed_steps(status: CaseStatus | str, *, purged: bool) -> list[CaseAction]:
    if purged:
        return []
    status = CaseStatus(status)
    return [action for (start, action) in TRANSITIONS if start == status]


# --- what staff write ----------------------------------------------------------------------------

REPLY_MAX = 1000        # an LMS holds 2,000 bytes: 1,000 Korean characters
WHERE_MAX = 300


def check_reply(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise TextRuleError("text_reply_empty")
    if len(text) > REPLY_MAX:
        raise TextRuleError("text_reply_too_long")
    return text


def check_where(where: str) -> str:
    """'Not for this site' must say where to go, so that the resident is not left with a refusal."""
    text = (where or "").strip()
    if len(text) < 5:
        raise TextRuleError("text_where_required")
    if len(text) > WHERE_MAX:
        raise TextRuleError("text_where_too_long")
    return text


# --- urgency -------------------------------------------------------------------------------------

# Words that make a text urgent whatever else it says: danger to life, no heating or food, violence.
# Matched without spaces, so '죽 고 싶' and '죽고싶' are one.
DANGER_WORDS = (
    "긴급", "급해", "급합니다", "살려", "죽고싶", "죽을것", "자살", "목숨", "쓰러", "의식이없", "숨을안",
    "피가", "폭행", "때려", "학대", "굶", "밥을못", "난방", "보일러고장", "보일러가고장", "보일러가안", "얼어", "불이", "화재", "가스냄새",
    "urgent", "emergency", "help me",
)


def is_urgent(text: str) -> bool:
    squeezed = re.sub(r"\s+", "", (text or "").lower())
    return any(word.replace(" ", "") in squeezed for word in DANGER_WORDS)


# --- the automatic first answer, and the limit per sender ----------------------------------------

def auto_answer_due(last_auto_answer_on: date | None, now: datetime) -> bool:
    """At most one automatic answer per sender per day (Seoul): a resident who texts five times in a
    morning hears from the machine once, and from a person after that."""
    return last_auto_answer_on is None or last_auto_answer_on < now.astimezone(SEOUL).date()


SENDER_WINDOW = timedelta(hours=1)


def keeps_words(texts_this_hour: int, max_per_hour: int) -> bool:
    """The first ``max_per_hour`` texts of an hour from one number are kept in full; after that a text is
    only counted (a runaway phone or a flood must not bury the inbox, nor the first messages)."""
    return texts_this_hour < max_per_hour


# --- sending rules -------------------------------------------------------------------------------

AD_NIGHT_START = time(21, 0)
AD_NIGHT_END = time(8, 0)


def is_ad_night(now: datetime) -> bool:
    """정보통신망법 제50조 ③: advertising texts between 21:00 and 08:00 (Seoul) need the recipient's
    separate consent. The site sends no advertising (answers to a resident, pledge instructions, payment
    thanks are transactional), so nothing checks this before sending; `docs/sms.md` says why."""
    local = now.astimezone(SEOUL).time()
    return local >= AD_NIGHT_START or local < AD_NIGHT_END


def check_sender_number(number: str) -> str:
    """The sending number must be one the district registered with the provider beforehand (발신번호
    사전등록, 전기통신사업법 제84조의2): a number that is not registered is refused by the carriers, so the
    site refuses to start with a malformed one rather than fail on every text."""
    return normalise_phone(number)


SMS_BYTES = 90


def message_kind(body: str) -> str:
    """SMS up to 90 bytes (EUC-KR: 2 per Korean character), LMS above."""
    size = sum(2 if ord(ch) > 127 else 1 for ch in body)
    return "SMS" if size <= SMS_BYTES else "LMS"


def purge_cutoff(now: datetime, retention_days: int) -> datetime:
    return now - timedelta(days=retention_days)


# --- donors' contact preferences -----------------------------------------------------------------

class Channel(StrEnum):
    EMAIL = "email"
    TEXT = "text"
    BOTH = "both"


CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
CODES_PER_HOUR = 3


def new_code(randbelow) -> str:
    return "".join(str(randbelow(10)) for _ in range(CODE_DIGITS))


def check_channel(channel: str, *, phone_verified: bool) -> Channel:
    """Text (or both) only to a number the donor proved is theirs; otherwise mail."""
    try:
        chosen = Channel(channel)
    except ValueError:
        raise TextRuleError("contact_channel_unknown") from None
    if chosen != Channel.EMAIL and not phone_verified:
        raise TextRuleError("contact_phone_not_verified")
    return chosen


def routes(channel: str | None, *, phone_verified: bool) -> tuple[bool, bool]:
    """(by mail, by text) for a donor's notice. Mail unless the donor chose text with a verified number; a
    number no longer verified falls back to mail, so that nobody is left without the notice."""
    chosen = Channel(channel) if channel in {c.value for c in Channel} else Channel.EMAIL
    if not phone_verified:
        return True, False
    return chosen in (Channel.EMAIL, Channel.BOTH), chosen in (Channel.TEXT, Channel.BOTH)


def check_code_attempt(*, entered: str, matches: bool, expires_at: datetime | None, attempts: int,
                       now: datetime) -> None:
    """Raises the reason a verification code is not accepted; returns when it is."""
    if expires_at is None:
        raise TextRuleError("contact_code_none")
    if attempts >= CODE_MAX_ATTEMPTS:
        raise TextRuleError("contact_code_locked")
    if now > expires_at:
        raise TextRuleError("contact_code_expired")
    if not (entered or "").strip().isdigit() or not matches:
        raise TextRuleError("contact_code_wrong")
