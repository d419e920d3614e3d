"""Donation receipts (기부금 영수증) as PDF, drawn with fpdf2 and the bundled Nanum Gothic font.

What a receipt says comes from ``kindcity.domain.receipts`` (filled by ``kindcity.services.receipts``);
this module only lays it out, in the reader's language. The words go through Flask-Babel with
English msgids like every other text. The Korean wording of the form is fixed by the tax rules
(소득세법 시행규칙 별지 제45호의2 서식), so until the Korean catalogue carries these msgids the
form's own wording below is used for Korean readers: a Korean receipt is never printed in English.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask_babel import get_translations, gettext

from .domain.receipts import Receipt

FONT = Path(__file__).resolve().parent / "fonts" / "NanumGothic.ttf"
FONT_FAMILY = "NanumGothic"

# fontTools reports every font table it leaves out of the embedded subset; none of that matters here.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

# The form's Korean wording, for msgids the Korean catalogue does not carry yet.
FORM_WORDING_KO = {
    "Donation receipt": "기부금 영수증",
    "Donation receipt (statement for a period)": "기부금 영수증 (기간 합산)",
    "Serial number": "일련번호",
    "1. Donor": "① 기부자",
    "Name (organisation name)": "성명 (법인명)",
    "Business registration number": "사업자등록번호",
    "Representative": "대표자",
    "Resident registration number": "주민등록번호",
    "Not collected by this site": "이 사이트는 수집하지 않음",
    "2. Receiving organisation (issuer)": "② 기부금 단체 (발급자)",
    "Organisation name": "단체명",
    "3. Donation details": "③ 기부 내용",
    "Period": "기부 기간",
    "%(start)s to %(end)s": "%(start)s ~ %(end)s",
    "Type of donation": "기부금 유형",
    "%(name)s (code %(code)s)": "%(name)s (코드 %(code)s)",
    "Date": "연월일",
    "Kind": "구분",
    "Purpose": "내용 (용도)",
    "Reference": "약정 번호",
    "Amount": "금액",
    "Money": "금전",
    "Refund": "반환",
    "Pooled fund": "나눔 기금",
    "Total": "합계",
    "No donations in this period.": "이 기간에 받은 기부금이 없습니다.",
    "Of this pledge, %(amount)s was refunded; the statement for the period shows the net amount.":
        "이 약정 중 %(amount)s은 반환되었습니다. 기간 합산 영수증에는 반환 후 금액이 표시됩니다.",
    "We certify that we received the donation above.": "위와 같이 기부금을 기부받았음을 증명합니다.",
    "Issued on": "발급일",
    "Recipient of the donation": "기부금 수령인",
    "kindcity never collects resident registration numbers. If your tax filing needs one, add it "
    "yourself or ask the issuer.":
        "이 사이트는 주민등록번호를 수집하지 않습니다. 연말정산 등에 필요하면 직접 적거나 발급 기관에 요청하세요.",
}


def _(msgid: str, **values) -> str:
    """Flask-Babel's gettext (pybabel extracts these calls as usual), with the form's Korean wording
    when the Korean catalogue lacks the msgid."""
    from .i18n import current_locale

    if current_locale() == "ko" and msgid in FORM_WORDING_KO and get_translations().gettext(msgid) == msgid:
        text = FORM_WORDING_KO[msgid]
        return text % values if values else text
    return gettext(msgid, **values)


def _won(amount: int) -> str:
    from .i18n import format_won

    sign = "-" if amount < 0 else ""
    return sign + format_won(abs(amount))


def render_pdf(receipts: list[Receipt], *, donation_type: dict[str, str] | None = None) -> bytes:
    """One page (or more, for long statements) per receipt, in the current locale."""
    from fpdf import FPDF

    from .i18n import current_locale

    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(FONT_FAMILY, "", str(FONT))
    pdf.set_lang(current_locale())
    pdf.set_creator("kindcity")
    if receipts:
        pdf.set_title(receipts[0].serial)
    for receipt in receipts:
        _draw(pdf, receipt, donation_type)
    return bytes(pdf.output())


def _heading(pdf, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT_FAMILY, size=12)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, size=10)


def _facts(pdf, rows: list[tuple[str, str]]) -> None:
    from fpdf.fonts import FontFace

    with pdf.table(col_widths=(55, 119), first_row_as_headings=False, line_height=7,
                   text_align=("LEFT", "LEFT")) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label, style=FontFace(fill_color=(240, 240, 240)))
            row.cell(value)


def _draw(pdf, receipt: Receipt, donation_type: dict[str, str] | None) -> None:
    from fpdf.fonts import FontFace

    pdf.add_page()
    pdf.set_font(FONT_FAMILY, size=20)
    title = _("Donation receipt (statement for a period)") if receipt.is_statement else _("Donation receipt")
    pdf.cell(0, 14, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, size=10)
    pdf.cell(0, 7, f"{_('Serial number')}: {receipt.serial}", align="R", new_x="LMARGIN", new_y="NEXT")

    donor = receipt.donor
    _heading(pdf, _("1. Donor"))
    rows = [(_("Name (organisation name)"), donor.name)]
    if donor.representative is not None:
        rows.append((_("Business registration number"), donor.business_number or "-"))
        rows.append((_("Representative"), donor.representative))
    else:
        rows.append((_("Resident registration number"), _("Not collected by this site")))
    _facts(pdf, rows)

    _heading(pdf, _("2. Receiving organisation (issuer)"))
    rows = [(_("Organisation name"), receipt.issuer.name)]
    if receipt.issuer.business_number:
        rows.append((_("Business registration number"), receipt.issuer.business_number))
    _facts(pdf, rows)

    _heading(pdf, _("3. Donation details"))
    rows = []
    if receipt.period is not None:
        start, end = receipt.period
        rows.append((_("Period"), _("%(start)s to %(end)s", start=start.isoformat(), end=end.isoformat())))
    if donation_type:
        rows.append((_("Type of donation"), _("%(name)s (code %(code)s)", name=donation_type["name"],
                                               code=donation_type["code"])))
    if rows:
        _facts(pdf, rows)
        pdf.ln(2)
    if receipt.lines:
        headings = FontFace(emphasis="", fill_color=(240, 240, 240))
        with pdf.table(col_widths=(26, 18, 76, 26, 28), headings_style=headings, line_height=7,
                       text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT")) as table:
            row = table.row()
            for heading in (_("Date"), _("Kind"), _("Purpose"), _("Reference"), _("Amount")):
                row.cell(heading)
            for line in receipt.lines:
                row = table.row()
                row.cell(line.day.isoformat())
                row.cell(_("Refund") if line.refund else _("Money"))
                row.cell(line.purpose if line.purpose is not None else _("Pooled fund"))
                row.cell(line.reference)
                row.cell(_won(line.amount))
            row = table.row()
            row.cell(_("Total"), colspan=4, style=FontFace(fill_color=(240, 240, 240)))
            row.cell(_won(receipt.total))
    else:
        pdf.cell(0, 8, _("No donations in this period."), new_x="LMARGIN", new_y="NEXT")
    if receipt.refunded:
        pdf.ln(2)
        pdf.multi_cell(0, 6, _("Of this pledge, %(amount)s was refunded; the statement for the period shows the "
                                "net amount.", amount=_won(receipt.refunded)), new_x="LMARGIN", new_y="NEXT")

    pdf.ln(8)
    pdf.set_font(FONT_FAMILY, size=11)
    pdf.cell(0, 8, _("We certify that we received the donation above."), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(0, 7, f"{_('Issued on')}: {receipt.issued_on.isoformat()}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, f"{_('Recipient of the donation')}: {receipt.issuer.name}", align="R",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT_FAMILY, size=8)
    pdf.multi_cell(0, 5, _("kindcity never collects resident registration numbers. If your tax filing needs one, "
                            "add it yourself or ask the issuer."), new_x="LMARGIN", new_y="NEXT")

