"""SQLAlchemy models: the persistent shape of the domain. No business rules live here."""
from .accounts import LoginAttempt, Organisation, PasswordResetRequest, Role, User
from .access_log import AccessRecord
from .audit import AuditEntry
from .figures import DistrictFigures
from .form_tokens import FormToken
from .jobs import JobError, OutgoingMail
from .kr_payments import KrBillingKey, KrPayment, RefundBankAccount
from .impact import Disbursement, ImpactReport, LeftoverReturn, ReportPhoto
from .matching import MatchAllocation, MatchingSettings, MatchOfferTerms, MatchRun, PooledSeries, PooledTerms
from .money import BankTransaction, LedgerLine, LedgerTransaction, Payment, Pledge, Refund, StatementImport
from .needs import Need, NeedContribution
from .places import BeneficiaryGroup, Category, Centre, District, Dong
from .provider_events import ProviderEvent
from .receipts import DonorTaxDetails, ReceivingOrganisation
from .referrals import Referral, ReferralNote
from .texts import DonorContact, SentText, TextCase, TextMessage, TextSender, WebhookNonce

__all__ = [
    "DistrictFigures",
    "AccessRecord",
    "DonorContact",
    "SentText",
    "TextCase",
    "TextMessage",
    "TextSender",
    "WebhookNonce",
    "JobError",
    "OutgoingMail",
    "AuditEntry",
    "BankTransaction",
    "DonorTaxDetails",
    "Disbursement",
    "FormToken",
    "ImpactReport",
    "KrBillingKey",
    "KrPayment",
    "RefundBankAccount",
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
    "NeedContribution",
    "Organisation",
    "PasswordResetRequest",
    "ProviderEvent",
    "ReceivingOrganisation",
    "Referral",
    "ReferralNote",
    "Role",
    "User",
]
