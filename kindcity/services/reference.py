"""Loading a district's reference data (dongs, categories, groups, centres) from its data file."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from time import monotonic
from typing import Any

from sqlalchemy import literal, select, union_all

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


def reference_lists():
    """Dongs, categories and groups in display order, as ORM rows, for forms and filters."""
    return (
        db.session.scalars(select(Dong).order_by(Dong.sort, Dong.id)).all(),
        db.session.scalars(select(Category).order_by(Category.sort, Category.id)).all(),
        db.session.scalars(select(BeneficiaryGroup).order_by(BeneficiaryGroup.sort, BeneficiaryGroup.id)).all(),
    )


# --- the district's reference data as values, kept per process --------------------------------

@dataclass(frozen=True)
class Place:
    """A dong, category or beneficiary group as plain values, safe to share between requests."""

    id: int
    code: str
    name_ko: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_ko


@dataclass(frozen=True)
class DistrictFacts(Place):
    """The district's row as plain values (what every page's header and the payment pages read)."""

    brand_ko: str
    brand_en: str
    receiving_org_ko: str
    receiving_org_en: str
    bank_name: str
    bank_account: str
    bank_holder: str


@dataclass(frozen=True)
class Reference:
    """The district and its dongs, categories and groups in display order (two statements)."""

    district: DistrictFacts | None
    dongs: tuple[Place, ...]
    categories: tuple[Place, ...]
    groups: tuple[Place, ...]
    read_at: float = 0.0
    _by_id: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        for kind in ("dongs", "categories", "groups"):
            self._by_id[kind] = {place.id: place for place in getattr(self, kind)}

    def dong(self, dong_id: int) -> Place:
        return self._by_id["dongs"][dong_id]

    def category(self, category_id: int) -> Place:
        return self._by_id["categories"][category_id]

    def group(self, group_id: int) -> Place:
        return self._by_id["groups"][group_id]


def _read_reference() -> Reference:
    places = {"dongs": [], "categories": [], "groups": []}
    columns = lambda model, kind: select(literal(kind).label("kind"), model.id, model.code, model.name_ko,  # noqa: E731
                                         model.name_en, model.sort)
    rows = db.session.execute(union_all(columns(Dong, "dongs"), columns(Category, "categories"),
                                        columns(BeneficiaryGroup, "groups"))).all()
    for row in sorted(rows, key=lambda r: (r.kind, r.sort, r.id)):
        places[row.kind].append(Place(row.id, row.code, row.name_ko, row.name_en))
    district = current_district()
    facts = DistrictFacts(**{name: getattr(district, name) for name in DistrictFacts.__dataclass_fields__}) \
        if district is not None else None
    return Reference(facts, tuple(places["dongs"]), tuple(places["categories"]), tuple(places["groups"]),
                     read_at=monotonic())


def reference(max_age: float | None = None) -> Reference:
    """The district's reference data, kept by each process for ``KINDCITY_REFERENCE_SECONDS``.

    It is written only when a district is seeded (``kindcity seed``, a deployment step), so
    public pages need not read it on every request (two statements a page, and the ORM rows they
    made, were a fifth of a list page's time). A re-seed shows within that many seconds; with 0 (the
    default outside production) it is read once per request (or command)."""
    from flask import current_app, g

    if max_age is None:
        max_age = current_app.config.get("KINDCITY_REFERENCE_SECONDS", 0)
    if max_age <= 0:
        if _REFERENCE not in g:
            setattr(g, _REFERENCE, _read_reference())
        return getattr(g, _REFERENCE)
    held = current_app.extensions.get(_REFERENCE)
    if held is None or monotonic() - held.read_at >= max_age:
        held = current_app.extensions[_REFERENCE] = _read_reference()
    return held


_REFERENCE = "kindcity_reference"
