"""Young people's accounts: registration on a phone, claiming a staff-made profile, password
reset, consent for optional extras; staff registering a young person and seeing their page."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from sqlalchemy import select

from ..audit.services import audited_page
from ..extensions import db
from ..formutil import options, saved_or_refused
from ..i18n import local_today
from ..nav import institution_link
from ..programme.models import District
from ..ratelimits import rate_limited
from . import youth_services
from .access import (
    can_issue_claim_code,
    can_see_roster,
    get_institution_or_403,
    get_youth_or_404,
    is_youth,
    require,
    signups_seen_by,
)
from .auth import fresh_session
from .forms import SimpleForm
from .models import ConsentKind, ConsentStatus, Gender, User, YouthProfile
from .services import AccountError
from .views import bp, safe_next
from .youth_forms import (
    MONTHS,
    AboutYouForm,
    ClaimForm,
    ConsentKindForm,
    ForgotPasswordForm,
    GuardianRequestForm,
    LoginDetailsForm,
    ResetPasswordForm,
    StaffYouthForm,
)

institution_link("accounts.youth_new", _l("Registrér en ung"), order=40, shown=can_see_roster)

CONSENT_LABELS = {ConsentKind.PHOTOS: _l("Billeder af mig"), ConsentKind.NEWSLETTER: _l("Nyhedsbrev på e-mail")}
_REGISTRATION = "registration"
#: where the registration returns to (a local path only: ``safe_next``)
_REGISTRATION_NEXT = "registration_next"


def _fill_choices(form) -> None:
    this_year = local_today().year
    form.birth_month.choices = options([(0, _("Vælg måned"))] + [(i + 1, str(m)) for i, m in enumerate(MONTHS)])
    years = range(this_year - youth_services.MIN_AGE, this_year - youth_services.MAX_AGE - 1, -1)
    form.birth_year.choices = options([(0, _("Vælg år"))] + [(y, str(y)) for y in years])
    form.gender.choices = options([("", _("Vælg (frivilligt)"))] + [(g.value, g.label) for g in Gender if g != Gender.UOPLYST])
    districts = db.session.scalars(select(District).order_by(District.name)).all()
    # no preset: a district chosen for the young person would bias the local reach
    form.home_district_id.choices = options(
        [("", _("Vælg"))] + [(d.id, d.name) for d in districts] + [(0, _("Et andet sted i København eller udenfor"))]
    )


def _profile_values(form) -> dict:
    return {
        "first_name": form.first_name.data,
        "last_name": form.last_name.data,
        "birth_year": form.birth_year.data,
        "birth_month": form.birth_month.data,
        "gender": form.gender.data or None,
        "home_district_id": form.home_district_id.data,  # 0: somewhere else (kept, so "Tilbage" shows it)
    }


def _check_birth(form) -> bool:
    try:
        youth_services.check_birth(form.birth_year.data or 0, form.birth_month.data or 0)
    except AccountError as err:
        (form.birth_month if err.code == "birth_month_invalid" else form.birth_year).errors.append(err.message)
        return False
    return True


def _fresh_login(user, *, remember: bool) -> None:
    fresh_session()
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Registration, screen 1 of 2: about you."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    after = safe_next(request.args.get("next"))
    if after:
        session[_REGISTRATION_NEXT] = after
    draft = youth_services.registration_draft(session.get(_REGISTRATION)) if request.method == "GET" else None
    form = AboutYouForm(data=draft)
    _fill_choices(form)
    if form.validate_on_submit() and _check_birth(form):
        # the answers stay on the server; the (signed, readable) cookie holds only a random key
        session[_REGISTRATION] = youth_services.save_registration_draft(_profile_values(form), session.get(_REGISTRATION))
        db.session.commit()
        return redirect(url_for("accounts.register_login"))
    return render_template("accounts/register.html", form=form, step=1)


@bp.route("/register/login", methods=["GET", "POST"])
@rate_limited("registration")
def register_login():
    """Registration, screen 2 of 2: e-mail and password, after the privacy notice; then a mail to confirm.

    The answer is the same whether or not the e-mail has an account: what differs is the mail.
    """
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    profile = youth_services.registration_draft(session.get(_REGISTRATION))
    if not profile:
        return redirect(url_for("accounts.register"))
    form = LoginDetailsForm()
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.password) as saved:
            youth_services.request_registration(
                profile, email=form.email.data, password=form.password.data, locale=session.get("lang", "da"),
                next_path=safe_next(session.get(_REGISTRATION_NEXT)),
            )
        if saved.ok:
            # screen 1's answers stay (until they expire) so a mistyped address can be corrected
            return render_template("accounts/register_sent.html", email=form.email.data.strip(), step=3)
    return render_template("accounts/register_login.html", form=form, step=2, first_name=profile["first_name"])


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
@rate_limited("link")
def register_confirm(token: str):
    """The link in the registration mail: one tap makes the account and logs in.

    A button, not the link itself, makes it: mail scanners open links before the person does.
    """
    answers = youth_services.registration_to_confirm(token)
    if answers is None:
        return render_template("accounts/token_invalid.html", purpose="registration"), 404
    form = SimpleForm()
    if form.validate_on_submit():
        with saved_or_refused() as saved:
            youth, after = youth_services.confirm_registration(token)
            youth_services.finish_registration_draft(session.get(_REGISTRATION))
        if saved.ok:
            _fresh_login(youth.user, remember=True)
            flash(_("Velkommen, %(name)s! Din konto er klar.", name=youth.first_name), "success")
            return redirect(safe_next(after) or url_for("main.home"))
        return render_template("accounts/token_invalid.html", purpose="registration"), 409
    return render_template("accounts/register_confirm.html", form=form, first_name=answers["first_name"])


@bp.route("/claim", methods=["GET", "POST"])
@rate_limited("registration")
def claim():
    """A young person registered by staff attaches a login with the code they were given."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = ClaimForm()
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.password,
                              fields={"invalid_code": form.code, "token_used": form.code, "email_taken": form.email}) as saved:
            youth = youth_services.claim_profile(
                form.code.data, form.email.data, form.password.data, locale=session.get("lang", "da")
            )
        if saved.ok:
            _fresh_login(youth.user, remember=True)
            flash(_("Velkommen, %(name)s! Nu kan du logge ind selv.", name=youth.first_name), "success")
            return redirect(url_for("main.home"))
    return render_template("accounts/claim.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@rate_limited("password_reset")
def password_forgot():
    """Ask for a reset link. The answer is the same whether or not the e-mail is registered."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        youth_services.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("Hvis e-mailen har en konto hos os, har vi sendt et link. Tjek din indbakke (og spam)."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/password_forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@rate_limited("link")
def password_reset(token: str):
    """Choose a new password through the e-mailed link (single use, expires)."""
    link = youth_services.find_token(youth_services.TokenPurpose.PASSWORD_RESET, token)
    if link is None:
        return render_template("accounts/token_invalid.html"), 404
    # an invited colleague chooses their first password with the same kind of link
    first_time = link.user_id is not None and db.session.get_one(User, link.user_id).password_hash is None
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.password) as saved:
            youth_services.reset_password(token, form.password.data)
        if saved.ok:
            flash(_("Din adgangskode er gemt. Log ind med den.") if first_time
                  else _("Din adgangskode er skiftet. Log ind med den nye."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/password_reset.html", form=form, first_time=first_time)


# -- staff: young people without e-mail ----------------------------------------------------


@bp.route("/institutions/<int:institution_id>/youths/new", methods=["GET", "POST"])
@login_required
def youth_new(institution_id: int):
    """Staff register a young person who has no e-mail or phone; they get a one-time claim code."""
    institution = get_institution_or_403(institution_id)
    if not can_see_roster(current_user, institution.id):
        abort(403)
    form = StaffYouthForm()
    _fill_choices(form)
    form.home_district_id.label.text = _("Bor i")
    matches = None
    if form.validate_on_submit() and _check_birth(form):
        values = _profile_values(form)
        if not form.create_anyway.data:
            matches = youth_services.possible_duplicates(
                current_user, first_name=values["first_name"], birth_year=values["birth_year"],
                birth_month=values["birth_month"], contact=form.contact.data,
            )
        if not matches:
            youth, code = youth_services.register_youth_by_staff(
                institution, **values, contact=form.contact.data, by_user=current_user
            )
            db.session.commit()
            flash(_("%(name)s er registreret.", name=youth.display_name), "success")
            return render_template("accounts/youth_created.html", youth=youth, code=code, institution=institution)
    registered = db.session.scalars(
        select(YouthProfile)
        .where(YouthProfile.registered_by_institution_id == institution.id, YouthProfile.anonymised_at.is_(None))
        .order_by(YouthProfile.created_at.desc())
        .limit(100)
    ).all()
    html = render_template("accounts/youth_new.html", form=form, institution=institution, registered=registered,
                           matches=matches)
    return audited_page("roster.view", institution, html, page="registered")


@bp.app_template_global("may_issue_claim_code")
def may_issue_claim_code_global(youth) -> bool:
    """Templates: whether to offer a new claim code for this profile."""
    return can_issue_claim_code(current_user, youth)


@bp.app_template_global("youth_details")
def youth_details_global(youth, day=None):
    """Templates: what tells this young person from another of the same name, as the viewer may see it."""
    return youth_services.youth_details(youth, current_user, day)


@bp.route("/youths/<int:youth_id>")
@login_required
def youth(youth_id: int):
    """Staff: a young person's page (pass card and claim code live here)."""
    youth = get_youth_or_404(youth_id)
    signups = signups_seen_by(current_user, youth)
    html = render_template(
        "accounts/youth.html", youth=youth, signups=signups, simple=SimpleForm()
    )
    return audited_page("youth.view", youth, html)


@bp.route("/youths/<int:youth_id>/claim-code", methods=["POST"])
@login_required
def youth_claim_code(youth_id: int):
    """Staff of the registering institution print a new claim code; the old one stops working."""
    youth = get_youth_or_404(youth_id)
    if not can_issue_claim_code(current_user, youth):
        abort(403)
    if not SimpleForm().validate_on_submit():
        abort(400)
    with saved_or_refused() as saved:
        code = youth_services.issue_claim_code(youth)
    if not saved.ok:
        return redirect(url_for("accounts.youth", youth_id=youth.id))
    return render_template("accounts/youth_created.html", youth=youth, code=code, institution=None)


# -- consent for optional extras --------------------------------------------------------------


@bp.route("/me/consents", methods=["GET", "POST"])
@require(is_youth)
def consents():
    """Optional extras (photos, newsletter): off until the young person, or a guardian under 15, says yes."""
    youth = current_user.youth_profile
    kind_choices = options((k.value, str(CONSENT_LABELS[k])) for k in ConsentKind)
    guardian_form = GuardianRequestForm(prefix="g")
    guardian_form.kind.choices = kind_choices
    own_form = ConsentKindForm(prefix="o")
    own_form.kind.choices = kind_choices
    needs_guardian = youth_services.needs_guardian(youth)
    if request.method == "POST":
        try:
            if needs_guardian and guardian_form.validate_on_submit():
                youth_services.request_guardian_consent(youth, ConsentKind(guardian_form.kind.data),
                                                        guardian_form.guardian_email.data)
                message = _("Vi har sendt en mail til din forælder. Det bliver slået til, når de siger ja.")
            elif not needs_guardian and own_form.validate_on_submit():
                youth_services.give_own_consent(youth, ConsentKind(own_form.kind.data))
                message = _("Det er slået til.")
            else:
                message = None
        except AccountError as err:
            db.session.rollback()
            guardian_form.guardian_email.errors.append(err.message)
        else:
            if message:
                db.session.commit()
                flash(message, "success")
                return redirect(url_for("accounts.consents"))
    records = {kind: youth_services.current_consent(youth, kind) for kind in ConsentKind}
    return render_template(
        "accounts/consents.html", records=records, labels=CONSENT_LABELS, needs_guardian=needs_guardian,
        guardian_form=guardian_form, own_form=own_form, simple=SimpleForm(), statuses=ConsentStatus,
    )


@bp.route("/me/consents/<kind>/withdraw", methods=["POST"])
@require(is_youth)
def consent_withdraw(kind: str):
    """Turn an extra off again."""
    try:
        kind = ConsentKind(kind)
    except ValueError:
        abort(404)
    if SimpleForm().validate_on_submit():
        youth_services.withdraw_consent(current_user.youth_profile, kind)
        db.session.commit()
        flash(_("Det er slået fra."), "success")
    return redirect(url_for("accounts.consents"))


@bp.route("/consent/<token>", methods=["GET", "POST"])
def guardian_consent(token: str):
    """A guardian reads what the extra means and confirms through the e-mailed link."""
    record = youth_services.consent_for_token(token)
    if record is None:
        return render_template("accounts/token_invalid.html", purpose="consent"), 404
    youth = db.session.get(YouthProfile, record.youth_id)
    form = SimpleForm()
    if form.validate_on_submit():
        youth_services.confirm_guardian_consent(token)
        db.session.commit()
        return render_template("accounts/guardian_consent_done.html", youth=youth, label=CONSENT_LABELS[record.kind])
    return render_template(
        "accounts/guardian_consent.html", record=record, youth=youth, label=CONSENT_LABELS[record.kind], form=form,
        notice_version=youth_services.CONSENT_NOTICE_VERSION,
    )
