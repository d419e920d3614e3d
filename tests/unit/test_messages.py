"""One message table: every refusal code the domain and the services raise has words, in Korean too.

The codes are read from the source (a code given as the first argument of a DomainError subclass,
or the class's own code where it is raised without one), so a new ``raise SomeError("new_code")``
without a line in kindcity/web/messages.py fails here, not in front of a user as "Something went
wrong".
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from babel.messages.pofile import read_po

import kindcity.domain
import kindcity.services
from kindcity.domain.errors import DomainError
from kindcity.domain.statements import StatementError
from kindcity.web.messages import MESSAGES, message_for

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "kindcity" / "domain").rglob("*.py"), *(ROOT / "kindcity" / "services").rglob("*.py")])
KO_PO = ROOT / "kindcity" / "translations" / "ko" / "LC_MESSAGES" / "messages.po"

# Codes made at run time rather than written as literals: a statement row's day refused by
# kindcity/domain/dates.py (f"statement_{refused.code}"), and the CSV reader's own two.
COMPUTED = {"statement_date_in_future", "statement_date_too_early", "cell_too_long", "unreadable_row"}
# Refusals that never reach a reader as one line of words: a form sent twice is answered 400
# (kindcity/web/form_tokens.py); the personal-data guard lists each finding (personal_data_messages).
NOT_WORDS = {"form_token_refused", "personal_data_found"}


def _error_classes() -> dict[str, type[DomainError]]:
    for package in (kindcity.domain, kindcity.services):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    found, todo = {}, [DomainError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found[sub.__name__] = sub
            todo.append(sub)
    return found


def raised_codes() -> set[str]:
    classes = _error_classes()
    names = "|".join(sorted(classes, key=len, reverse=True))
    with_code = re.compile(rf"\b({names})\(\s*\"(\w+)\"")
    bare = re.compile(rf"\b({names})\(\s*(?:\)|\w+=)")  # Name(), Name(key=...)
    as_value = re.compile(rf":\s*({names})\s*[,}}]")  # {...: Name}, raised as table[key]()
    codes = set(COMPUTED)
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        codes.update(code for _, code in with_code.findall(text))
        codes.update(classes[name].code for name in bare.findall(text) + as_value.findall(text))
    return codes


def test_the_scan_finds_codes_of_every_kind():
    codes = raised_codes()
    assert {"not_enough_left", "transition_not_allowed", "referral_purged", "photo_damaged", "rrn_shape",
            "bad_amount", "registration_number_invalid", "not_found", "self_approval"} <= codes


def test_every_code_raised_has_words_in_the_table():
    missing = sorted(raised_codes() - NOT_WORDS - MESSAGES.keys())
    assert missing == [], f"add these codes to kindcity/web/messages.py: {missing}"


def test_the_korean_catalogue_translates_every_message():
    with KO_PO.open("rb") as handle:
        catalogue = read_po(handle)
    untranslated = sorted(code for code, text in MESSAGES.items()
                          if not (catalogue.get(text._args[0]) and catalogue.get(text._args[0]).string))
    assert untranslated == []


def test_message_for_fills_details(app):
    with app.test_request_context("/?lang=en"):
        assert message_for(DomainError("not_enough_left", gap=12_000)) == (
            "Not enough is left on this need: at most 12,000 won can still be pledged.")
        assert message_for(DomainError("report_incomplete", missing=["story", "dates"])) == (
            "The report is not complete yet. Missing: story, delivery dates.")
        assert message_for(StatementError("bad_amount", row=4, column="amount", value="12x")) == (
            "Row 4, column \"deposit amount\": \"12x\" is not a whole number of won.")
        assert message_for(DomainError("no_such_code")) == "Something went wrong. Please try again."
