"""The bank statement parser and classifier (kindcity.domain.statements): bytes in, rows out, no app."""
from __future__ import annotations

import time
from datetime import datetime

import pytest

from kindcity.domain.pledges import REFERENCE_ALPHABET, new_reference
from kindcity.domain.statements import (HEADER_SEARCH_ROWS, Match, StatementError, StatementRow, classify, decode,
                                        find_reference, parse_statement)

REF_A, REF_B = "KC7Q2MXA", "KC9RTWZ3"

# A 광주은행-style export: three title lines (the last one blank) above the header, Korean columns,
# a withdrawal, amounts with commas and 원, the reference code written in many ways.
KOREAN_EXPORT = (
    "거래내역조회\n"
    "계좌번호: 123-456-789012 (광주광역시 서구)\n"
    "\n"
    "거래일시,적요,출금액,입금액,입금자명,잔액\n"
    '2024-05-01 09:12:00,타행이체,0,"100,000원",홍길동 KC7Q2MXA,"1,100,000"\n'
    '2024-05-01 10:00:00,카드대금,"50,000",,,"1,050,000"\n'
    '2024-05-02 11:30:00,타행이체,0,"30,000",kc 9rtwz3,"1,080,000"\n'
    '2024-05-03 08:00:00,이자,0,"2,500",결산이자,"1,082,500"\n'
)


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def _error(data: bytes) -> StatementError:
    with pytest.raises(StatementError) as raised:
        parse_statement(data)
    return raised.value


# --- encodings -------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding, reported", [
    ("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"), ("cp949", "cp949"), ("euc-kr", "cp949"),
])
def test_korean_export_reads_the_same_in_every_encoding(encoding, reported):
    data = KOREAN_EXPORT.encode(encoding)
    assert decode(data)[1] == reported
    rows = parse_statement(data)
    assert [(r.line, r.amount, r.reference) for r in rows] == [
        (5, 100_000, REF_A), (7, 30_000, REF_B), (8, 2_500, None)]
    assert rows[0].memo == "타행이체 홍길동 KC7Q2MXA"  # every memo-like column, joined
    assert rows[0].booked_at == datetime(2024, 5, 1, 9, 12)
    assert rows[0].balance == 1_100_000
    assert all(isinstance(r, StatementRow) and isinstance(r.amount, int) for r in rows)


def test_fingerprints_do_not_depend_on_the_encoding():
    utf8 = parse_statement(KOREAN_EXPORT.encode("utf-8-sig"))
    cp949 = parse_statement(KOREAN_EXPORT.encode("cp949"))
    euc_kr = parse_statement(KOREAN_EXPORT.encode("euc-kr"))
    assert [r.fingerprint for r in utf8] == [r.fingerprint for r in cp949] == [r.fingerprint for r in euc_kr]


def test_bom_does_not_hide_the_first_header_cell():
    data = "\ufeff거래일시,입금액,입금자명\n2024-05-01,1000,KC7Q2MXA\n".encode("utf-8")
    rows = parse_statement(data)
    assert rows[0].amount == 1000 and rows[0].line == 2


@pytest.mark.parametrize("data", [
    b"\xff\xfe\x00\x80\x81\xff\x00\x01\xfe\xff\xc8\xff",          # neither UTF-8 nor CP949
    bytes(range(0x80, 0x100)) * 4,                                   # high bytes, includes 0xFF
    "date,amount,memo\n".encode("utf-16"),                         # UTF-16 with BOM (Excel "Unicode text")
])
def test_binary_or_unknown_encoding_is_refused(data):
    error = _error(data)
    assert error.code == "encoding"
    assert error.row is None


# --- title lines and header --------------------------------------------------------------------------

def test_title_lines_are_skipped_and_rows_are_numbered_like_a_spreadsheet():
    rows = parse_statement(_csv("거래내역조회", "계좌번호: 123-456-789012", "",
                                "거래일자,입금액,입금자명", "2024-05-01,5000,김철수", "", "2024-05-02,7000,이영희"))
    assert [r.line for r in rows] == [5, 7]  # the blank line between them still counts


def test_header_within_the_search_window_is_found_and_beyond_it_is_not():
    titles = ["조회결과"] * (HEADER_SEARCH_ROWS - 1)
    found = parse_statement(_csv(*titles, "date,amount,memo", "2024-05-01,1000,x"))
    assert found[0].line == HEADER_SEARCH_ROWS + 1
    error = _error(_csv(*titles, "", "date,amount,memo", "2024-05-01,1000,x"))
    assert error.code == "header_not_found"


@pytest.mark.parametrize("text", [
    "거래내역조회\n이름,금액\n홍길동,1000\n",
    "just some text\nwithout a header\n",
    "",
])
def test_no_header_row(text):
    assert _error(text.encode("utf-8")).code == "header_not_found"


@pytest.mark.parametrize("header, row", [
    ("거래일시,입금액,입금자명,잔액", "2024-05-01 10:00:00,10000,KC7Q2MXA,20000"),
    ("거래일자,입금금액,보낸분,거래후잔액", "2024-05-01 10:00:00,10000,KC7Q2MXA,20000"),
    ("거래일,맡기신금액,의뢰인,잔액", "2024-05-01 10:00:00,10000,KC7Q2MXA,20000"),
    ("일자,입금,적요,잔액", "2024-05-01 10:00:00,10000,KC7Q2MXA,20000"),
    ("date,amount,memo,balance", "2024-05-01 10:00:00,10000,KC7Q2MXA,20000"),
    ("Date,Deposit,Depositor,Balance", "2024-05-01 10:00:00,10000,KC7Q2MXA,20000"),
    ("DATETIME,AMOUNT,DESCRIPTION,BALANCE", "2024-05-01 10:00:00,10000,KC7Q2MXA,20000"),
    (" 거래 일시 , 입금액 , [입금자명] ,잔액:", "2024-05-01 10:00:00,10000,KC7Q2MXA,20000"),
    ("transaction_id,date,amount,name,balance", "T1,2024-05-01 10:00:00,10000,KC7Q2MXA,20000"),
])
def test_column_aliases(header, row):
    [parsed] = parse_statement(_csv(header, row))
    assert parsed.amount == 10_000
    assert parsed.booked_at == datetime(2024, 5, 1, 10, 0)
    assert parsed.reference == REF_A
    assert parsed.balance == 20_000


def test_columns_in_any_order():
    [parsed] = parse_statement(_csv("잔액,입금자명,입금액,거래일시", "20000,KC7Q2MXA,10000,2024-05-01"))
    assert (parsed.amount, parsed.balance, parsed.reference) == (10_000, 20_000, REF_A)


def test_kb_style_headers_with_a_won_suffix():
    data = ("거래일시,적요,보낸분/받는분,송금메모,출금액(원),입금액(원),잔액(원)\n"
            '2024.05.01 10:00:00,타행이체,홍길동,KC7Q2MXA,0,"10,000","50,000"\n').encode("cp949")
    [parsed] = parse_statement(data)
    assert (parsed.amount, parsed.balance, parsed.reference) == (10_000, 50_000, REF_A)


# --- amounts, withdrawals, dates -----------------------------------------------------------------------

@pytest.mark.parametrize("cell, won", [
    ('"100,000"', 100_000), ('"100,000원"', 100_000), ("100000", 100_000), ('" 1,500,000 원 "', 1_500_000),
    ('"₩2,000"', 2_000), ('"1,000.00"', 1_000),
])
def test_amount_formats(cell, won):
    [parsed] = parse_statement(_csv("거래일시,입금액,입금자명", f"2024-05-01,{cell},x"))
    assert parsed.amount == won and isinstance(parsed.amount, int)


@pytest.mark.parametrize("deposit", ["", "0", "-", "0원", " "])
def test_withdrawals_and_zero_lines_are_skipped(deposit):
    rows = parse_statement(_csv("거래일시,입금액,출금액,입금자명,잔액",
                                f'2024-05-01 10:00,{deposit},"50,000",카드대금,"950,000"',
                                '2024-05-01 11:00,"10,000",0,KC7Q2MXA,"960,000"'))
    assert [(r.line, r.amount) for r in rows] == [(3, 10_000)]


def test_a_withdrawal_line_with_a_bad_date_is_still_skipped():
    # only deposits need a date; a withdrawal is not read further than its amount
    rows = parse_statement(_csv("거래일시,입금액,출금액,입금자명", "합계,,50000,", "2024-05-01,1000,0,x"))
    assert [r.line for r in rows] == [3]


def test_bad_withdrawal_amount_is_named():
    error = _error(_csv("거래일시,입금액,출금액,입금자명", "2024-05-01,1000,5O0,x"))
    assert (error.code, error.row, error.column, error.value) == ("bad_amount", 2, "withdrawal", "5O0")


@pytest.mark.parametrize("cell, expected", [
    ("2024-05-01 10:11:12", datetime(2024, 5, 1, 10, 11, 12)),
    ("2024-05-01 10:11", datetime(2024, 5, 1, 10, 11)),
    ("2024-05-01", datetime(2024, 5, 1)),
    ("2024.05.01 10:11:12", datetime(2024, 5, 1, 10, 11, 12)),
    ("2024.05.01 10:11", datetime(2024, 5, 1, 10, 11)),
    ("2024.05.01", datetime(2024, 5, 1)),
    ("2024/05/01 10:11:12", datetime(2024, 5, 1, 10, 11, 12)),
    ("2024/05/01 10:11", datetime(2024, 5, 1, 10, 11)),
    ("2024/5/1", datetime(2024, 5, 1)),
    ("20240501", datetime(2024, 5, 1)),
    ("20240501101112", datetime(2024, 5, 1, 10, 11, 12)),
    (" 2024-05-01 ", datetime(2024, 5, 1)),
])
def test_date_formats(cell, expected):
    [parsed] = parse_statement(_csv("거래일시,입금액,입금자명", f"{cell},1000,x"))
    assert parsed.booked_at == expected and parsed.booked_at.tzinfo is None


@pytest.mark.parametrize("cell", ["05/01/2024", "2024-13-01", "2024-02-30", "어제", "2024년 5월", "2024-05-01T10:00",
                                  "2024-05-01 24:00", "2024-05-01 10:60:00", "2024-05.01", "2024-05-01 10"])
def test_bad_date(cell):
    error = _error(_csv("제목", "거래일시,입금액,입금자명", "2024-05-01,1000,ok", f"{cell},1000,x"))
    assert (error.code, error.row, error.column, error.value) == ("bad_date", 4, "date", cell)


@pytest.mark.parametrize("cell", ["1714550400", "2024511"])
def test_compact_dates_need_all_their_digits(cell):
    assert _error(_csv("거래일시,입금액,입금자명", f"{cell},1000,x")).code == "bad_date"


# --- errors name the row and the column ------------------------------------------------------------

def test_missing_memo_column_names_the_header_row():
    error = _error(_csv("거래내역조회", "계좌번호: 123-456", "", "거래일시,입금액,잔액", "2024-05-01,1000,5000"))
    assert (error.code, error.row, error.column) == ("column_missing", 4, "memo")


def test_missing_memo_column_on_the_first_line():
    error = _error(_csv("date,amount", "2024-05-01,1000"))
    assert (error.code, error.row, error.column) == ("column_missing", 1, "memo")


def test_bad_amount_row_counts_title_lines():
    error = _error(_csv("거래내역조회", "계좌번호: 123-456-789012", "",
                        "거래일시,입금액,입금자명", "2024-05-01,1000,ok", '2024-05-02,"12,5a",홍길동'))
    assert (error.code, error.row, error.column, error.value) == ("bad_amount", 6, "amount", "12,5a")


@pytest.mark.parametrize("cell", ["-5,000", "1,000.5", "abc", "1,2,3,x", "1e20", "NaN", "Infinity",
                                  "100,000,000,000,000", "99999999999999"])
def test_bad_amounts(cell):
    error = _error(_csv("거래일시,입금액,입금자명", f'2024-05-01,"{cell}",x'))
    assert (error.code, error.row, error.column) == ("bad_amount", 2, "amount")


def test_huge_exponent_is_refused_quickly():
    started = time.perf_counter()
    error = _error(_csv("거래일시,입금액,입금자명", "2024-05-01,1e200000,x"))
    assert time.perf_counter() - started < 0.2
    assert (error.code, error.column) == ("bad_amount", "amount")


def test_scientific_notation_is_not_an_amount():
    error = _error(_csv("거래일시,입금액,입금자명", "2024-05-01,1e3,x"))
    assert (error.code, error.column) == ("bad_amount", "amount")


def test_bad_balance_is_named():
    error = _error(_csv("거래일시,입금액,입금자명,잔액", "2024-05-01,1000,x,abc"))
    assert (error.code, error.row, error.column) == ("bad_amount", 2, "balance")


def test_short_row():
    error = _error(_csv("거래내역조회", "거래일시,입금액,입금자명,잔액", "2024-05-01,1000,x,5000", "2024-05-02,1000"))
    assert (error.code, error.row, error.column) == ("row_too_short", 4, "memo")


def test_row_shorter_than_a_second_memo_column():
    # 메모 is a second memo column at index 4; the second row's trailing empty cell is omitted
    data = _csv("거래일시,입금액,입금자명,잔액,메모", "2024-05-01 10:00,10000,홍길동,50000,KC7Q2MXA",
                "2024-05-02 10:00,20000,김철수,70000")
    try:
        rows = parse_statement(data)
    except StatementError as error:  # refusing it clearly is a fix too
        assert (error.code, error.row) == ("row_too_short", 3)
    else:
        assert [r.memo for r in rows] == ["홍길동 KC7Q2MXA", "김철수"]


def test_statement_error_carries_its_parts():
    error = StatementError("bad_amount", row=3, column="amount", value="x")
    assert isinstance(error, ValueError)
    assert "bad_amount" in str(error) and "3" in str(error)


# --- reference codes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("memo", [
    "KC7Q2MXA", "kc7q2mxa", "kc 7q2mxa", "KC 7Q2 MXA", "KC-7Q2-MXA", "  kc\t7q2mxa ",
    "홍길동 KC7Q2MXA", "KC7Q2MXA홍길동", "홍길동kc7q2mxa", "(주)착한기업 kc-7q2-mxa",
])
def test_find_reference_accepts(memo):
    assert find_reference(memo) == REF_A


@pytest.mark.parametrize("memo", [
    "", "홍길동", "KC7Q2MX",           # too short
    "7Q2MXA",                          # no KC prefix
    "KC7Q2MX0", "KC7Q2MXO", "KC7Q2MXI", "KC7Q2MX1", "KC7Q2MXL", "KC7Q2MXU",  # outside the alphabet
    "KC_7Q2MXA", "KC.7Q2MXA",          # only spaces and hyphens are ignored
    "ＫＣ７Ｑ２ＭＸＡ",                  # full-width letters are not read
])
def test_find_reference_rejects(memo):
    assert find_reference(memo) is None


def test_find_reference_takes_the_first_code_and_the_first_six_characters():
    assert find_reference("KC7Q2MXA KC9RTWZ3") == REF_A
    assert find_reference("KC7Q2MXAB") == REF_A


def test_every_generated_reference_is_found():
    for n in range(200):
        code = new_reference()
        assert find_reference(f"후원 {code.lower()} 감사합니다") == code
    assert all(c in REFERENCE_ALPHABET for c in "".join(new_reference()[2:] for _ in range(50)))


def test_reference_is_found_in_any_memo_column():
    [row] = parse_statement(_csv("거래일시,입금액,입금자명,메모", "2024-05-01,1000,홍길동,kc 7q2mxa"))
    assert row.reference == REF_A and row.memo == "홍길동 kc 7q2mxa"


# --- fingerprints -----------------------------------------------------------------------------------------

def test_fingerprints_are_stable_across_parses():
    first, second = parse_statement(KOREAN_EXPORT.encode("utf-8")), parse_statement(KOREAN_EXPORT.encode("utf-8"))
    assert [r.fingerprint for r in first] == [r.fingerprint for r in second]
    assert len({r.fingerprint for r in first}) == len(first)
    assert all(len(r.fingerprint) == 64 for r in first)


def test_identical_deposits_in_one_file_get_different_fingerprints():
    rows = parse_statement(_csv("거래일시,입금액,입금자명", "2024-05-01 10:00,10000,홍길동",
                                "2024-05-01 10:00,10000,홍길동", "2024-05-01 10:00,10000,홍길동"))
    assert len(rows) == 3 and len({r.fingerprint for r in rows}) == 3


def test_the_same_deposit_in_another_file_keeps_its_fingerprint():
    deposit = '2024-05-02 11:30:00,타행이체,0,"30,000",KC9RTWZ3,"1,080,000"'
    first = parse_statement(_csv("거래일시,적요,출금액,입금액,입금자명,잔액", deposit))
    second = parse_statement(_csv(
        "거래내역조회", "", "거래일시,적요,출금액,입금액,입금자명,잔액",
        '2024-04-30 09:00:00,타행이체,0,"5,000",이영희,"1,000,000"',
        '2024-05-01 10:00:00,카드대금,"50,000",,,"950,000"',
        deposit,
        '2024-05-03 10:00:00,타행이체,0,"30,000",KC9RTWZ3,"1,110,000"',
    ).decode("utf-8").encode("cp949"))
    [again] = [r for r in second if r.booked_at == datetime(2024, 5, 2, 11, 30)]
    assert again.line != first[0].line
    assert again.fingerprint == first[0].fingerprint
    assert len({r.fingerprint for r in second}) == len(second)


def test_fingerprint_changes_with_every_part_of_the_deposit():
    base = "2024-05-01 10:00,10000,홍길동,50000"
    variants = [base, "2024-05-01 10:01,10000,홍길동,50000", "2024-05-01 10:00,10001,홍길동,50000",
                "2024-05-01 10:00,10000,홍길동2,50000", "2024-05-01 10:00,10000,홍길동,50001"]
    prints = {parse_statement(_csv("거래일시,입금액,입금자명,잔액", v))[0].fingerprint for v in variants}
    assert len(prints) == len(variants)


def test_transaction_id_is_the_identity_when_present():
    one = parse_statement(_csv("거래번호,거래일시,입금액,입금자명", "T-001,2024-05-01,1000,홍길동"))[0]
    renamed = parse_statement(_csv("거래번호,거래일시,입금액,입금자명", "T-001,2024-05-01,1000,홍길동 (수정)"))[0]
    other = parse_statement(_csv("거래번호,거래일시,입금액,입금자명", "T-002,2024-05-01,1000,홍길동"))[0]
    assert one.fingerprint == renamed.fingerprint != other.fingerprint


# --- classify ---------------------------------------------------------------------------------------------

def _row(amount: int, reference: str | None = REF_A) -> StatementRow:
    return StatementRow(line=2, booked_at=datetime(2024, 5, 1), amount=amount, memo=reference or "",
                        balance=None, fingerprint="f" * 64, reference=reference)


@pytest.mark.parametrize("amount, owed, already, outcome", [
    (100_000, 100_000, False, Match.MATCHED),
    (30_000, 100_000, False, Match.PARTLY_PAID),
    (150_000, 100_000, False, Match.OVER_PAID),
    (1_000, 0, False, Match.OVER_PAID),            # the pledge is paid already: anything more is extra
    (100_000, None, False, Match.UNMATCHED),
    (100_000, 100_000, True, Match.DUPLICATE),
    (100_000, None, True, Match.DUPLICATE),        # a duplicate is a duplicate whatever it matches
])
def test_classify(amount, owed, already, outcome):
    assert classify(_row(amount), owed, already) == outcome


def test_match_values_are_the_stored_outcome_words():
    assert {m.value for m in Match} == {"matched", "partly_paid", "over_paid", "unmatched", "duplicate",
                                        "confirmed_by_hand"}


def test_hand_confirmed_transfer_is_linked_not_added():
    assert classify(_row(100_000), 100_000, False, confirmed_by_hand=True) == Match.CONFIRMED_BY_HAND
    assert classify(_row(100_000), 100_000, True, confirmed_by_hand=True) == Match.DUPLICATE


@pytest.mark.parametrize("day, code", [
    ("0001-01-01", "statement_date_too_early"), ("1999-12-31", "statement_date_too_early"),
    ("9999-12-31", "statement_date_in_future"), ("2026-12-07", "statement_date_in_future")])
def test_a_deposit_on_a_day_the_site_does_not_accept_names_its_row(day, code):
    from datetime import date

    data = _csv("date,amount,memo", "2026-12-01,1000,a", f"{day},2000,b")
    with pytest.raises(StatementError) as refused:
        parse_statement(data, today=date(2026, 12, 6))
    assert (refused.value.code, refused.value.row, refused.value.column) == (code, 3, "date")
    assert len(parse_statement(data)) == 2  # without today (a pure read), the dates are as written


def test_a_cell_beyond_the_csv_limit_names_its_row():
    data = _csv("date,amount,memo", "2026-12-01,1000,a", "2026-12-01,2000," + "가" * 200_000)
    with pytest.raises(StatementError) as refused:
        parse_statement(data)
    assert (refused.value.code, refused.value.row) == ("cell_too_long", 3)
