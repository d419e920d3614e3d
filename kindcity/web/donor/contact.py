"""How a donor hears from the site (/me/contact): mail, text or both, and their mobile number, verified
once with a code sent by text. The number is shown masked; the page is never stored by a browser."""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice

from ...domain.texts import Channel, TextRuleError, mask_phone
from ...services import contact as contact_service
from ..access import current_actor
from ..unit_of_work import unit_of_work
from ..caching import no_store
from . import bp
from ..messages import message_for

CHANNEL_LABELS = {Channel.EMAIL.value: _l("By e-mail"), Channel.TEXT.value: _l("By text message"),
                  Channel.BOTH.value: _l("By e-mail and by text")}


class PhoneForm(FlaskForm):
    phone = StringField(_l("Mobile number"))


class CodeForm(FlaskForm):
    code = StringField(_l("The 6-digit code we texted you"))


class ChannelForm(FlaskForm):
    channel = RadioField(_l("How should we tell you about your pledges?"), validate_choice=False,
                         choices=[SelectChoice(value, label) for value, label in CHANNEL_LABELS.items()])


class ForgetForm(FlaskForm):
    pass


def _back():
    return redirect(url_for("donor.contact"), 303)


@bp.get("/contact")
def contact():
    item = contact_service.contact_of(current_user.id)
    channel_form = ChannelForm(prefix="channel", channel=item.channel if item else Channel.EMAIL.value)
    return no_store(make_response(render_template(
        "donor/contact.html", item=item, mask=mask_phone, labels=CHANNEL_LABELS, phone_form=PhoneForm(prefix="phone"),
        code_form=CodeForm(prefix="code"), channel_form=channel_form, forget_form=ForgetForm(prefix="forget"))))


@bp.post("/contact/phone")
def contact_phone():
    form = PhoneForm(prefix="phone")
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work(_("We sent a code by text. Please type it below within 10 minutes.")):
        contact_service.ask_code(current_actor(), form.phone.data or "")
    return _back()


@bp.post("/contact/code")
def contact_code():
    form = CodeForm(prefix="code")
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work() as work:  # a wrong try is counted, so the commit comes whatever the answer
        result = contact_service.verify(current_actor(), form.code.data or "")
    if not work.ok:
        pass
    elif result.ok:
        flash(_("Your number is verified. You can now choose to hear from us by text."), "success")
    else:
        flash(message_for(TextRuleError(result.code)), "error")
    return _back()


@bp.post("/contact/channel")
def contact_channel():
    form = ChannelForm(prefix="channel")
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work(_("Saved: this is how we will tell you about your pledges.")):
        contact_service.set_channel(current_actor(), form.channel.data or "")
    return _back()


@bp.post("/contact/forget")
def contact_forget():
    if not ForgetForm(prefix="forget").validate_on_submit():
        abort(400)
    with unit_of_work(_("Your number is removed. We will write to you by e-mail.")):
        contact_service.forget_phone(current_actor())
    return _back()
