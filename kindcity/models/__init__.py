"""SQLAlchemy models: the persistent shape of the domain. No business rules live here."""
from .accounts import LoginAttempt, Organisation, Role, User
from .audit import AuditEntry
from .needs import Need
from .places import BeneficiaryGroup, Category, Centre, District, Dong

__all__ = [
    "AuditEntry",
    "BeneficiaryGroup",
    "Category",
    "Centre",
    "District",
    "Dong",
    "LoginAttempt",
    "Need",
    "Organisation",
    "Role",
    "User",
]
