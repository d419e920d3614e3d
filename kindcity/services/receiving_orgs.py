"""Receiving organisations (기부금 단체): admins keep them; each need picks one; receipts are issued
in its name. Every change is in the audit log (the seal as its size only, never its bytes)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..domain.receipts import RegistrationNumberError, registration_number
from ..extensions import db
from ..models import ReceivingOrganisation
from . import Actor, ServiceError
from .audit import record
from .receipts import receipt_form

MAX_SEAL_BYTES = 512 * 1024


class OrganisationInputError(ServiceError):
    code = "organisation_invalid"


@dataclass(frozen=True)
class OrganisationInput:
    code: str
    name_ko: str
    name_en: str
    registration_number: str
    address: str
    representative: str
    gift_type: str
    contact: str
    active: bool = True
    is_default: bool = False
    seal_png: bytes | None = None   # None keeps the current seal


def all_organisations() -> list[ReceivingOrganisation]:
    return list(db.session.scalars(select(ReceivingOrganisation)
                                   .order_by(ReceivingOrganisation.active.desc(), ReceivingOrganisation.name_ko)))


def choosable(current_id: int | None = None) -> list[ReceivingOrganisation]:
    """What a need may pick: the active organisations, and the one it already has."""
    query = select(ReceivingOrganisation).order_by(ReceivingOrganisation.is_default.desc(),
                                                   ReceivingOrganisation.name_ko)
    return [org for org in db.session.scalars(query) if org.active or org.id == current_id]


def _check_seal(data: bytes) -> None:
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_SEAL_BYTES:
        raise OrganisationInputError("seal_too_large")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise OrganisationInputError("seal_not_png")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise OrganisationInputError("seal_not_png") from error


def _snapshot(org: ReceivingOrganisation) -> dict[str, Any]:
    return {"code": org.code, "name_ko": org.name_ko, "name_en": org.name_en,
            "registration_number": org.registration_number, "address": org.address,
            "representative": org.representative, "gift_type": org.gift_type, "contact": org.contact,
            "active": org.active, "is_default": org.is_default,
            "seal_bytes": len(org.seal_png) if org.seal_png else 0}


def save(actor: Actor, org_id: int | None, data: OrganisationInput) -> ReceivingOrganisation:
    """Create (``org_id`` None) or update an organisation. One default at a time: the issuer for
    pooled money; the default cannot be retired."""
    if not data.name_ko.strip() or not data.address.strip() or not data.representative.strip():
        raise OrganisationInputError("organisation_incomplete")
    try:
        number = registration_number(data.registration_number)
    except RegistrationNumberError as error:
        raise OrganisationInputError("registration_number_invalid") from error
    if data.gift_type not in {item["key"] for item in receipt_form()["gift_types"]}:
        raise OrganisationInputError("gift_type_unknown")
    if data.is_default and not data.active:
        raise OrganisationInputError("default_must_be_active")
    if data.seal_png is not None:
        _check_seal(data.seal_png)
    if org_id is None:
        if db.session.scalar(select(ReceivingOrganisation.id).where(ReceivingOrganisation.code == data.code)):
            raise OrganisationInputError("organisation_code_taken")
        org, before = ReceivingOrganisation(code=data.code), None
        db.session.add(org)
    else:
        org = db.session.get(ReceivingOrganisation, org_id)
        if org is None:
            raise OrganisationInputError("organisation_unknown")
        before = _snapshot(org)
        if org.is_default and not data.is_default:
            raise OrganisationInputError("default_needed")
    org.name_ko, org.name_en = data.name_ko.strip(), data.name_en.strip()
    org.registration_number, org.address = number, data.address.strip()
    org.representative, org.gift_type, org.contact = data.representative.strip(), data.gift_type, data.contact.strip()
    org.active = data.active
    if data.seal_png is not None:
        org.seal_png = data.seal_png
    if data.is_default and not org.is_default:
        for other in db.session.scalars(select(ReceivingOrganisation).where(ReceivingOrganisation.is_default)):
            other.is_default = False
        org.is_default = True
    db.session.flush()
    record(actor, "receiving_org.save", "receiving_org", org.id, before=before, after=_snapshot(org))
    return org
