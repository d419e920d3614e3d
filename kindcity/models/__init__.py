"""SQLAlchemy models: the persistent shape of the domain. No business rules live here."""
from .accounts import LoginAttempt, Organisation, PasswordResetRequest, Role, User
from .access_log import AccessRecord
from .audit import AuditEntry
from .jobs import JobError, OutgoingMail
from .impact import Disbursement, ImpactReport, LeftoverReturn, ReportPhoto
from .matching import MatchAllocation, MatchingSettings, MatchOfferTerms, MatchRun, PooledSeries, PooledTerms
from .money import BankTransaction, LedgerLine, LedgerTransaction, Payment, Pledge, Refund, StatementImport
from .needs import Need
from .places import BeneficiaryGroup, Category, Centre, District, Dong
from .provider_events import ProviderEvent
from .receipts import DonorTaxDetails, ReceivingOrganisation
from .referrals import Referral, ReferralNote

__all__ = [
    "AccessRecord",
    "JobError",
    "OutgoingMail",
    "AuditEntry",
    "BankTransaction",
    "DonorTaxDetails",
    "Disbursement",
    "ImpactReport",
    "LeftoverReturn",
    "ReportPhoto",
    "LedgerLine",
    "MatchAllocation",
    "MatchingSettings",
    "MatchOfferTerms",
    "MatchRun",
    "PooledSeries",
    "PooledTerms",
    "LedgerTransaction",
    "Payment",
    "Pledge",
    "Refund",
    "StatementImport",
    "BeneficiaryGroup",
    "Category",
    "Centre",
    "District",
    "Dong",
    "LoginAttempt",
    "Need",
    "Organisation",
    "PasswordResetRequest",
    "ProviderEvent",
    "ReceivingOrganisation",
    "Referral",
    "ReferralNote",
    "Role",
    "User",
]
