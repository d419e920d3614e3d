"""Logging in and out, registering as a donor (confirmed by mail), changing a password, resetting a forgotten one."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (current_app, flash, make_response, redirect, render_template, request, session,
                   url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ...mail.accounts import ask_already_registered, ask_confirmation, ask_reset_link
from ...services import accounts
from ...services.accounts import AccountError
from ..access import client_address, login_required
from ..caching import no_store
from .forms import LoginForm, PasswordChangeForm, PasswordResetForm, PasswordResetRequestForm, RegisterForm
from ..messages import message_for

from ..unit_of_work import commit, unit_of_work
from . import bp


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no '//' or '\\' tricks."""
    if not target:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_for(user) -> str:
    if user.is_staff:
        return url_for("staff.dashboard")
    return url_for("donor.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        cfg = current_app.config
        with unit_of_work(flash_refusal=False) as work:
            attempt_id = accounts.start_login(
                form.email.data, client_address(),
                max_per_account=cfg["KINDCITY_LOGIN_MAX_FAILURES_PER_ACCOUNT"],
                max_per_address=cfg["KINDCITY_LOGIN_MAX_FAILURES_PER_ADDRESS"],
                window_minutes=cfg["KINDCITY_LOGIN_WINDOW_MINUTES"]).id
            commit()  # the attempt counts for every worker before the password is checked
            user = accounts.finish_login(attempt_id, form.password.data)
        error = work.error
        if error is not None:
            if error.code == "email_unconfirmed":  # the right password: send the confirmation link again
                with unit_of_work():
                    ask_confirmation(accounts.find_user_by_email(error.details["email"]).id, str(get_locale()))
            form.password.errors.append(work.message)
            status = 429 if error.code == "login_rate_limited" else 200
            return render_template("auth/login.html", form=form), status
        session.clear()  # a fresh session on login: no fixation
        login_user(user, remember=form.remember.data)
        flash(_("Welcome, %(name)s.", name=user.display_name), "success")
        return redirect(safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    with unit_of_work():
        accounts.end_sessions(current_user._get_current_object())  # every copy of this login, on every device
    logout_user()
    session.clear()
    flash(_("You have logged out, on this device and on every other."), "info")
    return redirect(url_for("public.home"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        kind = form.organisation_kind.data or None
        if kind and not (form.organisation_name.data or "").strip():
            form.organisation_name.errors.append(_("Please give the organisation's name."))
            return render_template("auth/register.html", form=form)
        cfg = current_app.config
        with unit_of_work(flash_refusal=False) as work:
            registration = accounts.register_donor(
                email=form.email.data, password=form.password.data, display_name=form.display_name.data,
                address=client_address(), organisation_name=(form.organisation_name.data if kind else None),
                organisation_kind=kind, business_number=form.business_number.data,
                max_mail_per_email=cfg["KINDCITY_PASSWORD_RESET_MAX_PER_EMAIL"],
                max_mail_per_address=cfg["KINDCITY_PASSWORD_RESET_MAX_PER_ADDRESS"])
            if registration.created:
                ask_confirmation(registration.user.id, str(get_locale()))
            elif registration.notify_owner:
                ask_already_registered(registration.user.id, str(get_locale()))
        error = work.error
        if error is not None:
            field = {"email_invalid": form.email,
                     "business_number_invalid": form.business_number,
                     "business_number_taken": form.business_number,
                     "business_number_required": form.business_number,
                     "organisation_kind_invalid": form.organisation_kind}.get(error.code, form.password)
            field.errors.append(work.message)
            return render_template("auth/register.html", form=form)
        # The same answer whether or not the address had an account: nobody learns who is registered.
        flash(_("Thank you. We have sent a mail to %(email)s: open the link in it to confirm your address, "
                "then log in. If no mail arrives, look in the spam folder.", email=form.email.data.strip()),
              "info")
        return redirect(url_for("auth.login"), 303)
    return render_template("auth/register.html", form=form)


@bp.get("/confirm/<token>")
def confirm_email(token: str):
    """The link mailed to a new account: it confirms the address; the owner then logs in with the password
    chosen at registration (the link alone logs nobody in)."""
    with unit_of_work(flash_refusal=False) as work:
        accounts.confirm_email(token, current_app.config["SECRET_KEY"], client_address())
    if work.error is not None:
        if work.error.code != "confirm_link_used":
            page = render_template("auth/confirm_problem.html", problem=work.message)
            return no_store(make_response(page, 400))
        flash(work.message, "info")
    else:
        flash(_("Your e-mail address is confirmed and your account is ready. Please log in."), "success")
    return no_store(redirect(url_for("auth.login"), 303))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            accounts.change_password(current_user, form.current.data, form.new.data, client_address())
        if work.error is not None:
            (form.current if work.error.code == "current_password_wrong" else form.new).errors.append(work.message)
            return render_template("auth/password.html", form=form)
        login_user(current_user._get_current_object())  # this session goes on with the new session version
        flash(_("Your password has been changed. Other devices are logged out."), "success")
        return redirect(home_for(current_user))
    return render_template("auth/password.html", form=form)


# --- a forgotten password ----------------------------------------------------------------------

@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    if current_user.is_authenticated:
        return redirect(url_for("auth.password"))
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        cfg = current_app.config
        with unit_of_work(flash_refusal=False) as work:
            user = accounts.request_password_reset(
                form.email.data, client_address(), max_per_email=cfg["KINDCITY_PASSWORD_RESET_MAX_PER_EMAIL"],
                max_per_address=cfg["KINDCITY_PASSWORD_RESET_MAX_PER_ADDRESS"])
            if user is not None:
                ask_reset_link(user.id, str(get_locale()))
        if work.error is not None:
            form.email.errors.append(work.message)
            return render_template("auth/reset_request.html", form=form), 429
        # The same answer whether or not the address has an account: nobody learns who is registered.
        flash(_("If an account uses %(email)s, we have sent it a link to set a new password. It works for "
                "%(minutes)s minutes. If no mail arrives, look in the spam folder, or ask again.",
                email=form.email.data.strip(), minutes=cfg["KINDCITY_PASSWORD_RESET_MINUTES"]), "info")
        return redirect(url_for("auth.login"), 303)
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    cfg = current_app.config
    secret, minutes = cfg["SECRET_KEY"], cfg["KINDCITY_PASSWORD_RESET_MINUTES"]
    form = PasswordResetForm()
    problem = None
    try:
        accounts.user_for_reset_token(token, secret, minutes)
    except AccountError as error:
        problem = message_for(error)
    if problem is None and form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            user = accounts.reset_password(token, form.new.data, secret, minutes, client_address())
        if work.error is not None:
            form.new.errors.append(work.message)
        else:
            logout_user()
            session.clear()
            login_user(user)
            flash(_("Your new password is set, and you are logged in. Other devices are logged out."), "success")
            return redirect(home_for(user), 303)
    response = make_response(render_template("auth/reset_password.html", form=form, problem=problem),
                             400 if problem else 200)
    return no_store(response)  # the page's address holds the token
