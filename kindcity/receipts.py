"""Donation receipts (기부금 영수증) as PDF, drawn with fpdf2 and the bundled Nanum Gothic font.

What a receipt says comes from ``kindcity.domain.receipts`` (filled by ``kindcity.services.receipts``);
this module only lays it out, in the reader's language. The words go through Flask-Babel with
English msgids like every other text. The Korean wording of the form is fixed by the tax rules
(소득세법 시행규칙 별지 제45호의2 서식), so until the Korean catalogue carries these msgids the
form's own wording, kept as data in ``kindcity/data/receipt_form.json``, is used for Korean readers: a
Korean receipt is never printed in English.
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

def _(msgid: str, **values) -> str:
    """Flask-Babel's gettext (pybabel extracts these calls as usual), with the form's Korean wording
    when the Korean catalogue lacks the msgid."""
    from .i18n import current_locale
    from .services.receipts import receipt_form

    wording = receipt_form()["wording_ko"]
    if current_locale() == "ko" and msgid in wording and get_translations().gettext(msgid) == msgid:
        text = wording[msgid]
        return text % values if values else text
    return gettext(msgid, **values)


def _won(amount: int) -> str:
    from .i18n import format_won

    sign = "-" if amount < 0 else ""
    return sign + format_won(abs(amount))


def render_pdf(receipts: list[Receipt]) -> bytes:
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
        _draw(pdf, receipt)
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


def _title(receipt: Receipt) -> str:
    if receipt.is_tax_receipt:
        return _("Donation receipt (statement for a period)") if receipt.is_statement else _("Donation receipt")
    return (_("Statement of giving for a period (not a tax receipt)") if receipt.is_statement
            else _("Statement of giving (not a tax receipt)"))


def _donor_rows(receipt: Receipt) -> list[tuple[str, str]]:
    donor = receipt.donor
    rows = [(_("Name (organisation name)"), donor.name)]
    if donor.representative is not None:
        rows.append((_("Business registration number"), donor.business_number or "-"))
        rows.append((_("Representative"), donor.representative))
    else:
        rows.append((_("Resident registration number"), donor.resident_number or _("Not given")))
    rows.append((_("Postal address"), donor.address or _("Not given")))
    return rows


def _issuer_rows(receipt: Receipt) -> list[tuple[str, str]]:
    issuer = receipt.issuer
    return [(_("Organisation name"), issuer.name),
            (_("Registration number"), issuer.business_number or "-"),
            (_("Postal address"), issuer.address or "-"),
            (_("Representative"), issuer.representative or "-"),
            (_("Contact"), issuer.contact or "-")]


def _draw_seal(pdf, seal: bytes | None) -> None:
    """The issuer's seal over its name, as on a paper receipt (checked as a PNG when uploaded)."""
    import io

    if seal:
        pdf.image(io.BytesIO(seal), x=pdf.w - pdf.r_margin - 20, y=pdf.get_y() - 12, w=18, h=18)


def _draw(pdf, receipt: Receipt) -> None:
    from fpdf.fonts import FontFace

    from .i18n import current_locale
    from .services.receipts import receipt_form

    pdf.add_page()
    if receipt.is_tax_receipt:   # the form it follows, as printed forms name it in their corner
        pdf.set_font(FONT_FAMILY, size=8)
        form = receipt_form()
        pdf.cell(0, 5, form["form_en"] if current_locale() == "en" else form["form_ko"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, size=20)
    pdf.cell(0, 14, _title(receipt), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, size=10)
    pdf.cell(0, 7, f"{_('Serial number')}: {receipt.serial}", align="R", new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, _("1. Donor"))
    _facts(pdf, _donor_rows(receipt))

    _heading(pdf, _("2. Receiving organisation (issuer)"))
    _facts(pdf, _issuer_rows(receipt))

    _heading(pdf, _("3. Donation details"))
    rows = []
    if receipt.period is not None:
        start, end = receipt.period
        rows.append((_("Period"), _("%(start)s to %(end)s", start=start.isoformat(), end=end.isoformat())))
    if receipt.gift_type is not None:
        rows.append((_("Type of donation"), _("%(name)s (code %(code)s)", name=receipt.gift_type.name,
                                               code=receipt.gift_type.code)))
        rows.append((_("Legal basis"), receipt.gift_type.basis))
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
    pdf.cell(0, 7, f"{_('Recipient of the donation')}: {receipt.issuer.name} {_('(seal)')}", align="R",
             new_x="LMARGIN", new_y="NEXT")
    _draw_seal(pdf, receipt.issuer.seal)
    if not receipt.is_tax_receipt:
        pdf.ln(6)
        pdf.set_font(FONT_FAMILY, size=8)
        pdf.multi_cell(0, 5, _("This statement lists what you gave. A tax receipt needs your resident registration "
                                "number: ask for year-end reporting on your receipts page, and your gifts reach "
                                "the NTS simplified year-end service."), new_x="LMARGIN", new_y="NEXT")

