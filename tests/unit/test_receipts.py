"""The pure rules of donation receipts: serial numbers, statement periods, one receipt per issuer."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from kindcity.domain.receipts import (Party, PeriodError, ReceiptLine, receipt_serial, statement_period,
                                      statement_receipts, statement_serial)


def test_a_payment_serial_is_the_korea_time_year_and_the_payment_id():
    # 15:30 UTC on 31 December is already New Year's Day in Korea.
    assert receipt_serial(123, datetime(2025, 12, 31, 15, 30, tzinfo=timezone.utc)) == "KC-2026-000123"
    assert receipt_serial(123, datetime(2025, 12, 31, 14, 59, tzinfo=timezone.utc)) == "KC-2025-000123"
    assert receipt_serial(1_234_567, datetime(2026, 5, 1, tzinfo=timezone.utc)) == "KC-2026-1234567"
    with pytest.raises(ValueError):
        receipt_serial(1, datetime(2026, 5, 1))


def test_serials_are_unique_per_payment_and_per_statement_part():
    moment = datetime(2026, 5, 1, tzinfo=timezone.utc)
    assert len({receipt_serial(n, moment) for n in range(1, 2000)}) == 1999
    assert statement_serial(45, date(2026, 1, 1), date(2026, 12, 31)) == "KC-20260101-20261231-D000045"
    assert statement_serial(45, date(2026, 1, 1), date(2026, 12, 31), part=2) == "KC-20260101-20261231-D000045-2"


@pytest.mark.parametrize("start, end, expected", [
    (None, None, (date(2026, 1, 1), date(2026, 12, 31))),
    (date(2025, 3, 1), None, (date(2025, 3, 1), date(2025, 12, 31))),
    (None, date(2024, 6, 30), (date(2024, 1, 1), date(2024, 6, 30))),
    (date(2026, 2, 1), date(2026, 2, 1), (date(2026, 2, 1), date(2026, 2, 1))),
])
def test_statement_period_defaults_to_the_calendar_year(start, end, expected):
    assert statement_period(start, end, date(2026, 8, 15)) == expected


@pytest.mark.parametrize("start, end, code", [
    (date(2026, 12, 31), date(2026, 1, 1), "period_start_after_end"),
    (date(2000, 1, 1), date(2026, 12, 31), "period_too_long"),
])
def test_statement_period_refuses_nonsense(start, end, code):
    with pytest.raises(PeriodError) as error:
        statement_period(start, end, date(2026, 8, 15))
    assert error.value.code == code


def _line(day: int, amount: int, reference: str = "KCAAAAAA", refund: bool = False) -> ReceiptLine:
    return ReceiptLine(day=date(2026, 3, day), amount=amount, purpose="수요", reference=reference, refund=refund)


def test_one_receipt_per_issuer_in_a_stable_order_with_net_totals():
    donor = Party("김후원")
    church, district = Party("서구 사랑나눔교회"), Party("광주광역시 서구")
    receipts = statement_receipts(
        donor_id=7, donor=donor, period=(date(2026, 1, 1), date(2026, 12, 31)), issued_on=date(2026, 8, 15),
        lines_by_issuer={district: [_line(9, 50_000, "KCB"), _line(2, 100_000, "KCA"), _line(9, -50_000, "KCB", True)],
                         church: [_line(5, 20_000)]})
    assert [r.issuer.name for r in receipts] == sorted(["서구 사랑나눔교회", "광주광역시 서구"])
    assert [r.serial for r in receipts] == ["KC-20260101-20261231-D000007-1", "KC-20260101-20261231-D000007-2"]
    by_name = {r.issuer.name: r for r in receipts}
    assert by_name["광주광역시 서구"].total == 100_000 and by_name["서구 사랑나눔교회"].total == 20_000
    assert [line.reference for line in by_name["광주광역시 서구"].lines] == ["KCA", "KCB", "KCB"]
    assert by_name["광주광역시 서구"].lines[-1].refund
    assert all(r.is_statement and r.donor == donor for r in receipts)


def test_a_single_issuer_gets_the_plain_statement_serial():
    receipts = statement_receipts(donor_id=7, donor=Party("김후원"), period=(date(2026, 1, 1), date(2026, 1, 31)),
                                  issued_on=date(2026, 2, 1), lines_by_issuer={Party("광주광역시 서구"): []})
    assert [r.serial for r in receipts] == ["KC-20260101-20260131-D000007"]
    assert receipts[0].total == 0 and receipts[0].lines == ()


def test_a_registration_number_is_ten_digits_written_3_2_5():
    from kindcity.domain.receipts import RegistrationNumberError, registration_number

    assert registration_number(" 408 82 12345") == "408-82-12345"
    assert registration_number("4088212345") == "408-82-12345"
    for wrong in ("408-82-1234", "408-82-123456", "４０８-82-12345", "abc-de-fghij"):
        with pytest.raises(RegistrationNumberError):
            registration_number(wrong)


def test_only_a_donor_identified_as_the_form_requires_gets_a_tax_receipt():
    from datetime import date

    from kindcity.domain.receipts import Party, Receipt

    def receipt(donor):
        return Receipt(serial="KC-2026-000001", issued_on=date(2026, 12, 6), donor=donor,
                       issuer=Party(name="광주광역시 서구청"), lines=())

    assert not receipt(Party(name="김후원")).is_tax_receipt
    assert receipt(Party(name="김후원", resident_number="900101-1******")).is_tax_receipt
    assert receipt(Party(name="빛고을(주)", business_number="409-81-23456", representative="이정훈")).is_tax_receipt
