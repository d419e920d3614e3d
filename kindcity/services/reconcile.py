"""kindcity reconcile: prove every won is accounted for, and say exactly what disagrees.

Checks DOMAIN.md's invariants against the journal, which is the truth; the money columns on needs
and pledges are caches that must agree with it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from ..domain.ledger import POOL, Entry
from ..extensions import db
from ..models import LedgerLine, LedgerTransaction, Need, Payment, Pledge, Refund


@dataclass(frozen=True)
class Discrepancy:
    check: str
    subject: str
    expected: int | str
    actual: int | str

    def __str__(self) -> str:
        return f"{self.check}: {self.subject}: expected {self.expected}, found {self.actual}"


def _account_balances() -> dict[str, int]:
    rows = db.session.execute(select(LedgerLine.account, func.sum(LedgerLine.amount)).group_by(LedgerLine.account))
    return {account: int(total) for account, total in rows}


def _entry_sums() -> dict[tuple[str, int | None, str], int]:
    """(entry, pledge_id, account kind) -> sum of lines, for per-pledge arithmetic."""
    rows = db.session.execute(
        select(LedgerTransaction.entry, LedgerTransaction.pledge_id, LedgerLine.account, func.sum(LedgerLine.amount))
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.entry, LedgerTransaction.pledge_id, LedgerLine.account))
    sums: dict[tuple[str, int | None, str], int] = defaultdict(int)
    for entry, pledge_id, account, total in rows:
        sums[(entry, pledge_id, account.split(":")[0])] += int(total)
    return sums


def check_journal_balanced() -> list[Discrepancy]:
    rows = db.session.execute(
        select(LedgerLine.transaction_id, func.sum(LedgerLine.amount))
        .group_by(LedgerLine.transaction_id).having(func.sum(LedgerLine.amount) != 0))
    found = [Discrepancy("journal_unbalanced", f"transaction {tid}", 0, int(total)) for tid, total in rows]
    empty = db.session.scalars(select(LedgerTransaction.id).where(
        ~select(LedgerLine.id).where(LedgerLine.transaction_id == LedgerTransaction.id).exists()))
    found += [Discrepancy("journal_empty_transaction", f"transaction {tid}", "lines", "none") for tid in empty]
    return found


def check_needs(balances: dict[str, int]) -> list[Discrepancy]:
    found = []
    for need in db.session.scalars(select(Need).order_by(Need.id)):
        if need.reserved + need.confirmed > need.target:
            found.append(Discrepancy("need_over_target", f"need {need.id}", f"<= {need.target}",
                                     need.reserved + need.confirmed))
        # need:<id> holds what was placed on the need (net of money taken back); a disbursement
        # (Dr spent:<id>, Cr cash) leaves it alone, so what is still held is placed - spent.
        spent = balances.get(f"spent:{need.id}", 0)
        held = -balances.get(f"need:{need.id}", 0) - spent
        hold = -balances.get(f"hold:{need.id}", 0)
        if need.confirmed != held + spent:
            found.append(Discrepancy("need_confirmed_vs_journal", f"need {need.id} (confirmed = disbursed + held)",
                                     held + spent, need.confirmed))
        if need.reserved != hold:
            found.append(Discrepancy("need_reserved_vs_journal", f"need {need.id}", hold, need.reserved))
        if held < 0:
            found.append(Discrepancy("need_negative_balance", f"need {need.id}", ">= 0", held))
    return found


def _sums_by_pledge(query) -> dict[int, int]:
    return {pledge_id: int(total) for pledge_id, total in db.session.execute(query)}


def check_pledges(balances: dict[str, int]) -> list[Discrepancy]:
    sums = _entry_sums()
    payments = _sums_by_pledge(select(Payment.pledge_id, func.sum(Payment.amount)).group_by(Payment.pledge_id))
    refunds_done = _sums_by_pledge(select(Refund.pledge_id, func.sum(Refund.amount))
                                   .where(Refund.status == "done").group_by(Refund.pledge_id))
    refunds_open = _sums_by_pledge(select(Refund.pledge_id, func.sum(Refund.amount))
                                   .where(Refund.status != "done").group_by(Refund.pledge_id))
    found = []
    for pledge in db.session.scalars(select(Pledge).order_by(Pledge.id)):
        pid, subject = pledge.id, f"pledge {pledge.id} ({pledge.reference})"
        received = sums.get((Entry.RECEIVED, pid, "cash"), 0)
        refunded = -sums.get((Entry.REFUNDED, pid, "cash"), 0)
        on_needs = -sum(total for (entry, p, kind), total in sums.items() if p == pid and kind == "need")
        pooled = -sum(total for (entry, p, kind), total in sums.items() if p == pid and kind == "pool")
        unallocated = -balances.get(f"pledge:{pid}", 0)
        if received != on_needs + pooled + unallocated + refunded:
            found.append(Discrepancy("pledge_received_split", f"{subject} (received = allocated + unallocated + refunded)",
                                     received, on_needs + pooled + unallocated + refunded))
        if pledge.paid != received:
            found.append(Discrepancy("pledge_paid_vs_journal", subject, received, pledge.paid))
        if int(payments.get(pid, 0)) != received:
            found.append(Discrepancy("pledge_payments_vs_journal", subject, received, int(payments.get(pid, 0))))
        if int(refunds_done.get(pid, 0)) != refunded:
            found.append(Discrepancy("pledge_refunds_vs_journal", subject, refunded, int(refunds_done.get(pid, 0))))
        if pledge.held != balances.get(f"promise:{pid}", 0):
            found.append(Discrepancy("pledge_held_vs_journal", subject, balances.get(f"promise:{pid}", 0), pledge.held))
        if unallocated < 0:
            found.append(Discrepancy("pledge_overspent", subject, ">= 0", unallocated))
        if pledge.kind == "direct" and on_needs > pledge.amount:
            found.append(Discrepancy("pledge_gave_more_than_promised", subject, f"<= {pledge.amount}", on_needs))
        if int(refunds_open.get(pid, 0)) > max(unallocated, 0):
            found.append(Discrepancy("pledge_refund_exceeds_money", subject, f"<= {unallocated}",
                                     int(refunds_open.get(pid, 0))))
    return found


def check_cash(balances: dict[str, int]) -> list[Discrepancy]:
    payments = int(db.session.scalar(select(func.coalesce(func.sum(Payment.amount), 0))))
    refunds = int(db.session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.status == "done")))
    spent = sum(total for account, total in balances.items() if account.startswith("spent:"))
    expected = payments - refunds - spent
    if balances.get("cash", 0) != expected:
        return [Discrepancy("cash_vs_payments", "cash (payments - refunds - disbursements)", expected,
                            balances.get("cash", 0))]
    return []


def check_matching() -> list[Discrepancy]:
    """Invariant 2 for pooled pledges (criteria and cap per need) and match offers (cap); and the
    placements that carry reasons agree with the journal's allocations."""
    from ..models import BeneficiaryGroup, Category, Dong, MatchAllocation, MatchOfferTerms, PooledTerms

    on_needs = db.session.execute(
        select(LedgerTransaction.pledge_id, Pledge.kind, LedgerLine.account, func.sum(LedgerLine.amount))
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .join(Pledge, Pledge.id == LedgerTransaction.pledge_id)
        .where(Pledge.kind.in_(["pooled", "match"]), LedgerLine.account.startswith("need:"))
        .group_by(LedgerTransaction.pledge_id, Pledge.kind, LedgerLine.account)).all()
    needs = {row.id: row for row in db.session.execute(
        select(Need.id, Need.target, Category.code.label("category"), Dong.code.label("dong"),
               BeneficiaryGroup.code.label("grp"))
        .join(Category, Category.id == Need.category_id).join(Dong, Dong.id == Need.dong_id)
        .join(BeneficiaryGroup, BeneficiaryGroup.id == Need.group_id)
        .where(Need.id.in_(select(MatchAllocation.need_id))))}
    pooled = {t.pledge_id: t for t in db.session.scalars(select(PooledTerms))}
    offers = {t.pledge_id: t for t in db.session.scalars(select(MatchOfferTerms))}
    found, offer_net = [], defaultdict(int)
    for pledge_id, kind, account, total in on_needs:
        need_id, placed = int(account.split(":")[1]), -int(total)
        if kind == "match":
            offer_net[pledge_id] += placed
            continue
        terms, need = pooled.get(pledge_id), needs.get(need_id)
        if placed <= 0 or terms is None or need is None:
            continue
        subject = f"pledge {pledge_id} on need {need_id}"
        if not ((not terms.categories or need.category in terms.categories)
                and (not terms.dongs or need.dong in terms.dongs) and (not terms.groups or need.grp in terms.groups)):
            found.append(Discrepancy("pooled_outside_criteria", subject, "criteria accept the need", placed))
        cap = min(c for c in (terms.cap_won, need.target * (terms.cap_percent or 0) // 100 if terms.cap_percent
                              else None, need.target) if c is not None)
        if placed > cap:
            found.append(Discrepancy("pooled_over_cap_per_need", subject, f"<= {cap}", placed))
    for pledge_id, terms in offers.items():
        subject = f"match offer {pledge_id}"
        if terms.matched != offer_net.get(pledge_id, 0):
            found.append(Discrepancy("offer_matched_vs_journal", subject, offer_net.get(pledge_id, 0), terms.matched))
        if offer_net.get(pledge_id, 0) > terms.cap:
            found.append(Discrepancy("offer_over_cap", subject, f"<= {terms.cap}", offer_net.get(pledge_id, 0)))
    placements = dict(db.session.execute(select(MatchAllocation.pledge_id, func.sum(MatchAllocation.amount))
                                         .where(MatchAllocation.source != "fund")
                                         .group_by(MatchAllocation.pledge_id)).all())
    allocated = dict(db.session.execute(
        select(LedgerTransaction.pledge_id, func.sum(LedgerLine.amount))
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .join(Pledge, Pledge.id == LedgerTransaction.pledge_id)
        .where(LedgerTransaction.entry == Entry.ALLOCATED, Pledge.kind.in_(["pooled", "match"]),
               LedgerLine.account.startswith("need:"))
        .group_by(LedgerTransaction.pledge_id)).all())
    for pledge_id in sorted(set(placements) | set(allocated)):
        if int(placements.get(pledge_id, 0)) != -int(allocated.get(pledge_id, 0)):
            found.append(Discrepancy("placements_vs_journal", f"pledge {pledge_id} (placements with reasons)",
                                     -int(allocated.get(pledge_id, 0)), int(placements.get(pledge_id, 0))))
    return found


def check_district_fund(balances: dict[str, int]) -> list[Discrepancy]:
    """The district's pooled fund (구 나눔 기금): never overdrawn; what it placed agrees with the
    placements that name whose money it was; every won in it belongs to a donor's pledge; and no need
    holds less than nothing of it."""
    from ..models import MatchAllocation
    from .matching import district_sources

    found = []
    balance = -balances.get(POOL, 0)
    if balance < 0:
        found.append(Discrepancy("fund_overdrawn", "district pooled fund", ">= 0", balance))
    placed = -int(db.session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .where(LedgerTransaction.entry == Entry.POOL_ALLOCATED, LedgerLine.account.startswith("need:"))))
    named = int(db.session.scalar(select(func.coalesce(func.sum(MatchAllocation.amount), 0))
                                  .where(MatchAllocation.source == "fund")))
    if placed != named:
        found.append(Discrepancy("fund_placements_vs_journal", "district pooled fund (placements with reasons)",
                                 placed, named))
    owned = sum(won for _, won in district_sources())
    if owned != balance:
        found.append(Discrepancy("fund_sources_vs_balance", "district pooled fund (won of each donor's pledge in it)",
                                 balance, owned))
    per_need = db.session.execute(
        select(LedgerLine.account, func.sum(LedgerLine.amount))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
        .where(LedgerTransaction.entry.in_([Entry.POOL_ALLOCATED, Entry.POOL_RETURNED]),
               LedgerLine.account.startswith("need:"))
        .group_by(LedgerLine.account)).all()
    for account, total in per_need:
        if -int(total) < 0:
            found.append(Discrepancy("fund_negative_on_need", f"{account} (district pooled fund)", ">= 0", -int(total)))
    return found


def reconcile() -> list[Discrepancy]:
    balances = _account_balances()
    return (check_journal_balanced() + check_needs(balances) + check_pledges(balances) + check_cash(balances)
            + check_matching() + check_district_fund(balances))
