"""Reading a bank statement export (CSV) and matching its deposits to pledges. Pure: bytes in, rows out.

Korean banks export CP949/EUC-KR as often as UTF-8, put title lines above the header, and name
columns differently; the aliases below cover the common exports (KB, 신한, 우리, 하나, 농협, 광주은행).
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from .errors import DomainError
from .dates import DateRefused, check_day_happened
from .money import MoneyError, to_won
from .pledges import REFERENCE_ALPHABET, REFERENCE_LENGTH

MAX_ROWS = 50_000
HEADER_SEARCH_ROWS = 15

ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("거래일시", "거래일자", "거래일", "일자", "거래시간", "date", "datetime"),
    "amount": ("입금액", "입금금액", "맡기신금액", "입금", "받은금액", "deposit", "amount"),
    "withdrawal": ("출금액", "출금금액", "찾으신금액", "출금", "withdrawal"),
    "memo": ("입금자명", "입금자", "보낸분", "보낸사람", "보낸분/받는분", "받는분/보낸분", "의뢰인", "적요", "내용",
             "기재내용", "메모", "송금메모", "거래내용", "depositor", "memo", "description", "name"),
    "balance": ("거래후잔액", "잔액", "balance"),
    "transaction_id": ("거래번호", "거래고유번호", "transaction_id", "id"),
}
REQUIRED = ("date", "amount", "memo")

_REFERENCE = re.compile(r"KC[" + REFERENCE_ALPHABET + r"]{" + str(REFERENCE_LENGTH) + r"}")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M",
                 "%Y.%m.%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y%m%d", "%Y%m%d%H%M%S")


class StatementError(DomainError, ValueError):
    """The file cannot be read. ``code`` says why; ``row`` (1-based, as in a spreadsheet) and
    ``column`` say where, ``value`` what was found there."""

    def __init__(self, code: str, row: int | None = None, column: str | None = None, value: str = ""):
        super().__init__(code, row=row, column=column, value=value)

    def __str__(self) -> str:
        return f"{self.code} at row {self.row}, column {self.column}: {self.value!r}"


@dataclass(frozen=True)
class StatementRow:
    line: int              # row number in the file (1-based)
    booked_at: datetime    # as written in the statement (Korea time, naive)
    amount: int            # deposit in won
    memo: str              # depositor name / memo text as exported
    balance: int | None
    fingerprint: str       # stable identity of this deposit, so a second import changes nothing
    reference: str | None  # the pledge reference code found in the memo, if any


def decode(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). UTF-8 (with or without BOM) first, then CP949, a superset of EUC-KR."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise StatementError("encoding")


_UNIT_SUFFIX = re.compile(r"[(\[（]\s*(원|krw|won)\s*[)\]）]\s*$", re.IGNORECASE)


def _normalise_header(cell: str) -> str:
    """'입금액(원)' and '입금액' are the same column; so are 'Deposit' and 'deposit '."""
    cell = _UNIT_SUFFIX.sub("", cell.strip())
    return re.sub(r"[\s()\[\]（）:_\-/]", "", cell).lower()


def _find_columns(rows: list[list[str]]) -> tuple[int, dict[str, int]]:
    lookup = {_normalise_header(alias): key for key, aliases in ALIASES.items() for alias in aliases}
    best: tuple[int, dict[str, int]] | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for position, cell in enumerate(row):
            key = lookup.get(_normalise_header(cell))
            if key and key not in found:
                found[key] = position
        if "amount" in found and "date" in found:
            best = (index, found)
            break
    if best is None:
        raise StatementError("header_not_found")
    missing = [key for key in REQUIRED if key not in best[1]]
    if missing:
        raise StatementError("column_missing", row=best[0] + 1, column=missing[0])
    return best


# The shape nearly every export uses, read without strptime (ten times slower, for 10,000 rows).
_COMMON_DATE = re.compile(r"(\d{4})([-./])(\d{2})\2(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?")
_GROUPED_WON = re.compile(r"\d{1,3}(?:,\d{3})+|\d{1,16}")


def _parse_date(text: str, line: int) -> datetime:
    cleaned = text.strip()
    common = _COMMON_DATE.fullmatch(cleaned)
    if common:
        year, _, month, day, hour, minute, second = common.groups()
        try:
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        except ValueError:
            raise StatementError("bad_date", row=line, column="date", value=text) from None
    if cleaned.isdigit() and len(cleaned) not in (8, 14):
        raise StatementError("bad_date", row=line, column="date", value=text)  # strptime would read 2024511
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
    raise StatementError("bad_date", row=line, column="date", value=text)


def _parse_money(text: str, line: int, column: str) -> int | None:
    cleaned = text.strip()
    if cleaned in ("", "-", "0"):
        return None if cleaned != "0" else 0
    try:
        if _GROUPED_WON.fullmatch(cleaned):  # "20,000" or "20000": the usual case, without Decimal
            return to_won(int(cleaned.replace(",", "")))
        return to_won(cleaned)
    except MoneyError:
        raise StatementError("bad_amount", row=line, column=column, value=text) from None


def find_reference(memo: str) -> str | None:
    match = _REFERENCE.search(re.sub(r"[\s\-]", "", memo.upper()))
    return match.group(0) if match else None


def _read_rows(text: str) -> list[list[str]]:
    """The CSV records, or a StatementError naming the record that cannot be read (a cell longer
    than the csv module's limit, 131,072 characters, is no bank's export)."""
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as error:
            code = "cell_too_long" if "field limit" in str(error) else "unreadable_row"
            raise StatementError(code, row=len(rows) + 1) from None
        rows.append(row)


def check_booked_day(booked_at: datetime, line: int, today: date) -> None:
    """A deposit happened on a day the site accepts (kindcity/domain/dates.py): not after today,
    not before the site's first day. Checked again when a previewed statement is applied."""
    try:
        check_day_happened(booked_at.date(), today)
    except DateRefused as refused:
        raise StatementError(f"statement_{refused.code}", row=line, column="date",
                             value=booked_at.date().isoformat()) from None


def parse_statement(data: bytes, today: date | None = None) -> list[StatementRow]:
    """The deposits of a statement export; with ``today``, each dated on a day the site accepts."""
    text, _ = decode(data)
    rows = _read_rows(text)
    header_index, columns = _find_columns(rows)
    memo_columns = [i for i, cell in enumerate(rows[header_index])
                    if _normalise_header(cell) in {_normalise_header(a) for a in ALIASES["memo"]}]
    seen: dict[str, int] = {}
    parsed: list[StatementRow] = []
    for offset, row in enumerate(rows[header_index + 1:], start=header_index + 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(parsed) >= MAX_ROWS:
            raise StatementError("too_many_rows", row=offset)
        if len(row) <= max(columns.values()):
            raise StatementError("row_too_short", row=offset, column=_missing_column(row, columns))
        amount = _parse_money(row[columns["amount"]], offset, "amount")
        if "withdrawal" in columns:
            _parse_money(row[columns["withdrawal"]], offset, "withdrawal")  # validated, not used
        if not amount:
            continue  # a withdrawal or a zero line: not a gift
        booked_at = _parse_date(row[columns["date"]], offset)
        if today is not None:
            check_booked_day(booked_at, offset, today)
        memo = " ".join(row[i].strip() for i in memo_columns if i < len(row) and row[i].strip())
        balance = _parse_money(row[columns["balance"]], offset, "balance") if "balance" in columns else None
        if "transaction_id" in columns and row[columns["transaction_id"]].strip():
            identity = "id:" + row[columns["transaction_id"]].strip()
        else:
            identity = f"{booked_at.isoformat()}|{amount}|{balance}|{memo}"
        occurrence = seen.get(identity, 0)
        seen[identity] = occurrence + 1
        fingerprint = hashlib.sha256(f"{identity}#{occurrence}".encode()).hexdigest()
        parsed.append(StatementRow(line=offset, booked_at=booked_at, amount=amount, memo=memo,
                                   balance=balance, fingerprint=fingerprint, reference=find_reference(memo)))
    return parsed


def _missing_column(row: list[str], columns: dict[str, int]) -> str:
    for key, position in sorted(columns.items(), key=lambda item: item[1]):
        if position >= len(row):
            return key
    return ""


class Match(StrEnum):
    MATCHED = "matched"          # exactly what is still owed
    PARTLY_PAID = "partly_paid"  # less than owed
    OVER_PAID = "over_paid"      # more than owed (the surplus follows the donor's choice)
    UNMATCHED = "unmatched"      # no known reference code
    DUPLICATE = "duplicate"      # already imported
    CONFIRMED_BY_HAND = "confirmed_by_hand"  # staff already recorded this transfer by hand: link, don't add


def classify(row: StatementRow, owed: int | None, already_imported: bool, confirmed_by_hand: bool = False) -> Match:
    """``owed`` is what the pledge with this row's reference still expects (None: no such pledge);
    ``confirmed_by_hand`` says a hand-recorded payment of the same amount awaits its statement line."""
    if already_imported:
        return Match.DUPLICATE
    if confirmed_by_hand:
        return Match.CONFIRMED_BY_HAND
    if owed is None:
        return Match.UNMATCHED
    if row.amount == owed:
        return Match.MATCHED
    return Match.PARTLY_PAID if row.amount < owed else Match.OVER_PAID
