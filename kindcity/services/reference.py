"""Loading a district's reference data (dongs, categories, groups, centres) from its data file."""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

from sqlalchemy import inspect, select

from ..extensions import db
from ..models import BeneficiaryGroup, Category, Centre, District, Dong, ReceivingOrganisation


def load_district_data(code: str) -> dict[str, Any]:
    path = resources.files("kindcity.data.districts").joinpath(f"{code}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _upsert(model, code: str, **values):
    row = db.session.scalar(select(model).where(model.code == code))
    if row is None:
        row = model(code=code, **values)
        db.session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    return row


def seed_district(code: str) -> District:
    """Idempotent: running it again updates names and adds what is new, never duplicates."""
    data = load_district_data(code)
    district = _upsert(District, data["code"], **{k: data[k] for k in (
        "name_ko", "name_en", "brand_ko", "brand_en", "receiving_org_ko", "receiving_org_en",
        "bank_name", "bank_account", "bank_holder")})
    dongs = {}
    for item in data["dongs"]:
        dongs[item["code"]] = _upsert(Dong, item["code"], name_ko=item["name_ko"],
                                      name_en=item["name_en"], sort=item["sort"])
    for item in data["categories"]:
        _upsert(Category, item["code"], name_ko=item["name_ko"], name_en=item["name_en"], sort=item["sort"])
    for item in data["groups"]:
        _upsert(BeneficiaryGroup, item["code"], name_ko=item["name_ko"], name_en=item["name_en"],
                sort=item["sort"])
    db.session.flush()
    for item in data["centres"]:
        dong = dongs.get(item["dong"]) if item["dong"] else None
        _upsert(Centre, item["code"], name_ko=item["name_ko"], name_en=item["name_en"],
                is_district_office=item["is_district_office"], dong_id=dong.id if dong else None)
    for item in data.get("receiving_organisations", []):
        # Only a new record takes the file's values: admins keep an existing one current on its page.
        if db.session.scalar(select(ReceivingOrganisation.id).where(ReceivingOrganisation.code == item["code"])):
            continue
        db.session.add(ReceivingOrganisation(
            code=item["code"], name_ko=item["name_ko"], name_en=item["name_en"],
            registration_number=item["registration_number"], address=item["address"],
            representative=item["representative"], gift_type=item["gift_type"], contact=item["contact"],
            is_default=item.get("default", False)))
    db.session.flush()
    return district


def current_district() -> District | None:
    return db.session.scalar(select(District).order_by(District.id).limit(1))


def district_brand() -> str:
    """The district's own name for the site in Korean ("착한 도시 서구"), which opens every text message."""
    district = current_district()
    return (district.brand_ko or district.name_ko) if district is not None else ""


_LISTS = "kindcity.reference_lists"


def reference_lists():
    """Dongs, categories and groups in display order, for forms and filters.

    Read once per database transaction: the rows stay in the session, so a need's ``category``,
    ``dong`` and ``group`` (loaded lazily by lists of needs: services/needs.py) are found there
    without a query. A commit expires them, and the next call reads them again."""
    session = db.session()
    memo = session.info.get(_LISTS)
    if memo is not None and memo[0] is session.get_transaction() and all(
            not rows or (inspect(rows[0]).session is session and not inspect(rows[0]).expired_attributes)
            for rows in memo[1]):
        return memo[1]
    lists = (
        session.scalars(select(Dong).order_by(Dong.sort, Dong.id)).all(),
        session.scalars(select(Category).order_by(Category.sort, Category.id)).all(),
        session.scalars(select(BeneficiaryGroup).order_by(BeneficiaryGroup.sort, BeneficiaryGroup.id)).all(),
    )
    session.info[_LISTS] = (session.get_transaction(), lists)
    return lists
