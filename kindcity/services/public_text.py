"""Public text and the personal-data guard (docs/domain.md, invariant 5).

Every field that the public reads is checked twice: as typed, and as the reader sees it once the
site has rendered it (:func:`kindcity.text.reader_text`), so that character references
(``&#48;10-...``), Markdown emphasis inside a number (``010-**1234**-5678``) or a ``mailto:``
link cannot carry personal data past the guard. Plain-text fields are checked as if rendered too:
a reader still reads ``010-**1234**-5678`` as a phone number, and the open-data API hands the
text to other sites that may render it.
"""
from __future__ import annotations

from collections.abc import Mapping

from ..domain.personal_data import FieldFinding, check_fields
from ..text import reader_text
from . import ServiceError


class PersonalDataFound(ServiceError):
    """Public text holds what looks like a beneficiary's personal data; nothing was published."""

    code = "personal_data_found"

    def __init__(self, findings: list[FieldFinding]):
        super().__init__(self.code, findings=findings)
        self.findings = findings


def personal_data_in(fields: Mapping[str, str | None]) -> list[FieldFinding]:
    """What the guard finds in these public fields, as typed and as shown."""
    return check_fields(fields, shown={name: reader_text(value) for name, value in fields.items() if value})


def refuse_personal_data(fields: Mapping[str, str | None]) -> None:
    findings = personal_data_in(fields)
    if findings:
        raise PersonalDataFound(findings)
