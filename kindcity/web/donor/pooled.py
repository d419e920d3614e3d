"""Donors' pooled pledges (나눔 기금) and sponsors' match offers (매칭 기부): routes added to the donor
blueprint. Creating one (paid by bank transfer or by card, like a direct pledge; a pooled pledge may
recur every month or quarter), reading every allocation with its reason and what is still unplaced,
pausing and ending, and stopping a recurring series.

The engine writes its reasons in English with a ``reason_code``; :func:`reason_text` says them in the
reader's language from the code, the need's days to its deadline and the pledge's criteria.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ... import payments
from ...domain.matching import REASON_COMPLETES, REASON_COMPLETES_URGENT, REASON_PARTIAL
from ...domain.time import seoul_today
from ...extensions import db
from ...i18n import current_locale, format_won
from ...mail.pooled import ask_bank_instructions, frequency_text
from ...models import BeneficiaryGroup, Category, Dong, LedgerTransaction, MatchOfferTerms, Pledge, PooledTerms
from ...payments.korean import billing_offered, kr_methods_offered
from ...services import matching as matching_service
from ...services.matching import MatchingError
from ...services import recurring as recurring_service
from ...services.needs import PersonalDataFound
from ...services.reference import current_district, reference_lists
from ..access import current_actor
from ..unit_of_work import unit_of_work
from . import bp
from ..form_tokens import FormTokenMixin, claim_form
from ..forms import ConfirmForm, WonField
from .forms import DISPLAY_CHOICES, KR_METHOD_CHOICES, PAYMENT_METHOD_CHOICES
from ..messages import MESSAGES, message_for, personal_data_messages

# --- words ------------------------------------------------------------------------------------



CRITERIA_WORDS = {
    (): _l("open to any need"),
    ("category",): _l("in your chosen category"),
    ("dong",): _l("in your chosen dong"),
    ("group",): _l("in your chosen group"),
    ("category", "dong"): _l("in your chosen category and dong"),
    ("category", "group"): _l("in your chosen category and group"),
    ("dong", "group"): _l("in your chosen dong and group"),
    ("category", "dong", "group"): _l("in your chosen category, dong and group"),
}

REASON_TEXTS = {
    REASON_COMPLETES_URGENT: _l("%(when)s, %(criteria)s; completes the need"),
    REASON_COMPLETES: _l("%(when)s, %(criteria)s; completes the need"),
    REASON_PARTIAL: _l("%(when)s, %(criteria)s; nothing could complete a need it fits, so it brings this one closer"),
    matching_service.REASON_OFFER: _l("Matches a resident's gift of %(gift)s at %(num)s:%(den)s"),
}


def _when(days: int) -> str:
    if days <= 0:
        return _("deadline today")
    if days == 1:
        return _("deadline tomorrow")
    return ngettext("deadline in %(num)s day", "deadline in %(num)s days", days)


def criteria_words(terms) -> str:
    chosen = tuple(word for word, values in (("category", terms.categories), ("dong", terms.dongs),
                                             ("group", terms.groups)) if values)
    return str(CRITERIA_WORDS[chosen])


def reason_text(reason_code: str, *, reason: str, days_left: int | None = None, terms=None,
                gift: int | None = None) -> str:
    """One line a donor can read, in their language; the engine's English line if the code is unknown."""
    text = REASON_TEXTS.get(reason_code)
    if text is None:
        return reason
    if reason_code == matching_service.REASON_OFFER:
        from ...i18n import format_won
        return str(text) % {"gift": format_won(gift or 0), "num": terms.ratio_num if terms else 1,
                            "den": terms.ratio_den if terms else 1}
    if days_left is None or terms is None:
        return reason
    return str(text) % {"when": _when(days_left), "criteria": criteria_words(terms)}


def _names(model, codes) -> list[str]:
    if not codes:
        return []
    locale = current_locale()
    return [row.name(locale) for row in db.session.scalars(select(model).where(model.code.in_(list(codes)))
                                                            .order_by(model.sort, model.id))]


def criteria_names(terms) -> dict[str, list[str]]:
    return {"categories": _names(Category, terms.categories), "dongs": _names(Dong, terms.dongs),
            "groups": _names(BeneficiaryGroup, terms.groups)}


# --- forms ------------------------------------------------------------------------------------

class CheckboxesField(SelectMultipleField):
    """A list of checkboxes (easier on a phone than a multi-select); none checked means any."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


REPEAT_CHOICES = [
    SelectChoice("once", _l("Once")),
    SelectChoice("monthly", _l("Every month (a new instalment on the same day each month)")),
    SelectChoice("quarterly", _l("Every quarter (a new instalment every three months)")),
]

END_CHOICES = [
    SelectChoice("refund", _l("Refund it to me")),
    SelectChoice("pool", _l("Move it to the district's pooled fund (나눔 기금)")),
]


class _CriteriaForm(FlaskForm):
    categories = CheckboxesField(_l("Categories"), choices=[], validators=[Optional()])
    dongs = CheckboxesField(_l("Dongs"), choices=[], validators=[Optional()])
    groups = CheckboxesField(_l("Beneficiary groups"), choices=[], validators=[Optional()])
    display = SelectField(_l("How should your gift be shown?"), choices=DISPLAY_CHOICES, default="anonymous")
    message = StringField(_l("A public message (optional; no personal details)"),
                          validators=[Optional(), Length(max=300)])
    # The service refuses an unknown method with its own words (validate_choice would say "Not a valid choice").
    method = SelectField(_l("How will you pay?"), choices=PAYMENT_METHOD_CHOICES + KR_METHOD_CHOICES, default="bank",
                         validate_choice=False)

    def fill_choices(self) -> None:
        dongs, categories, groups = reference_lists()
        locale = current_locale()
        self.categories.choices = [SelectChoice(c.code, c.name(locale)) for c in categories]
        self.dongs.choices = [SelectChoice(d.code, d.name(locale)) for d in dongs]
        self.groups.choices = [SelectChoice(g.code, g.name(locale)) for g in groups]
        if current_user.organisation is None:
            self.display.choices = [c for c in self.display.choices if c.value != "organisation"]
        if not card_offered():
            self.method.choices = [c for c in self.method.choices if c.value != "card"]
        offered = kr_methods_offered(current_app.config)
        self.method.choices = [c for c in self.method.choices if not c.value.startswith("kr_") or c.value[3:] in offered]

    def pledge_method(self) -> str:
        """The pledge's method: a PortOne choice (kr_card, kr_easy_pay, kr_virtual_account) is 'portone'."""
        method = self.method.data or "bank"
        return "portone" if method.startswith("kr_") else method

    def card_refused(self) -> bool:
        """The donor chose card where the site offers none: say so on the field."""
        if self.method.data == "card" and not card_offered():
            self.method.errors = list(self.method.errors) + [str(MESSAGES["card_unavailable"])]
            return True
        return False

    def criteria(self) -> matching_service.CriteriaInput:
        return matching_service.CriteriaInput(tuple(self.categories.data or ()), tuple(self.dongs.data or ()),
                                              tuple(self.groups.data or ()))


class PooledForm(FormTokenMixin, _CriteriaForm):
    amount = WonField(_l("Amount in won (at least 1,000 won)"))
    cap_won = WonField(_l("At most this many won for any one need"))
    cap_percent = IntegerField(_l("Or at most this percent of any one need's target"),
                               validators=[Optional(), NumberRange(min=1, max=100)])
    repeat = SelectField(_l("How often do you give this amount?"), choices=REPEAT_CHOICES, default="once",
                         validate_choice=False)
    ends_on = DateField(_l("Last day (optional)"), validators=[Optional()])
    on_end = SelectField(_l("When the pledge ends, money not yet placed should"), choices=END_CHOICES,
                         default="refund")


class OfferForm(FormTokenMixin, _CriteriaForm):
    amount = WonField(_l("The most you add in total, in won (your cap)"))
    ratio_num = IntegerField(_l("We add this many won"), default=1, validators=[InputRequired(), NumberRange(min=1)])
    ratio_den = IntegerField(_l("for every this many won residents give"), default=1,
                             validators=[InputRequired(), NumberRange(min=1)])
    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day"), validators=[InputRequired()])
    on_end = SelectField(_l("When the offer ends, money not yet added should"), choices=END_CHOICES,
                         default="refund")


FIELD_FOR_CODE = {
    "criteria_unknown": "categories", "cap_invalid": "cap_won", "cap_one_kind": "cap_won", "ends_in_past": "ends_on",
    "on_end_invalid": "on_end", "ratio_invalid": "ratio_num", "period_invalid": "ends_on", "no_organisation": "display",
    "method_invalid": "method", "kr_not_recurring": "method", "repeat_invalid": "repeat", "series_ends_before_second": "ends_on",
}


def card_offered() -> bool:
    return payments.card_available(current_app.config)


def _refused(form, error) -> None:
    if isinstance(error, PersonalDataFound):
        form.message.errors.extend(personal_data_messages(error.findings))
        return
    target = getattr(form, FIELD_FOR_CODE.get(getattr(error, "code", ""), "amount"), form.amount)
    target.errors = list(target.errors) + [message_for(error)]


# --- pooled pledges ---------------------------------------------------------------------------

def _own(pledge_id: int, kind: str) -> Pledge:
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.donor_id != current_user.id or pledge.kind != kind:
        abort(404)
    return pledge


def _ask_instructions(created: Pledge) -> None:
    """A bank pledge gets its instructions by mail, asked for in the transaction that makes it (a card or
    PortOne pledge goes on to its payment window instead)."""
    if created.method not in ("card", "portone"):
        ask_bank_instructions(created.id, str(get_locale()))


def _made(created: Pledge, detail_endpoint: str, thanks: str, kr_pay_method: str = "card"):
    """After the commit: a card pledge goes on to the checkout, a PortOne one to its payment window; a bank
    one is shown with its reference."""
    if created.method == "card":
        return redirect(url_for("donor.card_checkout", pledge_id=created.id), 303)
    if created.method == "portone":
        return redirect(url_for("donor.kr_pay", pledge_id=created.id, pay_method=kr_pay_method), 303)
    flash(thanks, "success")
    return redirect(url_for(detail_endpoint, pledge_id=created.id), 303)


@bp.route("/pooled/new", methods=["GET", "POST"])
def pooled_new():
    form = PooledForm()
    form.fill_choices()
    if form.validate_on_submit() and not form.card_refused():
        claim, sent_before = claim_form(form, "pooled", lambda pledge_id: url_for("donor.pooled_detail",
                                                                               pledge_id=pledge_id))
        if sent_before:
            return sent_before
        request_ = matching_service.PooledRequest(
            amount=form.amount.data, criteria=form.criteria(), cap_won=form.cap_won.data,
            cap_percent=form.cap_percent.data, ends_on=form.ends_on.data, display=form.display.data,
            message=form.message.data or "", on_end=form.on_end.data, method=form.pledge_method())
        repeat = form.repeat.data or "once"
        with unit_of_work(flash_refusal=False) as work:
            # A recurring pledge through PortOne is charged by card billing key (정기결제): a Korean card only.
            billing = billing_offered(current_app.config) and form.method.data == "kr_card"
            if repeat != "once" and request_.method == "portone" and not billing:
                raise MatchingError("kr_not_recurring")
            if repeat == "once":
                created = matching_service.create_pooled_pledge(current_actor(), request_, seoul_today())
            else:
                created = recurring_service.create_series(current_actor(), request_, repeat, seoul_today(),
                                                          billing=billing)
            claim.made(created.id)
            _ask_instructions(created)
        if not work.ok:
            _refused(form, work.error)
        else:
            thanks = (_("Thank you! Your pooled pledge is made. Please transfer the money with the reference code "
                        "below.") if repeat == "once" else
                      _("Thank you! Your recurring pooled pledge is made, %(frequency)s. Please transfer this first "
                        "instalment with the reference code below.", frequency=frequency_text(repeat)))
            if repeat != "once" and created.method == "portone":
                return redirect(url_for("donor.kr_billing", pledge_id=created.id), 303)
            return _made(created, "donor.pooled_detail", thanks, kr_pay_method=(form.method.data or "")[3:])
    return render_template("donor/pooled_form.html", form=form, card_on=card_offered())


def _allocations(pledge: Pledge, terms) -> list[dict]:
    return [{"item": a, "reason": reason_text(a.reason_code, reason=a.reason, days_left=a.days_left, terms=terms,
                                              gift=a.gift_amount)}
            for a in matching_service.allocations_of(pledge.id)]


@bp.get("/pooled/<id:pledge_id>")
def pooled_detail(pledge_id: int):
    pledge = _own(pledge_id, "pooled")
    terms = db.session.get(PooledTerms, pledge.id)
    preview = []
    if pledge.owed and terms.ended_at is None:
        preview = matching_service.preview_unpaid(pledge)
    series = recurring_service.summary(terms.series_id, seoul_today()) if terms.series_id is not None else None
    return render_template("donor/pooled.html", pledge=pledge, terms=terms, names=criteria_names(terms),
                           money=matching_service.money_of(pledge), allocations=_allocations(pledge, terms),
                           preview=preview, preview_words=criteria_words(terms), district=current_district(),
                           journal=_journal(pledge), form=ConfirmForm(), series=series, card_on=card_offered())


def _journal(pledge: Pledge):
    return db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.pledge_id == pledge.id)
                              .order_by(LedgerTransaction.id)).all()


def _act(pledge_id: int, kind: str, action, done: str, endpoint: str):
    """Money owed back on card-paid pledges goes back to the card, and the card pages of the pledges
    the action ended are closed, once the response is made (web/unit_of_work.py)."""
    _own(pledge_id, kind)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work(done):
        action()
    return redirect(url_for(endpoint, pledge_id=pledge_id), 303)


@bp.post("/pooled/<id:pledge_id>/pause")
def pooled_pause(pledge_id: int):
    return _act(pledge_id, "pooled", lambda: matching_service.set_paused(current_actor(), pledge_id, True),
                _("Paused: nothing more is placed until you resume."), "donor.pooled_detail")


@bp.post("/pooled/<id:pledge_id>/resume")
def pooled_resume(pledge_id: int):
    return _act(pledge_id, "pooled", lambda: matching_service.set_paused(current_actor(), pledge_id, False),
                _("Resumed: the matching engine places your money again."), "donor.pooled_detail")


@bp.post("/pooled/<id:pledge_id>/end")
def pooled_end(pledge_id: int):
    return _act(pledge_id, "pooled", lambda: matching_service.end_pledge(current_actor(), pledge_id),
                _("Ended: money not yet placed follows your choice."), "donor.pooled_detail")


@bp.get("/pooled/<id:pledge_id>/end")
def pooled_end_confirm(pledge_id: int):
    return _confirm_end(_own(pledge_id, "pooled"), PooledTerms, "donor.pooled_end", "donor.pooled_detail",
                        _("End this pooled pledge?"), _("From now on nothing more is placed from it."))


def _confirm_end(pledge: Pledge, model, action: str, detail: str, question: str, effect: str):
    """One question before a pooled pledge or match offer ends for good: what happens to its money."""
    terms = db.session.get(model, pledge.id)
    if terms.ended_at is not None or pledge.status in ("cancelled", "closed"):
        return redirect(url_for(detail, pledge_id=pledge.id))
    unplaced = matching_service.money_of(pledge).unplaced
    consequence = effect
    if unplaced > 0:
        amount = format_won(unplaced)
        consequence += " " + (_("The money not yet placed, %(amount)s, is refunded to you.", amount=amount)
                              if pledge.on_cancel == "refund" else
                              _("The money not yet placed, %(amount)s, is moved to the district's pooled fund.",
                                amount=amount))
    return render_template("donor/confirm.html", pledge=pledge, form=ConfirmForm(), question=question,
                           consequence=consequence, confirm_label=_("Yes, end it"),
                           action=url_for(action, pledge_id=pledge.id), back=url_for(detail, pledge_id=pledge.id))


@bp.post("/pooled/<id:pledge_id>/series/stop")
def pooled_series_stop(pledge_id: int):
    """Stop the series this instalment belongs to: no more instalments; unpaid ones are cancelled."""
    _own(pledge_id, "pooled")
    series_id = db.session.scalar(select(PooledTerms.series_id).where(PooledTerms.pledge_id == pledge_id))
    if series_id is None:
        abort(404)
    return _act(pledge_id, "pooled", lambda: recurring_service.stop_series(current_actor(), series_id),
                _("Stopped: no more instalments will be made. Money already received keeps being placed."),
                "donor.pooled_detail")


# --- match offers -----------------------------------------------------------------------------

@bp.route("/offers/new", methods=["GET", "POST"])
def offer_new():
    form = OfferForm()
    form.fill_choices()
    if not form.is_submitted():
        today = seoul_today()
        form.starts_on.data = today
        if current_user.organisation is not None:
            form.display.data = "organisation"
    if form.validate_on_submit() and not form.card_refused():
        claim, sent_before = claim_form(form, "offer", lambda pledge_id: url_for("donor.offer_detail",
                                                                              pledge_id=pledge_id))
        if sent_before:
            return sent_before
        request_ = matching_service.OfferRequest(
            amount=form.amount.data, ratio_num=form.ratio_num.data, ratio_den=form.ratio_den.data,
            criteria=form.criteria(), starts_on=form.starts_on.data, ends_on=form.ends_on.data,
            display=form.display.data, message=form.message.data or "", on_end=form.on_end.data,
            method=form.pledge_method())
        with unit_of_work(flash_refusal=False) as work:
            created = matching_service.create_match_offer(current_actor(), request_, seoul_today())
            claim.made(created.id)
            _ask_instructions(created)
        if not work.ok:
            _refused(form, work.error)
        else:
            return _made(created, "donor.offer_detail",
                         _("Thank you! Your match offer is made. Please transfer the money with the reference code "
                           "below."), kr_pay_method=(form.method.data or "")[3:])
    return render_template("donor/offer_form.html", form=form, card_on=card_offered())


@bp.get("/offers/<id:pledge_id>")
def offer_detail(pledge_id: int):
    pledge = _own(pledge_id, "match")
    terms = db.session.get(MatchOfferTerms, pledge.id)
    return render_template("donor/offer.html", pledge=pledge, terms=terms, names=criteria_names(terms),
                           money=matching_service.money_of(pledge), summary=matching_service.offer_summary(pledge.id),
                           allocations=_allocations(pledge, terms), district=current_district(), form=ConfirmForm(),
                           card_on=card_offered())


@bp.get("/offers/<id:pledge_id>/end")
def offer_end_confirm(pledge_id: int):
    return _confirm_end(_own(pledge_id, "match"), MatchOfferTerms, "donor.offer_end", "donor.offer_detail",
                        _("End this match offer?"), _("From now on no more gifts are matched from it."))


@bp.post("/offers/<id:pledge_id>/end")
def offer_end(pledge_id: int):
    return _act(pledge_id, "match", lambda: matching_service.end_pledge(current_actor(), pledge_id),
                _("Ended: money not yet added follows your choice."), "donor.offer_detail")
