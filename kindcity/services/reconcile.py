"""kindcity reconcile: prove every won is accounted for, and say exactly what disagrees.

Checks the invariants of docs/domain.md against the journal, which is the truth; the money columns on needs
and pledges are caches that must agree with it.

The database does the comparing: each check is one grouped query over the journal, joined to the
cached columns, that returns only the rows that disagree. Nothing loads every need, pledge or
account balance into Python, so the time grows with the journal (one pass per check) and the memory
with the number of disagreements, not with the size of the district.

``since`` (a Korea day; `kindcity reconcile --since DAY`) bounds the per-row checks to what moved from
that day on: the journal's transactions written since, and the needs and pledges they touch (or that
were created or changed since); each of those is still compared over its whole history. The
district-wide sums (cash, matching, the pooled fund) are single passes and are always checked in full.
A disagreement planted in a need or pledge that has not moved since the day is then not looked at:
the daily job runs without ``since``.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import BigInteger, String, and_, case, cast, func, literal, or_, select, true, union_all

from ..domain.ledger import CASH, POOL, Entry
from ..domain.time import SEOUL
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


def _is_kind(kind: str):
    """A line on account ``kind`` or ``kind:<id>`` (the part of the account name before the colon)."""
    return or_(LedgerLine.account == kind, LedgerLine.account.startswith(f"{kind}:"))


def _balances(*prefixes: str, ids=None):
    """Per-account balances of the accounts ``<prefix>:<id>``, grouped in the database; only those of
    ``ids`` (a subquery of ids) when given."""
    if ids is None:
        where = or_(*(LedgerLine.account.startswith(f"{prefix}:") for prefix in prefixes))
    else:
        # One IN over the union of the account names, not one IN per prefix OR-ed together: an OR of
        # subqueries is a filter the planner applies to every line of the journal, one IN is a semi-join
        # it drives through the account index.
        accounts = union_all(*(select(_account_of(prefix, ids.c.id).label("account")) for prefix in prefixes))
        where = LedgerLine.account.in_(select(accounts.subquery().c.account))
    return (select(LedgerLine.account, func.sum(LedgerLine.amount).label("total"))
            .where(where).group_by(LedgerLine.account).cte(f"balances_{'_'.join(prefixes)}"))


def _start(since: date | None) -> datetime | None:
    return datetime.combine(since, time.min, SEOUL) if since is not None else None


def _moved(model, column, since_at: datetime):
    """Ids of the needs (or pledges) the journal touched since ``since_at``, or created or changed since."""
    touched = select(column.label("id")).where(LedgerTransaction.created_at >= since_at, column.is_not(None))
    stamp = getattr(model, "updated_at", None) or model.created_at
    return touched.union(select(model.id.label("id")).where(stamp >= since_at)).subquery(f"moved_{model.__tablename__}")


def _account_of(prefix: str, id_column):
    return literal(f"{prefix}:", String) + cast(id_column, String)


def _won(expression):
    return cast(func.coalesce(expression, 0), BigInteger)


def _total(where) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerLine.amount), 0)).where(where)))


def check_journal_balanced(since: date | None = None) -> list[Discrepancy]:
    since_at = _start(since)
    lines = select(LedgerLine.transaction_id, func.sum(LedgerLine.amount))
    if since_at is not None:
        lines = lines.join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id).where(
            LedgerTransaction.created_at >= since_at)
    rows = db.session.execute(lines.group_by(LedgerLine.transaction_id).having(func.sum(LedgerLine.amount) != 0))
    found = [Discrepancy("journal_unbalanced", f"transaction {tid}", 0, int(total)) for tid, total in rows]
    empty = db.session.scalars(select(LedgerTransaction.id).where(
        ~select(LedgerLine.id).where(LedgerLine.transaction_id == LedgerTransaction.id).exists(),
        LedgerTransaction.created_at >= since_at if since_at is not None else true()))
    found += [Discrepancy("journal_empty_transaction", f"transaction {tid}", "lines", "none") for tid in empty]
    return found


def check_needs(since: date | None = None) -> list[Discrepancy]:
    since_at = _start(since)
    moved = _moved(Need, LedgerTransaction.need_id, since_at) if since_at is not None else None
    balances = _balances("need", "spent", "hold", ids=moved)
    on_need, on_spent, on_hold = (balances.alias(name) for name in ("on_need", "on_spent", "on_hold"))
    # need:<id> holds what was placed on the need (net of money taken back); a disbursement
    # (Dr spent:<id>, Cr cash) leaves it alone, so what is still held is placed - spent.
    placed, spent, hold = _won(-on_need.c.total), _won(on_spent.c.total), _won(-on_hold.c.total)
    rows = db.session.execute(
        select(Need.id, Need.target, Need.reserved, Need.confirmed, placed.label("placed"),
               spent.label("spent"), hold.label("hold"))
        .outerjoin(on_need, on_need.c.account == _account_of("need", Need.id))
        .outerjoin(on_spent, on_spent.c.account == _account_of("spent", Need.id))
        .outerjoin(on_hold, on_hold.c.account == _account_of("hold", Need.id))
        .where(or_(Need.reserved + Need.confirmed > Need.target, Need.confirmed != placed,
                   Need.reserved != hold, placed - spent < 0),
               Need.id.in_(select(moved.c.id)) if moved is not None else true())
        .order_by(Need.id))
    found = []
    for need in rows:
        held, spent_won, hold_won = int(need.placed) - int(need.spent), int(need.spent), int(need.hold)
        if need.reserved + need.confirmed > need.target:
            found.append(Discrepancy("need_over_target", f"need {need.id}", f"<= {need.target}",
                                     need.reserved + need.confirmed))
        if need.confirmed != held + spent_won:
            found.append(Discrepancy("need_confirmed_vs_journal", f"need {need.id} (confirmed = disbursed + held)",
                                     held + spent_won, need.confirmed))
        if need.reserved != hold_won:
            found.append(Discrepancy("need_reserved_vs_journal", f"need {need.id}", hold_won, need.reserved))
        if held < 0:
            found.append(Discrepancy("need_negative_balance", f"need {need.id}", ">= 0", held))
    return found


def check_pledges(since: date | None = None) -> list[Discrepancy]:
    since_at = _start(since)
    moved = _moved(Pledge, LedgerTransaction.pledge_id, since_at) if since_at is not None else None
    only = (lambda column: column.in_(select(moved.c.id))) if moved is not None else (lambda column: true())  # noqa: E731
    line, amount = LedgerLine, LedgerLine.amount
    journal = (
        select(LedgerTransaction.pledge_id,
               func.sum(case((and_(LedgerTransaction.entry == Entry.RECEIVED.value, _is_kind(CASH)), amount),
                             else_=0)).label("received"),
               func.sum(case((and_(LedgerTransaction.entry == Entry.REFUNDED.value, _is_kind(CASH)), -amount),
                             else_=0)).label("refunded"),
               func.sum(case((_is_kind("need"), -amount), else_=0)).label("on_needs"),
               func.sum(case((_is_kind("pool"), -amount), else_=0)).label("pooled"))
        .join(line, line.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.pledge_id.is_not(None), only(LedgerTransaction.pledge_id))
        .group_by(LedgerTransaction.pledge_id).cte("pledge_journal"))
    balances = _balances("pledge", "promise", ids=moved)
    on_pledge, on_promise = balances.alias("on_pledge"), balances.alias("on_promise")
    payments = (select(Payment.pledge_id, func.sum(Payment.amount).label("total")).where(only(Payment.pledge_id))
                .group_by(Payment.pledge_id).cte("pledge_payments"))
    refunds = (select(Refund.pledge_id,
                      func.sum(case((Refund.status == "done", Refund.amount), else_=0)).label("done"),
                      func.sum(case((Refund.status != "done", Refund.amount), else_=0)).label("open"))
               .where(only(Refund.pledge_id)).group_by(Refund.pledge_id).cte("pledge_refunds"))
    received, refunded = _won(journal.c.received), _won(journal.c.refunded)
    on_needs, pooled = _won(journal.c.on_needs), _won(journal.c.pooled)
    unallocated, promised = _won(-on_pledge.c.total), _won(on_promise.c.total)
    paid_in, refunds_done, refunds_open = _won(payments.c.total), _won(refunds.c.done), _won(refunds.c.open)
    rows = db.session.execute(
        select(Pledge.id, Pledge.reference, Pledge.kind, Pledge.amount, Pledge.paid, Pledge.held,
               received.label("received"), refunded.label("refunded"), on_needs.label("on_needs"),
               pooled.label("pooled"), unallocated.label("unallocated"), promised.label("promised"),
               paid_in.label("payments"), refunds_done.label("refunds_done"), refunds_open.label("refunds_open"))
        .outerjoin(journal, journal.c.pledge_id == Pledge.id)
        .outerjoin(on_pledge, on_pledge.c.account == _account_of("pledge", Pledge.id))
        .outerjoin(on_promise, on_promise.c.account == _account_of("promise", Pledge.id))
        .outerjoin(payments, payments.c.pledge_id == Pledge.id)
        .outerjoin(refunds, refunds.c.pledge_id == Pledge.id)
        .where(or_(received != on_needs + pooled + unallocated + refunded, Pledge.paid != received,
                   paid_in != received, refunds_done != refunded, Pledge.held != promised, unallocated < 0,
                   and_(Pledge.kind == "direct", on_needs > Pledge.amount),
                   and_(refunds_open > unallocated, refunds_open > 0)), only(Pledge.id))
        .order_by(Pledge.id))
    found = []
    for row in rows:
        subject = f"pledge {row.id} ({row.reference})"
        received, refunded, on_needs, pooled, unallocated, promised, paid_in, refunds_done, refunds_open = (
            int(value) for value in (row.received, row.refunded, row.on_needs, row.pooled, row.unallocated,
                                     row.promised, row.payments, row.refunds_done, row.refunds_open))
        if received != on_needs + pooled + unallocated + refunded:
            found.append(Discrepancy("pledge_received_split", f"{subject} (received = allocated + unallocated + refunded)",
                                     received, on_needs + pooled + unallocated + refunded))
        if row.paid != received:
            found.append(Discrepancy("pledge_paid_vs_journal", subject, received, row.paid))
        if paid_in != received:
            found.append(Discrepancy("pledge_payments_vs_journal", subject, received, paid_in))
        if refunds_done != refunded:
            found.append(Discrepancy("pledge_refunds_vs_journal", subject, refunded, refunds_done))
        if row.held != promised:
            found.append(Discrepancy("pledge_held_vs_journal", subject, promised, row.held))
        if unallocated < 0:
            found.append(Discrepancy("pledge_overspent", subject, ">= 0", unallocated))
        if row.kind == "direct" and on_needs > row.amount:
            found.append(Discrepancy("pledge_gave_more_than_promised", subject, f"<= {row.amount}", on_needs))
        if refunds_open > max(unallocated, 0):
            found.append(Discrepancy("pledge_refund_exceeds_money", subject, f"<= {unallocated}", refunds_open))
    return found


def check_cash() -> list[Discrepancy]:
    payments = int(db.session.scalar(select(func.coalesce(func.sum(Payment.amount), 0))))
    refunds = int(db.session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.status == "done")))
    spent = _total(LedgerLine.account.startswith("spent:"))
    cash = _total(LedgerLine.account == CASH)
    expected = payments - refunds - spent
    if cash != expected:
        return [Discrepancy("cash_vs_payments", "cash (payments - refunds - disbursements)", expected, cash)]
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


def check_district_fund() -> list[Discrepancy]:
    """The district's pooled fund (구 나눔 기금): never overdrawn; what it placed agrees with the
    placements that name whose money it was; every won in it belongs to a donor's pledge; and no need
    holds less than nothing of it."""
    from ..models import MatchAllocation
    from .matching import district_sources

    found = []
    balance = -int(db.session.scalar(select(func.coalesce(func.sum(LedgerLine.amount), 0))
                                     .where(LedgerLine.account == POOL)))
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


def reconcile(since: date | None = None) -> list[Discrepancy]:
    """Every check; ``since`` bounds the per-row ones to what moved from that Korea day on (module docstring)."""
    return (check_journal_balanced(since) + check_needs(since) + check_pledges(since) + check_cash()
            + check_matching() + check_district_fund())
