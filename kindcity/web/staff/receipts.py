"""Year-end reporting for the receiving organisation's staff: per organisation and tax year, the file
of reporting donors for the NTS (docs/receipts.md says which format). Routes on the staff blueprint;
the export is audited and every donor's number read is in the access log."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, render_template, request
from flask_login import current_user

from ...domain.time import seoul_today
from ...services import Forbidden, NotFound
from ...services import receiving_orgs as receiving_org_service
from ...services import tax_details
from ..access import current_actor
from ..caching import NO_STORE
from ..unit_of_work import unit_of_work
from . import bp


@bp.get("/receipts")
def receipts_reporting():
    if not tax_details.may_export(current_user):
        abort(403)
    return render_template("staff/receipts.html", organisations=receiving_org_service.all_organisations(),
                           years=tax_details.export_years(seoul_today()),
                           available=tax_details.reporting_available())


@bp.get("/receipts/nts-export.csv")
def nts_export():
    try:
        org_id, year = int(request.args["org"]), int(request.args["year"])
    except (KeyError, ValueError):
        abort(400)
    if year not in tax_details.export_years(seoul_today()):
        abort(400)
    with unit_of_work(flash_refusal=False):
        try:
            rows = tax_details.nts_export(current_actor(), org_id, year)
        except Forbidden:
            abort(403)
        except NotFound:
            abort(404)
        except tax_details.TaxDetailsError:
            abort(409)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(tax_details.EXPORT_COLUMNS)
    writer.writerows(rows)
    # UTF-8 with a byte order mark: Excel (and HomeTax's spreadsheet upload) reads the Korean as Korean.
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="kindcity-nts-{year}-{org_id}.csv"',
        "Cache-Control": NO_STORE})
